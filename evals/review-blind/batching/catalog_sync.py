"""Catalog sync jobs: price imports, order pages, stock lookups and change notifications."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import TypeVar

import asyncpg
import boto3
import httpx
import psycopg
import redis
from botocore.config import Config
from kafka import KafkaProducer
from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, selectinload

from .models import Customer, Order, Price, Product

logger = logging.getLogger(__name__)

T = TypeVar("T")

pricing_http = httpx.Client(base_url="https://pricing.internal", timeout=httpx.Timeout(2.0, connect=0.5))
sqs = boto3.client("sqs", config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}))
stock_cache = redis.Redis(host="redis", socket_timeout=0.3, socket_connect_timeout=1)
producer = KafkaProducer(bootstrap_servers="kafka:9092", acks="all", linger_ms=20, batch_size=256 * 1024)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_prices_slow(session: Session, rows: list[dict]) -> None:
    with session.begin():
        for row in rows:
            session.execute(text("INSERT INTO prices (sku, cents) VALUES (:sku, :cents) ON CONFLICT (sku) DO UPDATE SET cents = excluded.cents"), row)  # expect: batching


def import_prices(session: Session, rows: list[dict], size: int = 1000) -> int:
    done = 0
    for chunk in chunked(sorted(rows, key=lambda r: r["sku"]), size):
        stmt = pg_insert(Price).values(chunk)
        stmt = stmt.on_conflict_do_update(index_elements=[Price.sku], set_={"cents": stmt.excluded.cents})
        with session.begin():
            session.execute(stmt)
        done += len(chunk)
    return done


def import_products(session: Session, products: list[dict]) -> None:
    for data in products:
        session.add(Product(sku=data["sku"], title=data["title"], brand=data["brand"]))
        session.commit()  # expect: batching, transactions


def import_products_bulk(session: Session, products: list[dict], size: int = 1000) -> None:
    for chunk in chunked(products, size):
        with session.begin():
            session.execute(insert(Product), chunk)


def deactivate_products(session: Session, skus: list[str]) -> None:
    with session.begin():
        for sku in skus:
            session.execute(update(Product).where(Product.sku == sku).values(active=False))  # expect: batching


def deactivate_products_bulk(session: Session, skus: list[str]) -> None:
    for chunk in chunked(sorted(skus), 500):
        with session.begin():
            session.execute(update(Product).where(Product.sku.in_(chunk)).values(active=False))


def order_page(session: Session, order_ids: list[int]) -> list[dict]:
    page = []
    for order_id in order_ids:
        order = session.get(Order, order_id)  # expect: batching
        page.append({"id": order.id, "status": order.status, "total_cents": order.total_cents})
    return page


def order_page_batched(session: Session, order_ids: list[int]) -> list[dict]:
    orders = session.scalars(select(Order).where(Order.id.in_(order_ids)).options(selectinload(Order.lines))).all()
    return [{"id": o.id, "status": o.status, "line_count": len(o.lines)} for o in orders]


def customer_order_counts(session: Session, customer_ids: list[int]) -> dict[int, int]:
    customers = session.scalars(select(Customer).where(Customer.id.in_(customer_ids))).all()
    counts = {}
    for customer in customers:
        counts[customer.id] = len(customer.orders)  # expect: batching
    return counts


def customer_order_counts_eager(session: Session, customer_ids: list[int]) -> dict[int, int]:
    customers = session.scalars(select(Customer).where(Customer.id.in_(customer_ids)).options(selectinload(Customer.orders))).all()
    counts = {}
    for customer in customers:
        counts[customer.id] = len(customer.orders)
    return counts


def archive_orders(conn: psycopg.Connection, order_ids: list[int]) -> None:
    with conn.cursor() as cur:
        for order_id in order_ids:
            cur.execute("UPDATE orders SET archived = true WHERE id = %s", (order_id,))  # expect: batching
    conn.commit()


def archive_orders_bulk(conn: psycopg.Connection, order_ids: list[int]) -> None:
    with conn.cursor() as cur:
        for chunk in chunked(sorted(order_ids), 1000):
            cur.execute("UPDATE orders SET archived = true WHERE id = ANY(%s)", (chunk,))
    conn.commit()


async def stock_for(conn: asyncpg.Connection, skus: list[str]) -> dict[str, int]:
    levels = {}
    for sku in skus:
        row = await conn.fetchrow("SELECT units FROM stock_levels WHERE sku = $1", sku)  # expect: batching
        levels[sku] = row["units"] if row else 0
    return levels


async def stock_for_batched(conn: asyncpg.Connection, skus: list[str]) -> dict[str, int]:
    rows = await conn.fetch("SELECT sku, units FROM stock_levels WHERE sku = ANY($1::text[])", skus)
    found = {r["sku"]: r["units"] for r in rows}
    return {sku: found.get(sku, 0) for sku in skus}


async def load_stock_snapshot(conn: asyncpg.Connection, records: list[tuple[str, int]]) -> None:
    async with conn.transaction():
        await conn.execute("TRUNCATE stock_snapshot")
        await conn.copy_records_to_table("stock_snapshot", records=records, columns=["sku", "units"])


def competitor_prices(skus: list[str]) -> dict[str, int]:
    prices = {}
    for sku in skus:
        resp = pricing_http.get(f"/competitors/{sku}")  # expect: batching
        resp.raise_for_status()
        prices[sku] = resp.json()["cents"]
    return prices


def competitor_prices_bulk(skus: list[str]) -> dict[str, int]:
    prices: dict[str, int] = {}
    for chunk in chunked(skus, 200):
        resp = pricing_http.post("/competitors/lookup", json={"skus": chunk})
        resp.raise_for_status()
        prices.update(resp.json()["cents"])
    return prices


def cached_stock(skus: list[str]) -> dict[str, int]:
    out = {}
    for sku in skus:
        raw = stock_cache.get(f"v1:stock:{sku}")  # expect: batching
        out[sku] = int(raw or 0)
    return out


def cached_stock_mget(skus: list[str]) -> dict[str, int]:
    values = stock_cache.mget([f"v1:stock:{sku}" for sku in skus])
    return {sku: int(v or 0) for sku, v in zip(skus, values)}


def notify_price_changes(queue_url: str, changes: list[dict]) -> None:
    for change in changes:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(change))  # expect: batching


def notify_price_changes_batched(queue_url: str, changes: list[dict]) -> None:
    for chunk in chunked(changes, 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps(c)} for i, c in enumerate(chunk)]
        resp = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        for failed in resp.get("Failed", []):
            logger.warning("price_change_enqueue_failed", extra={"code": failed["Code"], "entry_id": failed["Id"]})


def publish_catalog_events(events: list[dict]) -> None:
    for event in events:
        producer.send("catalog.changed", key=event["sku"].encode(), value=json.dumps(event).encode())
        producer.flush()  # expect: batching


def publish_catalog_events_batched(events: list[dict]) -> None:
    futures = [producer.send("catalog.changed", key=e["sku"].encode(), value=json.dumps(e).encode()) for e in events]
    producer.flush(timeout=10)
    for fut in futures:
        fut.get(timeout=1)


def summarize(rows: list[dict]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["brand"]] = totals.get(row["brand"], 0) + row["units"]
    return totals
