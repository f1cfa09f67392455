"""A commit per item of a loop is flagged; one commit after the loop, per batch, or per item of an
outbox relay (each row records its own publish) is not."""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from .models import Outbox, Payment, Refund


def settle_refunds(session: Session, refund_ids: list[int]) -> None:
    for refund_id in refund_ids:
        refund = session.get(Refund, refund_id)  # expect: batching
        refund.status = "settled"
        session.commit()  # expect: batching


def import_payments(db: Session, rows: Iterable[dict[str, object]]) -> None:
    for row in rows:
        db.add(Payment(**row))
        db.commit()  # expect: batching


def import_payments_once(db: Session, rows: Iterable[dict[str, object]]) -> None:
    for row in rows:
        db.add(Payment(**row))
    db.commit()


def import_in_batches(db: Session, batches: Iterable[list[dict[str, object]]]) -> None:
    for batch in batches:
        db.add_all(Payment(**row) for row in batch)
        db.commit()


def relay_outbox(db: Session, producer: object, pending: list[Outbox]) -> None:
    for event in pending:
        producer.send(event.topic, event.payload)
        event.published = True
        db.commit()


def retry_commit(db: Session) -> None:
    for _attempt in range(3):
        db.commit()
        break
