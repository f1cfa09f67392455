"""Broker sends, AWS calls and sleeps inside a transaction, and HTTP calls through clients known
by their parameter annotation, are flagged; the same calls after the commit are not."""

import asyncio
import json
import sqlite3

import boto3
import httpx
from kafka import KafkaProducer
from sqlalchemy.orm import Session

producer = KafkaProducer(bootstrap_servers="kafka:9092")
s3 = boto3.client("s3")


def place(session: Session, order: dict[str, object]) -> None:
    with session.begin():
        session.execute("INSERT INTO orders VALUES (:id)", order)
        producer.send("orders", json.dumps(order).encode())  # expect: transactions, outbox


def archive(session: Session, order_id: str, pdf: bytes) -> None:
    with session.begin():
        session.execute("UPDATE orders SET archived = true WHERE id = :id", {"id": order_id})
        s3.put_object(Bucket="invoices", Key=order_id, Body=pdf)  # expect: transactions


def archive_after(session: Session, order_id: str, pdf: bytes) -> None:
    with session.begin():
        session.execute("UPDATE orders SET archived = true WHERE id = :id", {"id": order_id})
    s3.put_object(Bucket="invoices", Key=order_id, Body=pdf)


def presign(session: Session, order_id: str) -> str:
    with session.begin():
        session.execute("UPDATE orders SET shared = true WHERE id = :id", {"id": order_id})
        return s3.generate_presigned_url("get_object", Params={"Key": order_id})


async def reserve(pool: object, http: httpx.AsyncClient, sku: str) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("UPDATE stock SET reserved = reserved + 1 WHERE sku = $1", sku)
            await http.post("https://wms.internal/reserve", json={"sku": sku})  # expect: transactions
            await asyncio.sleep(0.5)  # expect: transactions


def refund(db: sqlite3.Connection, psp: httpx.Client, refund_id: str) -> None:
    with db:
        db.execute("INSERT INTO refunds (id) VALUES (?)", (refund_id,))
        psp.post("/refunds", json={"id": refund_id})  # expect: transactions


def refund_after(db: sqlite3.Connection, psp: httpx.Client, refund_id: str) -> None:
    with db:
        db.execute("INSERT INTO refunds (id) VALUES (?)", (refund_id,))
    psp.post("/refunds", json={"id": refund_id})
