"""Charging-session tracking and billing for an EV charging network (OCPP events, tariffs, invoices)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import jwt
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NaiveDatetime, field_validator
from sqlalchemy import Date, DateTime, ForeignKey, Numeric, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from charging.settings import settings

logger = logging.getLogger("charging.sessions")

CHARGER_REPLY_BUDGET_S = 8.0
IDLE_FEE_GRACE = timedelta(minutes=15)


class Base(DeclarativeBase):
    pass


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. "Europe/Amsterdam"
    peak_start_hour: Mapped[int]
    peak_end_hour: Mapped[int]


class ChargingSession(Base):
    __tablename__ = "charging_sessions"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    connector_id: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    unplugged_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)  # expect: time-utc
    energy_wh: Mapped[int] = mapped_column(default=0)


class Tariff(Base):
    __tablename__ = "tariffs"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    effective_from: Mapped[date] = mapped_column(Date())  # a local calendar date, not an instant
    price_per_kwh: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    peak_price_per_kwh: Mapped[Decimal] = mapped_column(Numeric(8, 4))


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charging_sessions.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_on: Mapped[date] = mapped_column(Date())
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class StartTransaction(BaseModel):
    """OCPP StartTransaction as relayed by the charger gateway."""

    model_config = ConfigDict(extra="forbid")
    connector_id: Annotated[str, Field(max_length=32)]
    meter_start_wh: Annotated[int, Field(ge=0)]
    timestamp: AwareDatetime

    @field_validator("timestamp")
    @classmethod
    def to_utc(cls, v: datetime) -> datetime:
        return v.astimezone(UTC)


class StopTransaction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: uuid.UUID
    meter_stop_wh: Annotated[int, Field(ge=0)]
    timestamp: datetime  # expect: time-utc


class ReservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connector_id: Annotated[str, Field(max_length=32)]
    local_start: NaiveDatetime  # wall time at the site; combined with Site.timezone below
    site_id: uuid.UUID


@dataclass(frozen=True)
class MeterSample:
    connector_id: str
    wh: int
    epoch_s: int


def start_session(db: Session, site_id: uuid.UUID, msg: StartTransaction) -> ChargingSession:
    session = ChargingSession(site_id=site_id, connector_id=msg.connector_id, started_at=msg.timestamp)
    db.add(session)
    return session


def stop_session(db: Session, msg: StopTransaction) -> ChargingSession:
    session = db.get(ChargingSession, msg.session_id)
    session.stopped_at = msg.timestamp
    session.energy_wh = msg.meter_stop_wh
    return session


def mark_unplugged(db: Session, session_id: uuid.UUID) -> None:
    session = db.get(ChargingSession, session_id)
    session.unplugged_at = datetime.utcnow()  # expect: time-utc


def mark_faulted(db: Session, session_id: uuid.UUID) -> None:
    session = db.get(ChargingSession, session_id)
    session.stopped_at = datetime.now(UTC)


def sample_time(sample: MeterSample) -> datetime:
    return datetime.utcfromtimestamp(sample.epoch_s)  # expect: time-utc


def sample_time_aware(sample: MeterSample) -> datetime:
    return datetime.fromtimestamp(sample.epoch_s, tz=UTC)


def gateway_received_at(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000)  # expect: time-utc


def parse_legacy_heartbeat(raw: str) -> datetime:
    """Legacy OCPP 1.5 gateways send '2025-03-30T01:30:00' meaning UTC."""
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S")  # expect: time-utc


def parse_heartbeat(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("heartbeat timestamp must carry an offset")
    return value.astimezone(UTC)


def is_peak_local(site: Site, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(site.timezone))
    return site.peak_start_hour <= local.hour < site.peak_end_hour


def is_peak_now(site: Site) -> bool:
    """Peak windows are defined in the site's local wall-clock hours."""
    hour = datetime.now(UTC).hour  # expect: time-utc
    return site.peak_start_hour <= hour < site.peak_end_hour


def reservation_instant(site: Site, body: ReservationIn) -> datetime:
    return body.local_start.replace(tzinfo=ZoneInfo(site.timezone)).astimezone(UTC)


def active_tariff(db: Session, site: Site) -> Tariff:
    today = date.today()  # expect: time-utc
    return db.scalars(
        select(Tariff).where(Tariff.site_id == site.id, Tariff.effective_from <= today).order_by(Tariff.effective_from.desc()).limit(1)
    ).one()


def active_tariff_at(db: Session, site: Site, at: datetime) -> Tariff:
    local_day = at.astimezone(ZoneInfo(site.timezone)).date()
    return db.scalars(
        select(Tariff).where(Tariff.site_id == site.id, Tariff.effective_from <= local_day).order_by(Tariff.effective_from.desc()).limit(1)
    ).one()


def idle_fee_minutes(session: ChargingSession) -> int:
    if session.stopped_at is None:
        return 0
    end = session.unplugged_at or datetime.now()  # expect: time-utc
    overstay = end - session.stopped_at - IDLE_FEE_GRACE
    return max(0, int(overstay.total_seconds() // 60))


def issue_invoice(db: Session, session: ChargingSession, amount: Decimal) -> Invoice:
    invoice = Invoice(session_id=session.id, issued_at=datetime.now(UTC), due_on=(datetime.now(UTC) + timedelta(days=14)).date(), amount=amount)
    db.add(invoice)
    return invoice


def overdue_invoices(db: Session) -> list[Invoice]:
    cutoff = datetime.today().date()  # expect: time-utc
    return list(db.scalars(select(Invoice).where(Invoice.due_on < cutoff).limit(500)))


def wait_for_charger_ack(poll: Callable[[], bool]) -> bool:
    started = time.time()
    while not poll():
        if time.time() - started > CHARGER_REPLY_BUDGET_S:  # expect: time-utc
            return False
        time.sleep(0.25)
    return True


def wait_for_charger_ack_v2(poll: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + CHARGER_REPLY_BUDGET_S
    while not poll():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)
    return True


def timed_meter_read(read: Callable[[], int]) -> tuple[int, float]:
    t0 = time.perf_counter()
    value = read()
    return value, time.perf_counter() - t0


def signed_remote_start(connector_id: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {"sub": connector_id, "iat": now, "exp": now + 60, "cmd": "RemoteStartTransaction"},
        settings.command_signing_key.get_secret_value(),
        algorithm="HS256",
    )
