"""Domain event publishing for orders, subscriptions and accounts, plus the outbox relay worker."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

import boto3
import pika
import redis
from aiokafka import AIOKafkaProducer
from botocore.config import Config
from celery import Celery
from confluent_kafka import Producer
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import BaseModel
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .models import Account, Order, OutboxEvent, Subscription

logger = logging.getLogger(__name__)

producer = KafkaProducer(bootstrap_servers="kafka:9092", acks="all", enable_idempotence=True)
confluent = Producer({"bootstrap.servers": "kafka:9092", "acks": "all", "enable.idempotence": True})
sns = boto3.client("sns", config=Config(connect_timeout=2, read_timeout=5))
celery_app = Celery("billing", broker="redis://redis:6379/1")
notifications = redis.Redis(host="redis", socket_timeout=0.3, socket_connect_timeout=1)


class OrderPlacedV1(BaseModel):
    order_id: str
    customer_id: int
    total_cents: int


def _outbox_row(aggregate_type: str, aggregate_id: str, event_type: str, payload: dict, traceparent: str | None) -> OutboxEvent:
    return OutboxEvent(
        event_id=uuid.uuid4(),
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        event_type=event_type,
        payload=payload,
        headers={"traceparent": traceparent} if traceparent else {},
    )


def place_order(session: Session, customer_id: int, total_cents: int) -> Order:
    order = Order(id=f"ord_{uuid.uuid4().hex}", customer_id=customer_id, total_cents=total_cents, status="placed")
    session.add(order)
    session.commit()
    producer.send("orders.placed", key=order.id.encode(), value=json.dumps({"order_id": order.id}).encode())  # expect: outbox
    return order


def place_order_with_outbox(session: Session, customer_id: int, total_cents: int, traceparent: str | None) -> Order:
    order = Order(id=f"ord_{uuid.uuid4().hex}", customer_id=customer_id, total_cents=total_cents, status="placed")
    event = OrderPlacedV1(order_id=order.id, customer_id=customer_id, total_cents=total_cents)
    with session.begin():
        session.add(order)
        session.add(_outbox_row("order", order.id, "order.placed.v1", event.model_dump(mode="json"), traceparent))
    return order


def cancel_order(session: Session, order_id: str) -> None:
    with session.begin():
        session.execute(update(Order).where(Order.id == order_id, Order.status == "placed").values(status="cancelled"))
    confluent.produce("orders.cancelled", key=order_id, value=json.dumps({"order_id": order_id}))  # expect: outbox
    confluent.flush(5)


def cancel_order_with_outbox(session: Session, order_id: str, traceparent: str | None) -> None:
    with session.begin():
        result = session.execute(update(Order).where(Order.id == order_id, Order.status == "placed").values(status="cancelled"))
        if result.rowcount == 1:
            session.add(_outbox_row("order", order_id, "order.cancelled.v1", {"order_id": order_id}, traceparent))


def renew_subscription(session: Session, subscription_id: str) -> None:
    sub = session.get(Subscription, subscription_id)
    sub.renewed_at = datetime.now(UTC)
    sub.status = "active"
    session.commit()
    celery_app.send_task("billing.issue_renewal_invoice", args=[subscription_id])  # expect: outbox


def suspend_subscription(session: Session, subscription_id: str, channel: pika.channel.Channel) -> None:
    session.execute(update(Subscription).where(Subscription.id == subscription_id).values(status="suspended"))
    session.commit()
    channel.basic_publish(exchange="subscriptions", routing_key="subscription.suspended", body=json.dumps({"subscription_id": subscription_id}).encode())  # expect: outbox


def close_account(session: Session, account_id: int) -> None:
    producer.send("accounts.closed", key=str(account_id).encode(), value=json.dumps({"account_id": account_id}).encode())  # expect: outbox
    session.execute(update(Account).where(Account.id == account_id).values(status="closed"))
    session.commit()


def close_account_with_outbox(session: Session, account_id: int, traceparent: str | None) -> None:
    with session.begin():
        session.execute(update(Account).where(Account.id == account_id).values(status="closed"))
        session.add(_outbox_row("account", str(account_id), "account.closed.v1", {"account_id": account_id}, traceparent))


def change_plan(session: Session, account_id: int, plan: str) -> None:
    with session.begin():
        session.execute(update(Account).where(Account.id == account_id).values(plan=plan))
    sns.publish(TopicArn="arn:aws:sns:eu-west-1:123456789012:account-events", Message=json.dumps({"account_id": account_id, "plan": plan}))  # expect: outbox


def flag_account(session: Session, account_id: int, reason: str) -> None:
    with session.begin():
        session.execute(update(Account).where(Account.id == account_id).values(flagged=True, flag_reason=reason))
    notifications.publish("account-flags", json.dumps({"account_id": account_id}))  # expect: outbox


async def refund_order(session: AsyncSession, kafka: AIOKafkaProducer, order_id: str) -> None:
    await session.execute(update(Order).where(Order.id == order_id).values(status="refunded"))
    await session.commit()
    await kafka.send_and_wait("orders.refunded", key=order_id.encode(), value=json.dumps({"order_id": order_id}).encode())  # expect: outbox


async def refund_order_with_outbox(session: AsyncSession, order_id: str, traceparent: str | None) -> None:
    async with session.begin():
        await session.execute(update(Order).where(Order.id == order_id).values(status="refunded"))
        session.add(_outbox_row("order", order_id, "order.refunded.v1", {"order_id": order_id}, traceparent))


class OutboxRelay:
    """Publishes unpublished outbox rows in id order; marks them only after the broker acknowledged them."""

    def __init__(self, session_factory, batch_size: int = 100) -> None:
        self._sessions = session_factory
        self._batch_size = batch_size

    def _claim(self) -> list[OutboxEvent]:
        with self._sessions() as session:
            stmt = select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(self._batch_size)
            return list(session.scalars(stmt))

    def relay_once(self) -> int:
        rows = self._claim()
        if not rows:
            return 0
        futures = [
            producer.send(f"{r.aggregate_type}.events", key=r.aggregate_id.encode(), value=json.dumps(r.payload).encode(), headers=[("event_id", str(r.event_id).encode())])
            for r in rows
        ]
        producer.flush(timeout=10)
        acked = []
        for row, fut in zip(rows, futures):
            try:
                fut.get(timeout=1)
            except KafkaError:
                logger.warning("outbox_publish_failed", extra={"outbox_id": row.id, "event_type": row.event_type})
                break
            acked.append(row.id)
        if acked:
            with self._sessions.begin() as session:
                session.execute(text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)"), {"ids": acked})
        return len(acked)

    def relay_once_fire_and_forget(self) -> int:
        rows = self._claim()
        for row in rows:
            producer.send(f"{row.aggregate_type}.events", key=row.aggregate_id.encode(), value=json.dumps(row.payload).encode())  # expect: outbox
        with self._sessions.begin() as session:
            session.execute(text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)"), {"ids": [r.id for r in rows]})
        return len(rows)
