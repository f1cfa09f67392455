"""IoT telemetry ingestion: Kafka consumer, write pipeline, device fan-out and HTTP bulk upload endpoints."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated

import aiohttp
import asyncpg
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger("telemetry.ingest")

MAX_UPLOAD_BYTES = 4 * 1024 * 1024
WRITE_QUEUE_DEPTH = 400  # ~2 s of work at 200 readings/s per writer pool
FIRMWARE_FANOUT = 20
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=2, sock_read=5)


class Reading(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    device_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
    metric: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]
    value: float
    ts_ms: Annotated[int, Field(ge=0)]


def parse_reading(raw: bytes) -> Reading:
    return Reading.model_validate_json(raw)


class ReadingWriter:
    """Pulls readings from Kafka and writes them to TimescaleDB through a bounded pipeline."""

    def __init__(self, consumer: AIOKafkaConsumer, pool: asyncpg.Pool) -> None:
        self.consumer = consumer
        self.pool = pool
        self.queue: asyncio.Queue[tuple[TopicPartition, int, list[Reading]]] = asyncio.Queue(maxsize=WRITE_QUEUE_DEPTH)
        self.dead_letters: asyncio.Queue[bytes] = asyncio.Queue()  # expect: backpressure

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._write_loop())
            tg.create_task(self._read_loop())

    async def _read_loop(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=500)
            for tp, messages in batches.items():
                readings = []
                for msg in messages:
                    try:
                        readings.append(parse_reading(msg.value))
                    except ValidationError:
                        await self.dead_letters.put(msg.value)
                # blocks the reader when the writer falls behind
                await self.queue.put((tp, messages[-1].offset, readings))

    async def _write_loop(self) -> None:
        while True:
            tp, last_offset, readings = await self.queue.get()
            async with self.pool.acquire() as conn:
                await conn.executemany(
                    "INSERT INTO readings (device_id, metric, value, ts) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))",
                    [(r.device_id, r.metric, r.value, r.ts_ms) for r in readings],
                )
            await self.consumer.commit({tp: last_offset + 1})  # only what has been written
            self.queue.task_done()


class AlertForwarder:
    """Forwards threshold alerts to the rules engine; older code path kept for the legacy topic."""

    def __init__(self, consumer: AIOKafkaConsumer, session: aiohttp.ClientSession) -> None:
        self.consumer = consumer
        self.session = session
        self.pending: asyncio.Queue[Reading] = asyncio.Queue(maxsize=0)  # expect: backpressure

    async def consume(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=1000)  # expect: backpressure
            for _tp, messages in batches.items():
                for msg in messages:
                    try:
                        await self.pending.put(parse_reading(msg.value))
                    except ValidationError:
                        logger.warning("alert_rejected", extra={"offset": msg.offset})
            await self.consumer.commit()  # expect: backpressure

    async def forward(self) -> None:
        while True:
            alert = await self.pending.get()
            url = "https://rules.telemetry.internal/alerts"
            async with self.session.post(url, json=alert.model_dump(), timeout=HTTP_TIMEOUT) as resp:
                resp.raise_for_status()


class FirmwareRollout:
    def __init__(self, session: aiohttp.ClientSession, pool: asyncpg.Pool) -> None:
        self.session = session
        self.pool = pool

    async def _notify(self, device_id: str, version: str) -> int:
        url = f"https://devices.telemetry.internal/{device_id}/firmware"
        async with self.session.post(url, json={"version": version}, timeout=HTTP_TIMEOUT) as resp:
            return resp.status

    async def notify_fleet(self, fleet_id: str, version: str) -> list[int]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT device_id FROM devices WHERE fleet_id = $1", fleet_id)  # expect: backpressure
        return await asyncio.gather(*[self._notify(r["device_id"], version) for r in rows])  # expect: backpressure

    async def notify_cohort(self, fleet_id: str, version: str, cohort_size: int) -> list[int]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT device_id FROM devices WHERE fleet_id = $1 ORDER BY device_id LIMIT $2",
                fleet_id,
                min(cohort_size, 1000),
            )
        limit = asyncio.Semaphore(FIRMWARE_FANOUT)

        async def bounded(device_id: str) -> int:
            async with limit:
                return await self._notify(device_id, version)

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(bounded(r["device_id"])) for r in rows]
        return [t.result() for t in tasks]

    async def refresh_status(self, fleet_id: str) -> None:
        await asyncio.gather(self._ping_registry(fleet_id), self._ping_metrics(fleet_id))

    async def _ping_registry(self, fleet_id: str) -> None:
        async with self.session.post(f"https://registry.telemetry.internal/fleets/{fleet_id}/refresh", timeout=HTTP_TIMEOUT) as resp:
            resp.raise_for_status()

    async def _ping_metrics(self, fleet_id: str) -> None:
        async with self.session.post(f"https://metrics.telemetry.internal/fleets/{fleet_id}/refresh", timeout=HTTP_TIMEOUT) as resp:
            resp.raise_for_status()


class LatestValueBoard:
    """Per-process ring of the most recent readings for the live dashboard; dropping the oldest is fine."""

    def __init__(self, size: int = 500) -> None:
        self.recent: deque[Reading] = deque(maxlen=size)

    def record(self, reading: Reading) -> None:
        self.recent.append(reading)


class DecodeBridge:
    """Hands raw CAN frames from the serial reader thread to decoder threads."""

    def __init__(self, decoders: int = 4) -> None:
        self.frames: queue.Queue[bytes] = queue.Queue()  # expect: backpressure
        self.decoded: queue.Queue[Reading] = queue.Queue(maxsize=2000)
        self.executor = ThreadPoolExecutor(max_workers=decoders)
        self.slots = threading.BoundedSemaphore(decoders * 4)

    def decode_all(self, frames: list[bytes]) -> list[Future]:
        return [self.executor.submit(decode_frame, frame) for frame in frames]  # expect: backpressure

    def decode_bounded(self, frames: list[bytes]) -> list[Reading]:
        results: list[Reading] = []
        futures: list[Future] = []
        for frame in frames:
            if not self.slots.acquire(timeout=5):
                raise TimeoutError("decoder pool saturated")
            fut = self.executor.submit(decode_frame, frame)
            fut.add_done_callback(lambda _f: self.slots.release())
            futures.append(fut)
        for fut in futures:
            results.append(fut.result(timeout=10))
        return results


def decode_frame(frame: bytes) -> Reading:
    device, metric, value, ts = frame.split(b"|")
    return Reading(device_id=device.decode(), metric=metric.decode(), value=float(value), ts_ms=int(ts))


class UploadHandlers:
    def __init__(self, intake: asyncio.Queue[Reading]) -> None:
        self.intake = intake
        self.gateway_buffer: list[Reading] = []

    async def bulk_upload(self, request: web.Request) -> web.Response:
        if request.content_length is None or request.content_length > MAX_UPLOAD_BYTES:
            return web.json_response({"error": "payload_too_large"}, status=413)
        received = 0
        chunks: list[bytes] = []
        async for chunk in request.content.iter_chunked(64 * 1024):
            received += len(chunk)
            if received > MAX_UPLOAD_BYTES:
                return web.json_response({"error": "payload_too_large"}, status=413)
            chunks.append(chunk)
        accepted = 0
        for line in b"".join(chunks).splitlines():
            try:
                self.intake.put_nowait(parse_reading(line))
            except ValidationError:
                return web.json_response({"accepted": accepted, "error": "invalid_line"}, status=422)
            except asyncio.QueueFull:
                return web.json_response({"accepted": accepted}, status=503, headers={"Retry-After": "2"})
            accepted += 1
        return web.json_response({"accepted": accepted})

    async def legacy_upload(self, request: web.Request) -> web.Response:
        body = await request.read()  # expect: backpressure
        readings = [parse_reading(line) for line in body.splitlines()]
        for reading in readings:
            await self.intake.put(reading)  # expect: backpressure
        return web.json_response({"accepted": len(readings)})

    async def gateway_push(self, request: web.Request) -> web.Response:
        if request.content_length is None or request.content_length > 4096:
            return web.json_response({"error": "payload_too_large"}, status=413)
        reading = parse_reading(await request.read())
        self.gateway_buffer.append(reading)  # expect: backpressure
        return web.json_response({"queued": True}, status=202)

    async def single(self, request: web.Request) -> web.Response:
        if request.content_length is None or request.content_length > 4096:
            return web.json_response({"error": "payload_too_large"}, status=413)
        reading = parse_reading(await request.read())
        try:
            self.intake.put_nowait(reading)
        except asyncio.QueueFull:
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "1"})
        return web.json_response({"queued": True}, status=202)


async def device_history(pool: asyncpg.Pool, device_id: str, limit: int = 200) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT metric, value, ts FROM readings WHERE device_id = $1 ORDER BY ts DESC LIMIT $2",
            device_id,
            max(1, min(limit, 1000)),
        )
    return [dict(r) for r in rows]


async def export_device_history(pool: asyncpg.Pool, device_id: str, out: asyncio.StreamWriter) -> int:
    written = 0
    async with pool.acquire() as conn:
        async with conn.transaction():
            async for row in conn.cursor("SELECT metric, value, ts FROM readings WHERE device_id = $1", device_id, prefetch=1000):
                out.write(json.dumps({"metric": row["metric"], "value": row["value"], "ts": row["ts"].isoformat()}).encode() + b"\n")
                await out.drain()
                written += 1
    return written


async def download_firmware(session: aiohttp.ClientSession, url: str, dest: asyncio.StreamWriter) -> int:
    size = 0
    async with session.get(url, timeout=HTTP_TIMEOUT) as resp:
        resp.raise_for_status()
        async for chunk in resp.content.iter_chunked(256 * 1024):
            dest.write(chunk)
            await dest.drain()
            size += len(chunk)
    return size


def build_app(intake: asyncio.Queue[Reading]) -> web.Application:
    handlers = UploadHandlers(intake)
    app = web.Application(client_max_size=256 * 1024 * 1024)  # bulk gateway uploads can be large
    app.router.add_post("/v2/readings:bulk", handlers.bulk_upload)
    app.router.add_post("/v1/readings:bulk", handlers.legacy_upload)
    app.router.add_post("/v1/gateway/readings", handlers.gateway_push)
    app.router.add_post("/v2/readings", handlers.single)
    return app
