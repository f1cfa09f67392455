"""Audit records stamped with naive UTC datetimes."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class AuditRecord:
    actor: str
    action: str
    at: datetime


def record(actor: str, action: str) -> AuditRecord:
    return AuditRecord(actor, action, datetime.utcnow())


def retention_cutoff(days: int) -> datetime:
    return datetime.utcnow() - timedelta(days=days)


def is_retained(entry: AuditRecord, days: int) -> bool:
    return entry.at >= retention_cutoff(days)
