"""Checkout service layer and repositories: order placement, payment capture, refunds and fulfilment hand-off."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import uuid

import asyncpg
import boto3
import grpc
import httpx
import requests
from botocore.config import Config
from kafka import KafkaProducer
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from .fraud_pb2 import CheckRequest
from .fraud_pb2_grpc import FraudStub
from .models import Order, OutboxEvent, Payment, Refund

logger = logging.getLogger(__name__)

PSP_TIMEOUT = httpx.Timeout(5.0, connect=1.0)
psp = httpx.Client(base_url="https://psp.example.com", timeout=PSP_TIMEOUT)
fulfilment_session = requests.Session()
invoices_s3 = boto3.client("s3", config=Config(connect_timeout=2, read_timeout=5))
producer = KafkaProducer(bootstrap_servers="kafka:9092", acks="all")
fraud = FraudStub(grpc.secure_channel("fraud.internal:50051", grpc.ssl_channel_credentials()))


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_update(self, order_id: str) -> Order:
        return self.session.execute(select(Order).where(Order.id == order_id).with_for_update()).scalar_one()

    def add(self, order: Order) -> None:
        self.session.add(order)
        self.session.flush()

    def mark_shipped(self, order_id: str) -> None:
        self.session.execute(update(Order).where(Order.id == order_id).values(status="shipped"))
        self.session.commit()  # expect: transactions


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, payment: Payment) -> None:
        self.session.add(payment)


def capture_payment(session: Session, order_id: str) -> str:
    with session.begin():
        order = OrderRepository(session).get_for_update(order_id)
        resp = psp.post("/captures", json={"amount": order.total_cents, "reference": order_id}, headers={"Idempotency-Key": f"capture-{order_id}"})  # expect: transactions
        order.status = "paid" if resp.status_code == 201 else "payment_failed"
    return order.status


def capture_payment_two_phase(session: Session, order_id: str) -> str:
    with session.begin():
        order = OrderRepository(session).get_for_update(order_id)
        order.status = "capturing"
        amount = order.total_cents
    resp = psp.post("/captures", json={"amount": amount, "reference": order_id}, headers={"Idempotency-Key": f"capture-{order_id}"})
    outcome = "paid" if resp.status_code == 201 else "payment_failed"
    with session.begin():
        result = session.execute(update(Order).where(Order.id == order_id, Order.status == "capturing").values(status=outcome))
        if result.rowcount != 1:
            raise RuntimeError("order changed concurrently; the reconciler will settle it")
    return outcome


def request_fulfilment(session: Session, order_id: str) -> None:
    with session.begin():
        order = OrderRepository(session).get_for_update(order_id)
        order.status = "fulfilment_requested"
        fulfilment_session.post("https://wms.internal/fulfilments", json={"order_id": order_id}, timeout=(1, 3))  # expect: transactions


def place_order(session: Session, customer_id: int, total_cents: int) -> str:
    order_id = f"ord_{uuid.uuid4().hex}"
    with session.begin():
        OrderRepository(session).add(Order(id=order_id, customer_id=customer_id, total_cents=total_cents, status="placed"))
        session.add(OutboxEvent(event_id=str(uuid.uuid4()), aggregate_id=order_id, event_type="order.placed.v1", payload={"order_id": order_id, "total_cents": total_cents}))
    return order_id


def place_order_and_announce(session: Session, customer_id: int, total_cents: int) -> str:
    order_id = f"ord_{uuid.uuid4().hex}"
    with session.begin():
        OrderRepository(session).add(Order(id=order_id, customer_id=customer_id, total_cents=total_cents, status="placed"))
        producer.send("orders.placed", key=order_id.encode(), value=json.dumps({"order_id": order_id}).encode())  # expect: transactions, outbox
    return order_id


def screen_order(session: Session, order_id: str) -> bool:
    with session.begin():
        order = OrderRepository(session).get_for_update(order_id)
        verdict = fraud.Check(CheckRequest(order_id=order_id, amount_cents=order.total_cents), timeout=0.5)  # expect: transactions
        order.fraud_score = verdict.score
    return verdict.allowed


def screen_order_outside_tx(session: Session, order_id: str) -> bool:
    with session.begin():
        amount = session.execute(select(Order.total_cents).where(Order.id == order_id)).scalar_one()
    verdict = fraud.Check(CheckRequest(order_id=order_id, amount_cents=amount), timeout=0.5)
    with session.begin():
        session.execute(update(Order).where(Order.id == order_id).values(fraud_score=verdict.score))
    return verdict.allowed


def archive_invoice(session: Session, order_id: str, pdf: bytes) -> None:
    with session.begin():
        order = OrderRepository(session).get_for_update(order_id)
        invoices_s3.put_object(Bucket="invoices", Key=f"{order_id}.pdf", Body=pdf)  # expect: transactions
        order.invoice_key = f"{order_id}.pdf"


def settle_refunds(session: Session, refund_ids: list[str]) -> None:
    for refund_id in refund_ids:
        session.execute(update(Refund).where(Refund.id == refund_id).values(status="settled"))
        session.commit()  # expect: transactions, batching


def settle_refunds_bulk(session: Session, refund_ids: list[str]) -> None:
    with session.begin():
        session.execute(update(Refund).where(Refund.id.in_(sorted(refund_ids))).values(status="settled"))


async def reserve_stock(pool: asyncpg.Pool, http: httpx.AsyncClient, order_id: str, sku: str, units: int) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("UPDATE stock SET reserved = reserved + $1 WHERE sku = $2", units, sku)
            await http.post("https://wms.internal/reservations", json={"order_id": order_id, "sku": sku, "units": units})  # expect: transactions


async def reserve_stock_after_commit(pool: asyncpg.Pool, http: httpx.AsyncClient, order_id: str, sku: str, units: int) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("UPDATE stock SET reserved = reserved + $1 WHERE sku = $2", units, sku)
            await conn.execute("INSERT INTO pending_reservations (order_id, sku, units) VALUES ($1, $2, $3)", order_id, sku, units)
    await http.post("https://wms.internal/reservations", json={"order_id": order_id, "sku": sku, "units": units}, headers={"Idempotency-Key": f"reserve-{order_id}-{sku}"})


async def wait_for_stock(pool: asyncpg.Pool, sku: str, units: int) -> bool:
    async with pool.acquire() as conn:
        async with conn.transaction():
            for _ in range(5):
                available = await conn.fetchval("SELECT units - reserved FROM stock WHERE sku = $1 FOR UPDATE", sku)
                if available >= units:
                    await conn.execute("UPDATE stock SET reserved = reserved + $1 WHERE sku = $2", units, sku)
                    return True
                await asyncio.sleep(0.2)  # expect: transactions
    return False


def record_refund_locally(db: sqlite3.Connection, refund_id: str, amount_cents: int) -> None:
    with db:
        db.execute("INSERT INTO refunds (id, amount_cents, status) VALUES (?, ?, 'requested')", (refund_id, amount_cents))
        psp.post("/refunds", json={"refund_id": refund_id, "amount": amount_cents}, headers={"Idempotency-Key": refund_id})  # expect: transactions


def record_refund_then_call(db: sqlite3.Connection, refund_id: str, amount_cents: int) -> None:
    with db:
        db.execute("INSERT INTO refunds (id, amount_cents, status) VALUES (?, ?, 'requested')", (refund_id, amount_cents))
    resp = psp.post("/refunds", json={"refund_id": refund_id, "amount": amount_cents}, headers={"Idempotency-Key": refund_id})
    with db:
        db.execute("UPDATE refunds SET status = ? WHERE id = ? AND status = 'requested'", ("sent" if resp.status_code == 201 else "failed", refund_id))


def ship_order(session: Session, order_id: str) -> None:
    OrderRepository(session).mark_shipped(order_id)


def record_payment(session: Session, order_id: str, provider_ref: str, amount_cents: int) -> None:
    with session.begin():
        PaymentRepository(session).record(Payment(order_id=order_id, provider_ref=provider_ref, amount_cents=amount_cents))
        session.execute(text("UPDATE orders SET status = 'paid' WHERE id = :id AND status = 'capturing'"), {"id": order_id})
