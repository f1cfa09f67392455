"""Request timing, rate limiting, job deadlines and timestamp handling for the dispatch service."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import httpx
from prometheus_client import Histogram
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Column, DateTime, Integer, String
from sqlalchemy.orm import declarative_base

logger = logging.getLogger(__name__)
Base = declarative_base()

DISPATCH_LATENCY = Histogram("dispatch_seconds", "Dispatch latency", ["carrier"])
carrier_http = httpx.Client(base_url="https://carrier.internal", timeout=httpx.Timeout(2.0, connect=0.5))


class Job(Base):
    __tablename__ = "jobs"

    id = Column(String(40), primary_key=True)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime(timezone=True), nullable=False)
    run_after = Column(DateTime, nullable=True)  # expect: time-utc


class DispatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(max_length=64)
    not_before: datetime  # expect: time-utc
    deadline: AwareDatetime


def dispatch(carrier: str, payload: dict) -> dict:
    start = time.time()
    resp = carrier_http.post("/dispatch", json=payload)
    elapsed = time.time() - start  # expect: time-utc
    DISPATCH_LATENCY.labels(carrier=carrier).observe(elapsed)
    resp.raise_for_status()
    return resp.json()


def dispatch_timed(carrier: str, payload: dict) -> dict:
    start = time.perf_counter()
    resp = carrier_http.post("/dispatch", json=payload)
    DISPATCH_LATENCY.labels(carrier=carrier).observe(time.perf_counter() - start)
    resp.raise_for_status()
    return resp.json()


def cancel(job_id: str) -> None:
    t0 = time.time()
    carrier_http.post(f"/dispatch/{job_id}/cancel").raise_for_status()
    logger.info("dispatch_cancelled", extra={"job_id": job_id, "duration_ms": round((time.time() - t0) * 1000, 1)})  # expect: time-utc


def track(job_id: str) -> dict:
    started = datetime.now(UTC)
    resp = carrier_http.get(f"/dispatch/{job_id}")
    took = datetime.now(UTC) - started  # expect: time-utc
    logger.info("dispatch_tracked", extra={"job_id": job_id, "duration_ms": took.total_seconds() * 1000})
    resp.raise_for_status()
    return resp.json()


def reroute(job_id: str, depot: str) -> None:
    t_start = datetime.now()  # expect: time-utc
    carrier_http.post(f"/dispatch/{job_id}/reroute", json={"depot": depot}).raise_for_status()
    logger.info("dispatch_rerouted", extra={"job_id": job_id, "seconds": (datetime.now() - t_start).total_seconds()})  # expect: time-utc


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.capacity, self._clock = rate_per_s, float(burst), clock
        self.tokens = float(burst)
        self.last = clock()

    def allow(self) -> bool:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class WallClockBucket:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate, self.capacity = rate_per_s, float(burst)
        self.tokens = float(burst)
        self.last = time.time()

    def allow(self) -> bool:
        now = time.time()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)  # expect: time-utc
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class CarrierConfigCache:
    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl_s = ttl_s
        self._loaded_at = 0.0
        self._value: dict | None = None

    def get(self) -> dict:
        if self._value is None or time.time() - self._loaded_at > self._ttl_s:  # expect: time-utc
            self._value = carrier_http.get("/config").json()
            self._loaded_at = time.time()
        return self._value


class MonotonicConfigCache:
    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl_s = ttl_s
        self._expires = 0.0
        self._value: dict | None = None

    def get(self) -> dict:
        if self._value is None or time.monotonic() >= self._expires:
            self._value = carrier_http.get("/config").json()
            self._expires = time.monotonic() + self._ttl_s
        return self._value


def wait_for_pickup(job_id: str, budget_s: float = 30.0) -> bool:
    deadline = time.time() + budget_s  # expect: time-utc
    while time.time() < deadline:
        if carrier_http.get(f"/dispatch/{job_id}").json()["status"] == "picked_up":
            return True
        time.sleep(1.0)
    return False


def wait_for_delivery(job_id: str, budget_s: float = 30.0) -> bool:
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        if carrier_http.get(f"/dispatch/{job_id}").json()["status"] == "delivered":
            return True
        time.sleep(1.0)
    return False


def wait_for_label(job_id: str, budget: timedelta = timedelta(seconds=20)) -> bool:
    give_up_at = datetime.now(timezone.utc) + budget  # expect: time-utc
    while datetime.now(timezone.utc) < give_up_at:
        if carrier_http.get(f"/dispatch/{job_id}/label").status_code == 200:
            return True
        time.sleep(0.5)
    return False


def is_stale(job: Job, max_age: timedelta = timedelta(minutes=15)) -> bool:
    return datetime.now(UTC) - job.created_at > max_age


def token_claims(subject: str, ttl_s: int = 3600) -> dict:
    now = int(time.time())
    return {"sub": subject, "iat": now, "exp": now + ttl_s}


def token_age_s(claims: dict) -> float:
    return time.time() - claims["iat"]


def new_job(job_id: str) -> Job:
    return Job(id=job_id, attempts=0, created_at=datetime.utcnow())  # expect: time-utc


def new_job_aware(job_id: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Job:
    return Job(id=job_id, attempts=0, created_at=now())


def report_day() -> str:
    return date.today().isoformat()  # expect: time-utc


def report_day_utc() -> str:
    return datetime.now(UTC).date().isoformat()


def parse_carrier_timestamp(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s)  # expect: time-utc


def parse_carrier_timestamp_utc(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def event_envelope(event_type: str, payload: dict) -> dict:
    return {"type": event_type, "emitted_at_ms": int(time.time() * 1000), "payload": payload}
