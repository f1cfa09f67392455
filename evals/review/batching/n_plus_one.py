"""Queries run once per item (N+1) next to batched equivalents."""

import sqlite3
from collections.abc import Iterable

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shop.models import Customer, Order, Product


def order_totals(session: Session, orders: list[Order]) -> dict[int, str]:
    names = {}
    for order in orders:
        customer = session.get(Customer, order.customer_id)  # expect: batching
        names[order.id] = customer.name
    return names


def save_events(conn: sqlite3.Connection, events: Iterable[dict]) -> None:
    cursor = conn.cursor()
    for event in events:
        cursor.execute(  # expect: batching
            "INSERT INTO events (kind, payload) VALUES (?, ?)", (event["kind"], event["payload"])
        )
    conn.commit()


async def load_prices(pool: asyncpg.Pool, skus: list[str]) -> dict[str, int]:
    prices = {}
    async with pool.acquire() as conn:
        for sku in skus:
            prices[sku] = await conn.fetchval("SELECT price FROM products WHERE sku = $1", sku)  # expect: batching
    return prices


def active_products(db: Session, product_ids: list[int]) -> list[Product]:
    return [db.query(Product).filter(Product.id == pid).first() for pid in product_ids]  # expect: batching


def orders_for(session: Session, customers: list[Customer]) -> list[Order]:
    found = []
    for customer in customers:
        customer_id = customer.id
        rows = session.execute(select(Order).where(Order.customer_id == customer_id))  # expect: batching
        found.extend(rows.scalars())
    return found


def mark_shipped(session: Session, order_ids: list[int]) -> None:
    for index, order_id in enumerate(order_ids):
        session.execute(  # expect: batching
            text("UPDATE orders SET status = 'shipped', position = :pos WHERE id = :id"),
            {"pos": index, "id": order_id},
        )


# ---- clean look-alikes


def order_totals_batched(session: Session, orders: list[Order]) -> dict[int, str]:
    ids = {order.customer_id for order in orders}
    customers = session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
    by_id = {customer.id: customer for customer in customers}
    return {order.id: by_id[order.customer_id].name for order in orders}


def save_events_batched(conn: sqlite3.Connection, events: list[dict]) -> None:
    conn.executemany(
        "INSERT INTO events (kind, payload) VALUES (?, ?)", [(e["kind"], e["payload"]) for e in events]
    )


def create_schema(conn: sqlite3.Connection, statements: list[str]) -> None:
    for statement in statements:
        conn.execute(statement)


def insert_in_chunks(session: Session, rows: list[dict], size: int = 500) -> None:
    for chunk in (rows[i : i + size] for i in range(0, len(rows), size)):
        session.execute(text("INSERT INTO audit (payload) VALUES (:payload)"), chunk)


def drain(conn: sqlite3.Connection) -> None:
    last_id = 0
    while True:
        rows = conn.execute("SELECT id FROM jobs WHERE id > ? LIMIT 100", (last_id,)).fetchall()
        if not rows:
            return
        last_id = rows[-1][0]


def first_names(people: dict[str, dict]) -> list[str]:
    return [people.get(key, {}).get("first", "") for key in people]


def rows_to_dicts(cursor: sqlite3.Cursor) -> list[dict]:
    for _ in range(3):
        cursor.execute("SELECT 1")
    return [dict(row) for row in cursor.execute("SELECT * FROM settings")]


async def consume(stream: "AsyncIterator[dict]", conn: asyncpg.Connection) -> None:
    async for message in stream:
        await conn.execute("INSERT INTO inbox (id) VALUES ($1)", message["id"])


def call_api(session: "requests.Session", items: list[str]) -> None:
    for item in items:
        session.get(API_URL, item)


API_URL = "https://api.internal/items"
