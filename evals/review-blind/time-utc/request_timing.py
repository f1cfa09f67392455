"""Timing instrumentation for the orders API: middleware, SQL query timers, task runtimes, leases and uptime."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from celery import Celery
from fastapi import FastAPI, Request
from prometheus_client import Histogram
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)
app = FastAPI()
celery_app = Celery("orders", broker="redis://redis:6379/2")

HTTP_LATENCY = Histogram("http_server_seconds", "Request latency", ["route"])
QUEUE_TIME = Histogram("lb_queue_seconds", "Time between LB accept and app start")
SQL_LATENCY = Histogram("sql_seconds", "Statement latency")
TASK_RUNTIME = Histogram("task_seconds", "Celery task runtime", ["task"])

PROCESS_START_WALL = time.time()
PROCESS_START_MONO = time.monotonic()
LEASE_TTL = timedelta(seconds=30)


@app.middleware("http")
async def response_time_header(request: Request, call_next):
    start = time.time()
    response = await call_next(request)
    response.headers["X-Response-Time-Ms"] = f"{(time.time() - start) * 1000:.1f}"  # expect: time-utc
    return response


@app.middleware("http")
async def latency_metric(request: Request, call_next):
    start = time.perf_counter()
    response = await call_next(request)
    HTTP_LATENCY.labels(route=request.scope.get("route").path if request.scope.get("route") else "unmatched").observe(time.perf_counter() - start)
    return response


@app.middleware("http")
async def lb_queue_time(request: Request, call_next):
    header = request.headers.get("X-Request-Start")
    if header and header.startswith("t="):
        QUEUE_TIME.observe(max(0.0, time.time() - int(header[2:]) / 1_000_000))
    return await call_next(request)


def install_sql_timers(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("query_start", []).append(time.time())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        SQL_LATENCY.observe(time.time() - conn.info["query_start"].pop())  # expect: time-utc


def install_sql_timers_monotonic(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("query_start_pc", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        SQL_LATENCY.observe(time.perf_counter() - conn.info["query_start_pc"].pop())


@celery_app.task(name="orders.rebuild_search_index")
def rebuild_search_index(batch: int = 1000) -> int:
    started = datetime.now(tz=UTC)
    indexed = _reindex(batch)
    runtime_s = (datetime.now(tz=UTC) - started).total_seconds()  # expect: time-utc
    TASK_RUNTIME.labels(task="rebuild_search_index").observe(runtime_s)
    return indexed


@celery_app.task(name="orders.compact_events")
def compact_events(batch: int = 1000) -> int:
    started = time.monotonic()
    compacted = _compact(batch)
    TASK_RUNTIME.labels(task="compact_events").observe(time.monotonic() - started)
    return compacted


def _reindex(batch: int) -> int:
    return batch


def _compact(batch: int) -> int:
    return batch


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self._t0 = time.time()
        return self

    def __exit__(self, *exc) -> None:
        self.elapsed_s = time.time() - self._t0  # expect: time-utc


class MonotonicStopwatch:
    def __enter__(self) -> "MonotonicStopwatch":
        self._t0 = time.perf_counter_ns()
        return self

    def __exit__(self, *exc) -> None:
        self.elapsed_ns = time.perf_counter_ns() - self._t0


def timed_export(session: Session, tenant_id: str) -> int:
    t0_ns = time.time_ns()
    rows = session.execute(text("SELECT count(*) FROM orders WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()
    logger.info("export_counted", extra={"tenant_id": tenant_id, "rows": rows, "duration_ms": (time.time_ns() - t0_ns) / 1e6})  # expect: time-utc
    return rows


def uptime_seconds() -> float:
    return time.time() - PROCESS_START_WALL  # expect: time-utc


def uptime_seconds_monotonic() -> float:
    return time.monotonic() - PROCESS_START_MONO


def acquire_lease(session: Session, job_name: str, owner: str) -> bool:
    now = datetime.now(UTC)
    result = session.execute(
        text("UPDATE job_leases SET owner = :o, expires_at = :e WHERE name = :n AND (owner IS NULL OR expires_at < :now)"),
        {"o": owner, "e": now + LEASE_TTL, "n": job_name, "now": now},
    )
    return result.rowcount == 1


def seconds_until_retry(retry_after_header: str) -> float:
    if retry_after_header.isdigit():
        return float(retry_after_header)
    retry_at = parsedate_to_datetime(retry_after_header)
    return max(0.0, retry_at.timestamp() - time.time())


async def poll_until(predicate, budget_s: float = 5.0, interval_s: float = 0.2) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(interval_s)
    return False


async def poll_until_wall(predicate, budget_s: float = 5.0, interval_s: float = 0.2) -> bool:
    begun = time.time()
    while time.time() - begun < budget_s:  # expect: time-utc
        if await predicate():
            return True
        await asyncio.sleep(interval_s)
    return False


def cpu_seconds_used(fn) -> float:
    before = time.process_time()
    fn()
    return time.process_time() - before
