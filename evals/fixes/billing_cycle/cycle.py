"""Billing cycles: an invoice is due 30 days after its issue date."""

from datetime import date, datetime, timedelta


def due_date(issued: str) -> datetime:
    return datetime.strptime(issued, "%Y-%m-%d") + timedelta(days=30)


def paid_on(epoch_seconds: int) -> date:
    return date.fromtimestamp(epoch_seconds)


def days_late(issued: str, epoch_paid: int) -> int:
    return max(0, (paid_on(epoch_paid) - due_date(issued).date()).days)
