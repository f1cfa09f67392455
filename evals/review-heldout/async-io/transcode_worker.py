"""Media transcoding orchestrator: async job API, ffmpeg worker loop, packaging and delivery hooks."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

import bcrypt
import boto3
import httpx
import requests
from botocore.config import Config
from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import scoped_session, sessionmaker

from media.auth import Principal, current_principal
from media.db import async_engine, sync_engine
from media.models import Rendition, ShareLink, TranscodeJob
from media.settings import settings

logger = logging.getLogger("media.transcode")

SCRATCH = Path("/scratch")
PROBE_CONCURRENCY = 8
HTTP_TIMEOUT = httpx.Timeout(5.0, connect=1.0, pool=1.0)

AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
legacy_db = scoped_session(sessionmaker(bind=sync_engine))
s3 = boto3.client("s3", config=Config(connect_timeout=2, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}))
cdn = httpx.AsyncClient(base_url=settings.cdn_api_url, timeout=HTTP_TIMEOUT)
drm_legacy = httpx.Client(base_url=settings.drm_url, timeout=HTTP_TIMEOUT)
hash_pool = ProcessPoolExecutor(max_workers=2)

app = FastAPI()


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_key: Annotated[str, Field(min_length=1, max_length=512, pattern=r"^uploads/[A-Za-z0-9/_.-]+$")]
    ladder: Literal["sd", "hd", "uhd"] = "hd"


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, Field(min_length=8, max_length=128)]


def ffmpeg_argv(src: Path, dst: Path, height: int, bitrate_k: int) -> list[str]:
    return [
        "ffmpeg", "-nostdin", "-y", "-i", str(src),
        "-vf", f"scale=-2:{height}", "-c:v", "libx264", "-b:v", f"{bitrate_k}k", "-c:a", "aac", str(dst),
    ]


def read_manifest(path: Path) -> dict:
    """Sync helper; only ever called through asyncio.to_thread."""
    with open(path, "rb") as fh:
        return json.loads(fh.read())


async def get_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSessionLocal() as session:
        yield session


@app.put("/v1/jobs/{job_id}", status_code=202)
async def create_job(
    job_id: UUID,
    body: JobIn,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> dict[str, str]:
    async with session.begin():
        existing = await session.get(TranscodeJob, job_id)
        if existing is None:
            session.add(TranscodeJob(id=job_id, owner_id=principal.user_id, source_key=body.source_key, ladder=body.ladder, status="queued"))
    return {"id": str(job_id), "status": "queued"}


@app.get("/v1/jobs/{job_id}")
async def job_status(job_id: UUID, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, str]:
    job = legacy_db.get(TranscodeJob, job_id)  # expect: async-io
    if job is None or job.owner_id != principal.user_id:
        raise HTTPException(status_code=404)
    return {"id": str(job.id), "status": job.status}


@app.get("/v2/jobs/{job_id}")
async def job_status_v2(
    job_id: UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> dict[str, str]:
    job = await session.scalar(select(TranscodeJob).where(TranscodeJob.id == job_id, TranscodeJob.owner_id == principal.user_id))
    if job is None:
        raise HTTPException(status_code=404)
    return {"id": str(job.id), "status": job.status}


@app.put("/v1/renditions/{rendition_id}/share")
async def protect_share_link(
    rendition_id: UUID,
    body: ShareIn,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> dict[str, str]:
    digest = bcrypt.hashpw(body.password.encode(), bcrypt.gensalt(rounds=12))  # expect: async-io
    async with session.begin():
        session.add(ShareLink(rendition_id=rendition_id, owner_id=principal.user_id, password_hash=digest))
    return {"rendition_id": str(rendition_id)}


@app.put("/v2/renditions/{rendition_id}/share")
async def protect_share_link_v2(
    rendition_id: UUID,
    body: ShareIn,
    principal: Annotated[Principal, Depends(current_principal)],
    session: Annotated[AsyncSession, Depends(get_session)],
) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    digest = await loop.run_in_executor(hash_pool, bcrypt.hashpw, body.password.encode(), bcrypt.gensalt(rounds=12))
    async with session.begin():
        session.add(ShareLink(rendition_id=rendition_id, owner_id=principal.user_id, password_hash=digest))
    return {"rendition_id": str(rendition_id)}


class TranscodeWorker:
    def __init__(self) -> None:
        self._background: set[asyncio.Task[None]] = set()
        self._probe_limit = asyncio.Semaphore(PROBE_CONCURRENCY)

    async def probe_duration_blocking(self, src: Path) -> float:
        proc = subprocess.run(  # expect: async-io
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(src)],
            capture_output=True, check=True, timeout=30,
        )
        return float(json.loads(proc.stdout)["format"]["duration"])

    async def probe_duration(self, src: Path) -> float:
        proc = await asyncio.to_thread(
            subprocess.run,
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(src)],
            capture_output=True, check=True, timeout=30,
        )
        return float(json.loads(proc.stdout)["format"]["duration"])

    async def encode(self, src: Path, dst: Path, height: int, bitrate_k: int) -> None:
        proc = await asyncio.create_subprocess_exec(
            *ffmpeg_argv(src, dst, height, bitrate_k), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=3600)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0:
            logger.error("ffmpeg_failed", extra={"dst": dst.name, "returncode": proc.returncode, "stderr_tail": stderr[-500:].decode(errors="replace")})
            raise RuntimeError("ffmpeg failed")

    async def fetch_source(self, job: TranscodeJob) -> Path:
        dst = SCRATCH / f"{job.id}.src"
        await asyncio.to_thread(s3.download_file, settings.upload_bucket, job.source_key, str(dst))
        return dst

    async def publish_rendition(self, job_id: UUID, path: Path) -> None:
        s3.upload_file(str(path), settings.delivery_bucket, f"renditions/{job_id}/{path.name}")  # expect: async-io

    async def publish_rendition_v2(self, job_id: UUID, path: Path) -> None:
        await asyncio.to_thread(s3.upload_file, str(path), settings.delivery_bucket, f"renditions/{job_id}/{path.name}")

    async def load_ladder_manifest(self, job: TranscodeJob) -> dict:
        with open(SCRATCH / f"{job.id}.ladder.json", "rb") as fh:  # expect: async-io
            return json.loads(fh.read())

    async def load_package_manifest(self, job: TranscodeJob) -> dict:
        return await asyncio.to_thread(read_manifest, SCRATCH / f"{job.id}.package.json")

    async def register_drm_keys(self, job_id: UUID) -> str:
        resp = drm_legacy.post("/v1/keys", json={"content_id": str(job_id)})  # expect: async-io
        resp.raise_for_status()
        return resp.json()["key_id"]

    async def fetch_caption_tracks(self, job: TranscodeJob) -> list[dict]:
        resp = requests.get(f"{settings.captions_url}/v1/assets/{job.source_key}/tracks", timeout=5)  # expect: async-io
        resp.raise_for_status()
        return resp.json()["tracks"]

    async def purge_cdn(self, job_id: UUID) -> None:
        resp = await cdn.post("/purge", json={"prefix": f"renditions/{job_id}/"})
        resp.raise_for_status()

    async def wait_for_cdn(self, job_id: UUID) -> bool:
        for _ in range(10):
            resp = await cdn.get(f"/status/renditions/{job_id}")
            if resp.status_code == 200 and resp.json().get("ready"):
                return True
            time.sleep(2)  # expect: async-io
        return False

    async def wait_for_cdn_v2(self, job_id: UUID) -> bool:
        for _ in range(10):
            resp = await cdn.get(f"/status/renditions/{job_id}")
            if resp.status_code == 200 and resp.json().get("ready"):
                return True
            await asyncio.sleep(2)
        return False

    async def _ping_usage(self, job_id: UUID, seconds: float) -> None:
        await cdn.post("/usage", json={"job_id": str(job_id), "seconds": seconds})

    async def record_usage(self, job_id: UUID, seconds: float) -> None:
        asyncio.create_task(self._ping_usage(job_id, seconds))  # expect: async-io

    async def record_usage_v2(self, job_id: UUID, seconds: float) -> None:
        task = asyncio.create_task(self._ping_usage(job_id, seconds))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def probe_all(self, sources: list[Path]) -> list[float]:
        return await asyncio.gather(*[self.probe_duration(src) for src in sources])  # expect: async-io, backpressure

    async def probe_all_bounded(self, sources: list[Path]) -> list[float]:
        async def one(src: Path) -> float:
            async with self._probe_limit:
                return await self.probe_duration(src)

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(one(src)) for src in sources]
        return [t.result() for t in tasks]

    async def run_job(self, session: AsyncSession, job: TranscodeJob) -> None:
        src = await self.fetch_source(job)
        started = time.monotonic()
        ladder = {"sd": [(480, 1200)], "hd": [(480, 1200), (720, 2800), (1080, 5000)], "uhd": [(1080, 5000), (2160, 14000)]}[job.ladder]
        for height, bitrate in ladder:
            dst = SCRATCH / f"{job.id}_{height}p.mp4"
            await self.encode(src, dst, height, bitrate)
            await self.publish_rendition_v2(job.id, dst)
        async with session.begin():
            session.add_all(Rendition(job_id=job.id, height=h, bitrate_k=b) for h, b in ladder)
            job.status = "done"
        await self.record_usage_v2(job.id, time.monotonic() - started)
