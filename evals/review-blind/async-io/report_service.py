"""Async report-rendering API: status polling, file assembly, storage upload, auth and background audit."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiofiles
import bcrypt
import boto3
import httpx
import psycopg2
import requests
from botocore.config import Config
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from .render import render_pdf

logger = logging.getLogger(__name__)

app = FastAPI()
REPORT_DIR = Path("/data/reports")
HTTP_TIMEOUT = httpx.Timeout(2.0, connect=0.5)
FANOUT_LIMIT = 10

reports_http = httpx.AsyncClient(base_url="https://reports.internal", timeout=HTTP_TIMEOUT)
auth_session = requests.Session()
legacy_http = httpx.Client(base_url="https://legacy.internal", timeout=HTTP_TIMEOUT)
s3 = boto3.client("s3", config=Config(connect_timeout=2, read_timeout=5))
engine = create_async_engine("postgresql+asyncpg://reports@db/reports", pool_size=5, pool_timeout=3, connect_args={"timeout": 3, "command_timeout": 5})
async_sessions = async_sessionmaker(engine, expire_on_commit=False)
SyncSession = sessionmaker()
cpu_pool = ProcessPoolExecutor(max_workers=2)
_background: set[asyncio.Task] = set()


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=128)
    password: str = Field(min_length=8, max_length=256)


@app.get("/reports/{report_id}/owner")
async def report_owner(report_id: str) -> dict:
    resp = auth_session.get(f"https://auth.internal/reports/{report_id}/owner", timeout=(0.5, 2))  # expect: async-io
    resp.raise_for_status()
    return {"owner_id": resp.json()["owner_id"]}


@app.get("/reports/{report_id}/owner/v2")
async def report_owner_v2(report_id: str) -> dict:
    resp = await reports_http.get(f"/reports/{report_id}/owner")
    resp.raise_for_status()
    return {"owner_id": resp.json()["owner_id"]}


@app.get("/reports/{report_id}/wait")
async def wait_until_ready(report_id: str) -> dict:
    for _ in range(5):
        resp = await reports_http.get(f"/reports/{report_id}/status")
        if resp.json()["ready"]:
            return {"ready": True}
        time.sleep(0.5)  # expect: async-io
    return {"ready": False}


@app.get("/reports/{report_id}/wait/v2")
async def wait_until_ready_v2(report_id: str) -> dict:
    for _ in range(5):
        resp = await reports_http.get(f"/reports/{report_id}/status")
        if resp.json()["ready"]:
            return {"ready": True}
        await asyncio.sleep(0.5)
    return {"ready": False}


@app.get("/reports/{report_id}/size")
async def report_size(report_id: int) -> dict:
    with open(REPORT_DIR / f"{report_id}.csv", "rb") as fh:  # expect: async-io
        body = fh.read()
    return {"size": len(body)}


@app.get("/reports/{report_id}/preview")
async def report_preview(report_id: int) -> dict:
    async with aiofiles.open(REPORT_DIR / f"{report_id}.csv", "rb") as fh:
        head = await fh.read(4096)
    return {"preview": head.decode(errors="replace")}


@app.get("/reports/{report_id}/compressed-size")
async def compressed_size(report_id: int) -> dict:
    out = subprocess.run(["zstd", "-q", "-c", str(REPORT_DIR / f"{report_id}.csv")], check=True, capture_output=True, timeout=60)  # expect: async-io
    return {"compressed_bytes": len(out.stdout)}


@app.get("/reports/{report_id}/compressed-size/v2")
async def compressed_size_v2(report_id: int) -> dict:
    proc = await asyncio.create_subprocess_exec("zstd", "-q", "-c", str(REPORT_DIR / f"{report_id}.csv"), stdout=asyncio.subprocess.PIPE)
    try:
        stdout, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        raise HTTPException(status_code=504)
    return {"compressed_bytes": len(stdout)}


@app.get("/reports/{report_id}/rows")
async def report_rows(report_id: int) -> dict:
    conn = psycopg2.connect("dbname=reports user=reports connect_timeout=3")  # expect: async-io
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM report_rows WHERE report_id = %s", (report_id,))
            (count,) = cur.fetchone()
    finally:
        conn.close()
    return {"rows": count}


@app.get("/reports/{report_id}/rows/v2")
async def report_rows_v2(report_id: int) -> dict:
    async with async_sessions() as session:
        count = (await session.execute(text("SELECT count(*) FROM report_rows WHERE report_id = :r"), {"r": report_id})).scalar_one()
    return {"rows": count}


@app.get("/reports/{report_id}/title")
async def report_title(report_id: int) -> dict:
    with SyncSession() as session:
        title = session.execute(text("SELECT title FROM reports WHERE id = :r"), {"r": report_id}).scalar_one()  # expect: async-io
    return {"title": title}


@app.put("/reports/{report_id}/artifact")
async def upload_artifact(report_id: int) -> dict:
    pdf = await asyncio.get_running_loop().run_in_executor(cpu_pool, render_pdf, report_id)
    s3.put_object(Bucket="report-artifacts", Key=f"{report_id}.pdf", Body=pdf)  # expect: async-io
    return {"key": f"{report_id}.pdf"}


@app.put("/reports/{report_id}/artifact/v2")
async def upload_artifact_v2(report_id: int) -> dict:
    pdf = await asyncio.get_running_loop().run_in_executor(cpu_pool, render_pdf, report_id)
    await asyncio.to_thread(s3.put_object, Bucket="report-artifacts", Key=f"{report_id}.pdf", Body=pdf)
    return {"key": f"{report_id}.pdf"}


@app.post("/share-links/verify")
async def verify_share_password(body: LoginIn) -> dict:
    async with async_sessions() as session:
        stored = (await session.execute(text("SELECT password_hash FROM share_links WHERE name = :n"), {"n": body.username})).scalar_one_or_none()
    if stored is None:
        raise HTTPException(status_code=404)
    ok = bcrypt.checkpw(body.password.encode(), stored.encode())  # expect: async-io
    return {"ok": ok}


@app.post("/share-links/verify/v2")
async def verify_share_password_v2(body: LoginIn) -> dict:
    async with async_sessions() as session:
        stored = (await session.execute(text("SELECT password_hash FROM share_links WHERE name = :n"), {"n": body.username})).scalar_one_or_none()
    if stored is None:
        raise HTTPException(status_code=404)
    ok = await asyncio.to_thread(bcrypt.checkpw, body.password.encode(), stored.encode())
    return {"ok": ok}


@app.get("/legacy/{report_id}")
async def legacy_report(report_id: int) -> dict:
    resp = legacy_http.get(f"/reports/{report_id}")  # expect: async-io
    resp.raise_for_status()
    return resp.json()


@app.get("/legacy/{report_id}/meta")
async def legacy_report_meta(report_id: int) -> dict:
    with urllib.request.urlopen(f"https://legacy.internal/reports/{report_id}/meta", timeout=2) as resp:  # expect: async-io
        return json.loads(resp.read())


async def audit(event: str, report_id: int) -> None:
    async with async_sessions() as session, session.begin():
        await session.execute(text("INSERT INTO audit_log (event, report_id) VALUES (:e, :r)"), {"e": event, "r": report_id})


@app.get("/reports/{report_id}")
async def get_report(report_id: int) -> dict:
    asyncio.create_task(audit("report_viewed", report_id))  # expect: async-io, stateless
    resp = await reports_http.get(f"/reports/{report_id}")
    resp.raise_for_status()
    return resp.json()


@app.get("/reports/{report_id}/summary")
async def report_summary(report_id: int) -> dict:
    resp = await reports_http.get(f"/reports/{report_id}/summary")
    resp.raise_for_status()
    await audit("report_summary_viewed", report_id)
    return resp.json()


async def warm_report_caches(report_ids: list[int]) -> None:
    await asyncio.gather(*[reports_http.post(f"/reports/{rid}/warm") for rid in report_ids])  # expect: async-io, backpressure


async def warm_report_caches_bounded(report_ids: list[int]) -> None:
    sem = asyncio.Semaphore(FANOUT_LIMIT)

    async def warm(rid: int) -> None:
        async with sem:
            (await reports_http.post(f"/reports/{rid}/warm")).raise_for_status()

    async with asyncio.TaskGroup() as tg:
        for rid in report_ids:
            tg.create_task(warm(rid))


def start_heartbeat() -> None:
    task = asyncio.get_running_loop().create_task(_heartbeat())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _heartbeat() -> None:
    while True:
        started = time.monotonic()
        await asyncio.sleep(0.1)
        lag = time.monotonic() - started - 0.1
        if lag > 0.05:
            logger.warning("event_loop_lag", extra={"lag_ms": round(lag * 1000, 1)})


def load_templates() -> dict[str, str]:
    templates = {}
    for path in sorted((REPORT_DIR / "templates").glob("*.html")):
        with open(path, encoding="utf-8") as fh:
            templates[path.stem] = fh.read()
    return templates


def legacy_report_sync(report_id: int) -> dict:
    resp = legacy_http.get(f"/reports/{report_id}")
    resp.raise_for_status()
    time.sleep(0.05)
    return resp.json()
