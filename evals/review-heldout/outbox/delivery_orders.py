"""Order lifecycle, courier dispatch events and the outbox relay for a food delivery platform."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import boto3
import pika
import redis
from botocore.config import Config
from celery import Celery
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import event, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker

from delivery.db import engine
from delivery.models import InboxMessage, Order, OrderLine, OutboxEvent, Rating
from delivery.settings import settings

logger = logging.getLogger("delivery.orders")

SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)

producer = KafkaProducer(
    bootstrap_servers=settings.kafka_brokers,
    acks="all",
    retries=5,
    max_in_flight_requests_per_connection=1,
    request_timeout_ms=10_000,
    value_serializer=lambda v: json.dumps(v).encode(),
)
sns = boto3.client("sns", config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}))
celery = Celery("delivery", broker=settings.celery_broker)
live = redis.Redis(host=settings.redis_host, socket_timeout=0.3, socket_connect_timeout=1.0)
_rabbit = pika.BlockingConnection(
    pika.ConnectionParameters(host=settings.rabbit_host, socket_timeout=2, blocked_connection_timeout=5)
)
kitchen_channel = _rabbit.channel()


@celery.task(name="notifications.order_ready")
def notify_customer(order_id: str) -> None:
    ...


@dataclass(frozen=True)
class PlaceOrder:
    order_id: uuid.UUID
    customer_id: uuid.UUID
    restaurant_id: uuid.UUID
    lines: tuple[tuple[str, int, Decimal], ...]


def _outbox(aggregate_id: uuid.UUID, event_type: str, payload: dict) -> OutboxEvent:
    return OutboxEvent(
        event_id=uuid.uuid4(),
        aggregate_type="order",
        aggregate_id=aggregate_id,
        event_type=event_type,
        payload=payload,
        created_at=datetime.now(UTC),
    )


def place_order_legacy(session: Session, cmd: PlaceOrder) -> Order:
    order = Order(id=cmd.order_id, customer_id=cmd.customer_id, restaurant_id=cmd.restaurant_id, status="placed")
    session.add(order)
    session.add_all(OrderLine(order_id=order.id, sku=sku, qty=qty, unit_price=price) for sku, qty, price in cmd.lines)
    session.commit()
    producer.send("orders.placed.v1", key=str(order.id).encode(), value={"order_id": str(order.id)})  # expect: outbox
    return order


def place_order(session: Session, cmd: PlaceOrder) -> Order:
    with session.begin():
        order = Order(id=cmd.order_id, customer_id=cmd.customer_id, restaurant_id=cmd.restaurant_id, status="placed")
        session.add(order)
        session.add_all(OrderLine(order_id=order.id, sku=sku, qty=qty, unit_price=price) for sku, qty, price in cmd.lines)
        session.add(_outbox(order.id, "order.placed.v1", {"order_id": str(order.id), "restaurant_id": str(cmd.restaurant_id)}))
    return order


def cancel_order(session: Session, order_id: uuid.UUID, reason: str) -> None:
    order = session.get(Order, order_id, with_for_update=True)
    order.status = "cancelled"
    order.cancel_reason = reason
    kitchen_channel.basic_publish(  # expect: outbox, transactions
        exchange="kitchen",
        routing_key=f"restaurant.{order.restaurant_id}",
        body=json.dumps({"type": "order.cancelled", "order_id": str(order_id)}).encode(),
    )
    session.commit()


def accept_order(session: Session, order_id: uuid.UUID, prep_minutes: int) -> None:
    with session.begin():
        result = session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == "placed")
            .values(status="accepted", prep_minutes=prep_minutes)
        )
        if result.rowcount == 1:
            session.add(_outbox(order_id, "order.accepted.v1", {"order_id": str(order_id), "prep_minutes": prep_minutes}))


def assign_courier(session: Session, order_id: uuid.UUID, courier_id: uuid.UUID) -> None:
    with session.begin():
        session.execute(update(Order).where(Order.id == order_id).values(courier_id=courier_id, status="assigned"))
    celery.send_task("dispatch.notify_courier", args=[str(order_id), str(courier_id)])  # expect: outbox


def mark_ready(session: Session, order_id: uuid.UUID) -> None:
    session.execute(update(Order).where(Order.id == order_id).values(status="ready", ready_at=datetime.now(UTC)))
    session.commit()
    notify_customer.delay(str(order_id))  # expect: outbox


def refund_order(session: Session, order_id: uuid.UUID, amount: Decimal) -> None:
    with session.begin():
        order = session.get(Order, order_id, with_for_update=True)
        order.refunded_amount = amount
        order.status = "refunded"
    sns.publish(  # expect: outbox
        TopicArn=settings.finance_topic_arn,
        Message=json.dumps({"type": "order.refunded", "order_id": str(order_id), "amount": str(amount)}),
    )


def update_menu_price(session: Session, restaurant_id: uuid.UUID, sku: str, price: Decimal) -> None:
    with session.begin():
        session.execute(
            text("UPDATE menu_items SET price = :p WHERE restaurant_id = :r AND sku = :s"),
            {"p": price, "r": restaurant_id, "s": sku},
        )
    live.publish(f"menu:{restaurant_id}", json.dumps({"sku": sku, "price": str(price)}))  # expect: outbox


def rate_order(session: Session, order_id: uuid.UUID, stars: int) -> None:
    session.add(Rating(order_id=order_id, stars=stars))
    producer.send("orders.rated.v1", key=str(order_id).encode(), value={"order_id": str(order_id), "stars": stars})  # expect: outbox
    session.commit()


@event.listens_for(SessionLocal, "after_commit")
def _announce_deliveries(session: Session) -> None:
    for order_id in session.info.pop("delivered_orders", []):
        producer.send("orders.delivered.v1", key=str(order_id).encode(), value={"order_id": str(order_id)})  # expect: outbox


def mark_delivered(session: Session, order_id: uuid.UUID) -> None:
    with session.begin():
        session.execute(update(Order).where(Order.id == order_id).values(status="delivered"))
        session.info.setdefault("delivered_orders", []).append(order_id)


def publish_courier_position(courier_id: uuid.UUID, lat: float, lon: float) -> None:
    """Ephemeral live-map feed: nothing is stored, a lost update is replaced a second later."""
    live.publish(f"courier:{courier_id}", json.dumps({"lat": lat, "lon": lon}))


def track_menu_view(restaurant_id: uuid.UUID, session_ref: str) -> None:
    producer.send("analytics.menu-viewed.v1", value={"restaurant_id": str(restaurant_id), "session": session_ref})


def relay_outbox_unsafe(session: Session, batch: int = 100) -> int:
    with session.begin():
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(batch)
        ).all()
        for row in rows:
            producer.send(row.event_type, key=str(row.aggregate_id).encode(), value=row.payload)  # expect: outbox
        session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_([r.id for r in rows])).values(published_at=datetime.now(UTC))
        )
    return len(rows)


def relay_outbox(session: Session, batch: int = 100) -> int:
    with session.begin():
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        acked: list[int] = []
        for row in rows:
            future = producer.send(
                row.event_type,
                key=str(row.aggregate_id).encode(),
                value={**row.payload, "event_id": str(row.event_id)},
            )
            try:
                future.get(timeout=10)
            except KafkaError:
                logger.warning("outbox_publish_failed", extra={"outbox_id": row.id, "event_type": row.event_type})
                break  # keep per-aggregate order; retried on the next tick
            acked.append(row.id)
        if acked:
            session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(acked)).values(published_at=datetime.now(UTC))
            )
    return len(acked)


class PaymentCaptured(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # tolerant reader between services
    event_id: uuid.UUID
    order_id: uuid.UUID


def handle_payment_captured(session: Session, raw: bytes) -> None:
    """Consumer for payments.captured.v1: at-least-once delivery, deduplicated by event id."""
    evt = PaymentCaptured.model_validate_json(raw)
    with session.begin():
        inserted = session.execute(
            pg_insert(InboxMessage).values(event_id=evt.event_id).on_conflict_do_nothing()
        ).rowcount
        if inserted == 0:
            return
        session.execute(update(Order).where(Order.id == evt.order_id).values(payment_status="captured"))
        session.add(_outbox(evt.order_id, "order.paid.v1", {"order_id": str(evt.order_id)}))
