"""Durations measured with the wall clock (time.time / datetime.now on both ends) are flagged;
monotonic clocks, ages of stored timestamps and plain timestamps are not."""

import time
from datetime import datetime, timezone


def timed_query(cursor, sql: str) -> float:
    started = time.time()
    cursor.execute(sql)
    return time.time() - started  # expect: time-utc


class Job:
    def __init__(self) -> None:
        self.started_at: float | None = None

    def start(self) -> None:
        self.started_at = time.time()

    def runtime(self) -> float:
        return time.time() - self.started_at  # expect: time-utc


def measure(fn) -> float:
    t0 = time.time()
    fn()
    t1 = time.time()
    return t1 - t0  # expect: time-utc


def wait_until_ready(probe, timeout_s: float) -> bool:
    begin = datetime.now(timezone.utc)
    while not probe():
        if (datetime.now(timezone.utc) - begin).total_seconds() > timeout_s:  # expect: time-utc
            return False
    return True


def timed_monotonic(fn) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def timed_perf(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def age_seconds(record) -> float:
    return time.time() - record.created_at


def cutoff() -> float:
    return time.time() - 3600


def stamp(event: dict) -> dict:
    return {**event, "ts": time.time()}


def since(created_at: datetime) -> float:
    return (datetime.now(timezone.utc) - created_at).total_seconds()


def log_batch_timing(logger, rows: list[dict]) -> None:
    began = time.time()
    for row in rows:
        row["seen"] = True
    logger.info("processed %d rows in %.2fs", len(rows), time.time() - began)  # expect: time-utc


def report_runtime(metrics, job) -> None:
    start = datetime.now(timezone.utc)
    job.run()
    metrics.observe("job_seconds", (datetime.now(timezone.utc) - start).total_seconds())  # expect: time-utc
