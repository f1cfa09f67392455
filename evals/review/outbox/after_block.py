"""Publishing after leaving a `session.begin()` block, or queueing a Celery task by name after
the commit, is a dual write; writing the event in the same transaction is not."""

from celery import Celery
from kafka import KafkaProducer
from sqlalchemy.orm import Session

from .models import Invoice, OutboxEvent

producer = KafkaProducer(bootstrap_servers="kafka:9092")
celery_app = Celery("billing")


def issue_invoice(session: Session, invoice: Invoice) -> None:
    with session.begin():
        session.add(invoice)
    producer.send("invoices.issued", value=invoice.to_event())  # expect: outbox


def void_invoice(session: Session, invoice_id: int) -> None:
    with session.begin():
        session.get(Invoice, invoice_id).status = "void"
    celery_app.send_task("billing.notify_void", args=[invoice_id])  # expect: outbox


def issue_invoice_with_event(session: Session, invoice: Invoice) -> None:
    with session.begin():
        session.add(invoice)
        session.add(OutboxEvent(topic="invoices.issued", payload=invoice.to_event()))


def notify_only(invoice_id: int) -> None:
    celery_app.send_task("billing.notify", args=[invoice_id])
