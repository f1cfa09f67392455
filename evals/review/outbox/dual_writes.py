"""Events published next to a separate DB commit (dual writes), and outbox-based versions."""

import json

import boto3
from confluent_kafka import Producer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

producer = Producer({"bootstrap.servers": "kafka:9092"})
sqs = boto3.client("sqs")


def create_order(session: Session, order: dict) -> None:
    session.execute(text("INSERT INTO orders (id, total) VALUES (:id, :total)"), order)
    session.commit()
    producer.produce("orders.created", json.dumps(order).encode())  # expect: outbox


async def cancel_order(session: AsyncSession, bus: "EventBus", order_id: int) -> None:
    await session.execute(text("UPDATE orders SET state = 'cancelled' WHERE id = :id"), {"id": order_id})
    await session.commit()
    await bus.publish("orders.cancelled", {"id": order_id})  # expect: outbox


def ship(conn: "Connection", channel: "Channel", order_id: int) -> None:
    conn.execute("UPDATE orders SET state = 'shipped' WHERE id = ?", (order_id,))
    conn.commit()
    channel.basic_publish(exchange="orders", routing_key="shipped", body=str(order_id))  # expect: outbox


def refund(session: Session, order_id: int, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"refund": order_id}))  # expect: outbox
    session.execute(text("UPDATE orders SET state = 'refunded' WHERE id = :id"), {"id": order_id})
    session.commit()


# ---- clean look-alikes


def create_order_with_outbox(session: Session, order: dict) -> None:
    session.execute(text("INSERT INTO orders (id, total) VALUES (:id, :total)"), order)
    session.execute(
        text("INSERT INTO outbox (topic, payload) VALUES ('orders.created', :payload)"),
        {"payload": json.dumps(order)},
    )
    session.commit()


def relay_outbox(session: Session) -> None:
    rows = session.execute(text("SELECT id, topic, payload FROM outbox ORDER BY id LIMIT 100")).all()
    for row in rows:
        producer.produce(row.topic, row.payload.encode())
    producer.flush(10)
    session.execute(text("DELETE FROM outbox WHERE id <= :id"), {"id": rows[-1].id})
    session.commit()


def forward_without_db(channel: "Channel", body: bytes) -> None:
    channel.basic_publish(exchange="audit", routing_key="raw", body=body)


def consume(consumer: "Consumer", session: Session) -> None:
    message = consumer.poll(1.0)
    session.execute(text("INSERT INTO inbox (id) VALUES (:id)"), {"id": message.key()})
    session.commit()
    consumer.commit()


class EventBus:
    async def publish(self, topic: str, payload: dict) -> None: ...


class Channel: ...


class Connection: ...


class Consumer: ...


def approve_article(session: Session, article: "Article", editor: str) -> None:
    article.publish(editor)
    session.commit()


class Article:
    def publish(self, editor: str) -> None: ...
