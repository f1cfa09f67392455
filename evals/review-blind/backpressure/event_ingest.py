"""Clickstream ingest worker: Kafka consumer, enrichment fan-out, thumbnail pool and warehouse export."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import ClickEvent
from .thumbs import make_thumbnail

logger = logging.getLogger(__name__)

ENRICH_CONCURRENCY = 20
THUMB_INFLIGHT = 32

raw_events: asyncio.Queue[dict] = asyncio.Queue()  # expect: backpressure
enriched_events: asyncio.Queue[dict] = asyncio.Queue(maxsize=500)
dead_letters: asyncio.Queue[dict] = asyncio.Queue(maxsize=0)  # expect: backpressure
recent_errors: deque[str] = deque(maxlen=1000)

thumb_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="thumbs")
_thumb_slots = threading.BoundedSemaphore(THUMB_INFLIGHT)

enrich_http = httpx.AsyncClient(
    base_url="https://profiles.internal",
    timeout=httpx.Timeout(1.0, connect=0.5, pool=1.0),
    limits=httpx.Limits(max_connections=ENRICH_CONCURRENCY, max_keepalive_connections=10),
)


async def fetch_profile(visitor_id: str) -> dict:
    resp = await enrich_http.get(f"/visitors/{visitor_id}")
    resp.raise_for_status()
    return resp.json()


async def enrich_all(visitor_ids: list[str]) -> list[dict]:
    return await asyncio.gather(*[fetch_profile(v) for v in visitor_ids])  # expect: backpressure, async-io


async def enrich_all_bounded(visitor_ids: list[str]) -> list[dict]:
    sem = asyncio.Semaphore(ENRICH_CONCURRENCY)

    async def one(visitor_id: str) -> dict:
        async with sem:
            return await fetch_profile(visitor_id)

    return await asyncio.gather(*[one(v) for v in visitor_ids])


async def enrich_session(visitor_id: str, session_id: str) -> tuple[dict, dict]:
    profile, session = await asyncio.gather(fetch_profile(visitor_id), fetch_session(session_id))
    return profile, session


async def fetch_session(session_id: str) -> dict:
    resp = await enrich_http.get(f"/sessions/{session_id}")
    resp.raise_for_status()
    return resp.json()


class ClickConsumer:
    def __init__(self, consumer: AIOKafkaConsumer, session_factory) -> None:
        self._consumer = consumer
        self._session_factory = session_factory
        self._tasks: set[asyncio.Task] = set()
        self._work: asyncio.Queue[list] = asyncio.Queue(maxsize=4)

    async def run_unbounded(self) -> None:
        async for message in self._consumer:
            task = asyncio.create_task(self._handle(message.value))  # expect: backpressure
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(4):
                tg.create_task(self._worker())
            while True:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=500)
                for _tp, messages in batches.items():
                    await self._work.put([m.value for m in messages])

    async def _worker(self) -> None:
        while True:
            values = await self._work.get()
            for value in values:
                await self._handle(value)
            await self._consumer.commit()
            self._work.task_done()

    async def _handle(self, value: dict) -> None:
        await enriched_events.put(value)


class MetricsBuffer:
    """Buffers counters from the consumer loop; a separate timer thread flushes them."""

    def __init__(self) -> None:
        self._pending: list[dict] = []
        self._latest: deque[dict] = deque(maxlen=10_000)

    def record(self, event: dict) -> None:
        self._pending.append(event)  # expect: backpressure

    def record_latest(self, event: dict) -> None:
        self._latest.append(event)

    def drain(self) -> list[dict]:
        pending, self._pending = self._pending, []
        return pending


def start_warehouse_writer(session_factory) -> tuple[queue.Queue, threading.Thread]:
    rows: queue.Queue[dict] = queue.Queue()  # expect: backpressure

    def loop() -> None:
        while True:
            batch = [rows.get()]
            while len(batch) < 500:
                try:
                    batch.append(rows.get_nowait())
                except queue.Empty:
                    break
            with session_factory.begin() as session:
                session.execute(text("INSERT INTO clicks_raw (payload) VALUES (:p)"), [{"p": r} for r in batch])

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return rows, t


def start_audit_writer(session_factory) -> tuple[queue.Queue, threading.Thread]:
    rows: queue.Queue[dict] = queue.Queue(maxsize=2_000)

    def loop() -> None:
        while True:
            batch = [rows.get()]
            while len(batch) < 500:
                try:
                    batch.append(rows.get_nowait())
                except queue.Empty:
                    break
            with session_factory.begin() as session:
                session.execute(text("INSERT INTO audit_raw (payload) VALUES (:p)"), [{"p": r} for r in batch])

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return rows, t


def thumbnails_for(images: list[bytes]) -> list[bytes]:
    futures = [thumb_pool.submit(make_thumbnail, image) for image in images]  # expect: backpressure
    return [f.result(timeout=30) for f in futures]


def thumbnails_for_album(album: Iterable[bytes]) -> list[bytes]:
    results: list[Future] = []
    for image in album:
        results.append(thumb_pool.submit(make_thumbnail, image))  # expect: backpressure
    return [f.result(timeout=30) for f in results]


def thumbnails_bounded(images: Iterable[bytes]) -> list[bytes]:
    futures: list[Future] = []
    for image in images:
        if not _thumb_slots.acquire(timeout=30):
            raise TimeoutError("thumbnail pool saturated")
        fut = thumb_pool.submit(make_thumbnail, image)
        fut.add_done_callback(lambda _f: _thumb_slots.release())
        futures.append(fut)
    return [f.result(timeout=30) for f in futures]


def export_visitor_clicks(conn: Connection, visitor_id: str) -> list[dict]:
    result = conn.execute(text("SELECT * FROM clicks WHERE visitor_id = :v ORDER BY ts"), {"v": visitor_id})
    return [dict(r._mapping) for r in result.fetchall()]  # expect: backpressure


def latest_visitor_clicks(conn: Connection, visitor_id: str) -> list[dict]:
    result = conn.execute(text("SELECT * FROM clicks WHERE visitor_id = :v ORDER BY ts DESC LIMIT 100"), {"v": visitor_id})
    return [dict(r._mapping) for r in result.fetchall()]


def stream_day_clicks(session: Session, day: str) -> Iterable[ClickEvent]:
    stmt = select(ClickEvent).where(ClickEvent.day == day).execution_options(yield_per=1000)
    yield from session.scalars(stmt)


async def mirror_partner_export(export_url: str, sink) -> int:
    async with enrich_http.stream("GET", export_url) as resp:
        resp.raise_for_status()
        body = await resp.aread()  # expect: backpressure
    await sink.write(body)
    return len(body)


async def mirror_partner_export_streaming(export_url: str, sink) -> int:
    total = 0
    async with enrich_http.stream("GET", export_url) as resp:
        resp.raise_for_status()
        async for chunk in resp.aiter_bytes(chunk_size=1 << 20):
            await sink.write(chunk)
            total += len(chunk)
    return total


async def accept_event(event: dict) -> bool:
    try:
        enriched_events.put_nowait(event)
    except asyncio.QueueFull:
        logger.warning("ingest_queue_full", extra={"depth": enriched_events.qsize()})
        return False
    return True
