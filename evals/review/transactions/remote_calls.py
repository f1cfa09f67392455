"""Remote calls made while a database transaction is open, next to calls made outside it."""

import smtplib
import sqlite3
import urllib.request

import httpx
import requests
from django.db import transaction
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

PAYMENTS = httpx.Client(base_url="https://payments.internal", timeout=5.0)


def place_order(session: Session, order: dict) -> None:
    with session.begin():
        session.execute(text("INSERT INTO orders (id, total) VALUES (:id, :total)"), order)
        PAYMENTS.post("/charges", json={"order": order["id"]})  # expect: transactions


async def confirm(session: AsyncSession, client: httpx.AsyncClient, order_id: int) -> None:
    async with session.begin():
        await session.execute(text("UPDATE orders SET state = 'confirmed' WHERE id = :id"), {"id": order_id})
        await httpx.AsyncClient(timeout=5).post("/notify", json={"id": order_id})  # expect: transactions, pooling


def archive(engine: Engine, order_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM carts WHERE order_id = :id"), {"id": order_id})
        requests.post("https://archive.internal/orders", json={"id": order_id}, timeout=5)  # expect: transactions


@transaction.atomic
def register(user_form: dict) -> None:
    save_user(user_form)
    with smtplib.SMTP("mail.internal", 25, timeout=10) as smtp:  # expect: transactions
        smtp.send_message(build_welcome(user_form))  # expect: transactions


def record_visit(path: str, url: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO visits (url) VALUES (?)", (url,))
        urllib.request.urlopen("https://analytics.internal/hit", timeout=2)  # expect: transactions


def refund(order_id: int) -> None:
    with transaction.atomic():
        mark_refunded(order_id)
        httpx.post("https://payments.internal/refunds", json={"order": order_id})  # expect: transactions


# ---- clean look-alikes


def place_order_then_charge(session: Session, order: dict) -> None:
    with session.begin():
        session.execute(text("INSERT INTO orders (id, total) VALUES (:id, :total)"), order)
    PAYMENTS.post("/charges", json={"order": order["id"]})


def quote_then_store(session: Session, sku: str) -> None:
    price = PAYMENTS.get(f"/quotes/{sku}").json()["price"]
    with session.begin():
        session.execute(text("UPDATE products SET price = :p WHERE sku = :sku"), {"p": price, "sku": sku})


def read_settings(conn: sqlite3.Connection, cache: dict[str, str]) -> None:
    with conn:
        conn.execute("UPDATE settings SET value = ? WHERE key = 'mode'", (cache.get("mode"),))


def upload_with_client(client: httpx.Client, payload: bytes) -> None:
    with client.stream("POST", "/upload", content=payload) as response:
        response.raise_for_status()


def on_commit_hook(order_id: int) -> None:
    with transaction.atomic():
        mark_refunded(order_id)
        transaction.on_commit(lambda: httpx.post("https://payments.internal/refunds", json={"order": order_id}))


def save_user(form: dict) -> None: ...
def build_welcome(form: dict) -> str: ...
def mark_refunded(order_id: int) -> None: ...
