"""Appointment booking API and reminder worker for a healthcare clinic scheduling service."""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

import aiohttp
import asyncpg
import httpx
import redis
import redis.asyncio as aioredis
import requests
from celery import Celery
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from scheduling.auth import Principal, current_principal
from scheduling.settings import settings

logger = logging.getLogger("scheduling.api")

EHR_TIMEOUT = httpx.Timeout(3.0, connect=1.0, pool=0.5)
EHR_LIMITS = httpx.Limits(max_connections=40, max_keepalive_connections=10, keepalive_expiry=30.0)
CALENDAR_TIMEOUT = aiohttp.ClientTimeout(total=8, connect=2)
PG_CONNECT_ARGS = {"timeout": 3, "command_timeout": 5}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.db = create_async_engine(
        settings.db_url,
        pool_size=10,
        max_overflow=5,
        pool_timeout=3,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=PG_CONNECT_ARGS,
    )
    app.state.sessions = async_sessionmaker(app.state.db, expire_on_commit=False)
    app.state.ehr = httpx.AsyncClient(base_url=settings.ehr_url, timeout=EHR_TIMEOUT, limits=EHR_LIMITS)
    app.state.calendar = aiohttp.ClientSession(
        timeout=CALENDAR_TIMEOUT, connector=aiohttp.TCPConnector(limit=30, limit_per_host=10)
    )
    app.state.cache = aioredis.Redis(
        host=settings.redis_host, max_connections=50, socket_timeout=0.3, socket_connect_timeout=1.0
    )
    app.state.slots = await asyncpg.create_pool(
        dsn=settings.slots_dsn, min_size=2, max_size=10, timeout=3, command_timeout=5
    )
    try:
        yield
    finally:
        await app.state.slots.close()
        await app.state.cache.aclose()
        await app.state.calendar.close()
        await app.state.ehr.aclose()
        await app.state.db.dispose()


app = FastAPI(lifespan=lifespan)


def get_ehr(request: Request) -> httpx.AsyncClient:
    return request.app.state.ehr


def get_slots_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.slots


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: UUID
    provider_id: UUID
    starts_at: AwareDatetime
    reason_code: Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Z0-9.]+$")]


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: AwareDatetime


class SlotOut(BaseModel):
    provider_id: UUID
    starts_at: datetime
    minutes: int


class CoverageOut(BaseModel):
    eligible: bool
    copay_cents: int


@app.get("/v1/clinics/{clinic_id}/slots", response_model=list[SlotOut])
async def list_slots(
    clinic_id: UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    pool: Annotated[asyncpg.Pool, Depends(get_slots_pool)],
) -> list[SlotOut]:
    principal.require_clinic(clinic_id)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT provider_id, starts_at, minutes FROM open_slots WHERE clinic_id = $1 "
            "AND starts_at > now() ORDER BY starts_at LIMIT 200",
            clinic_id,
        )
    return [SlotOut(provider_id=r["provider_id"], starts_at=r["starts_at"], minutes=r["minutes"]) for r in rows]


@app.get("/v1/patients/{patient_id}/coverage", response_model=CoverageOut)
async def check_coverage(
    patient_id: UUID, principal: Annotated[Principal, Depends(current_principal)]
) -> CoverageOut:
    principal.require_patient_access(patient_id)
    async with httpx.AsyncClient(base_url=settings.payer_url, timeout=EHR_TIMEOUT) as payer:  # expect: pooling
        resp = await payer.get(f"/eligibility/{patient_id}")
    resp.raise_for_status()
    body = resp.json()
    return CoverageOut(eligible=body["eligible"], copay_cents=body["copay_cents"])


@app.get("/v1/patients/{patient_id}/chart-summary")
async def chart_summary(
    patient_id: UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    ehr: Annotated[httpx.AsyncClient, Depends(get_ehr)],
) -> dict[str, int]:
    principal.require_patient_access(patient_id)
    resp = await ehr.get(f"/patients/{patient_id}/summary")
    resp.raise_for_status()
    return {"open_orders": resp.json()["open_orders"]}


@app.get("/v1/regions/{region}/providers/{provider_id}/availability")
async def regional_availability(
    region: Literal["eu", "us", "apac"], provider_id: UUID, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, int]:
    principal.require_region(region)
    engine: AsyncEngine = create_async_engine(settings.region_db_urls[region], pool_timeout=3, connect_args=PG_CONNECT_ARGS)  # expect: pooling
    async with engine.connect() as conn:
        free = await conn.scalar(
            text("SELECT count(*) FROM open_slots WHERE provider_id = :p AND starts_at > now()"), {"p": provider_id}
        )
    await engine.dispose()
    return {"free_slots": int(free or 0)}


@app.put("/v1/clinics/{clinic_id}/calendar-sync")
async def sync_calendars(
    clinic_id: UUID,
    principal: Annotated[Principal, Depends(current_principal)],
    pool: Annotated[asyncpg.Pool, Depends(get_slots_pool)],
) -> dict[str, int]:
    principal.require_clinic(clinic_id)
    async with pool.acquire() as conn:
        providers = await conn.fetch(
            "SELECT provider_id, calendar_url FROM providers WHERE clinic_id = $1 LIMIT 100", clinic_id
        )
    synced = 0
    for row in providers:
        async with aiohttp.ClientSession(timeout=CALENDAR_TIMEOUT) as calendar:  # expect: pooling
            async with calendar.get(row["calendar_url"]) as resp:
                if resp.status == 200:
                    synced += 1
    return {"synced": synced}


@app.get("/v1/clinics/{clinic_id}/calendar-health")
async def calendar_health(clinic_id: UUID, request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, bool]:
    principal.require_clinic(clinic_id)
    calendar: aiohttp.ClientSession = request.app.state.calendar
    async with calendar.get(f"{settings.calendar_url}/clinics/{clinic_id}/health") as resp:
        return {"healthy": resp.status == 200}


@app.put("/v1/appointments/{appointment_id}", status_code=201)
async def book_appointment(
    appointment_id: UUID,
    body: BookingIn,
    principal: Annotated[Principal, Depends(current_principal)],
    pool: Annotated[asyncpg.Pool, Depends(get_slots_pool)],
) -> dict[str, str]:
    principal.require_patient_access(body.patient_id)
    async with pool.acquire() as conn:
        async with conn.transaction():
            claimed = await conn.execute(
                "UPDATE open_slots SET held_by = $1 WHERE provider_id = $2 AND starts_at = $3 AND held_by IS NULL",
                appointment_id, body.provider_id, body.starts_at,
            )
            if claimed != "UPDATE 1":
                raise HTTPException(status_code=409, detail="slot_taken")
            await conn.execute(
                "INSERT INTO appointments (id, patient_id, provider_id, starts_at, reason_code) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                appointment_id, body.patient_id, body.provider_id, body.starts_at, body.reason_code,
            )
            async with pool.acquire() as audit_conn:  # expect: pooling
                await audit_conn.execute(
                    "INSERT INTO audit_log (actor_id, action, subject_id, at) VALUES ($1, 'book', $2, $3)",
                    principal.user_id, appointment_id, datetime.now(UTC),
                )
    return {"id": str(appointment_id)}


@app.patch("/v1/appointments/{appointment_id}")
async def reschedule(
    appointment_id: UUID,
    body: RescheduleIn,
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
) -> dict[str, str]:
    async with request.app.state.sessions() as session:
        async with session.begin():
            row = (await session.execute(
                text("SELECT patient_id FROM appointments WHERE id = :id FOR UPDATE"), {"id": appointment_id}
            )).one()
            principal.require_patient_access(row.patient_id)
            await session.execute(
                text("UPDATE appointments SET starts_at = :s WHERE id = :id"), {"s": body.starts_at, "id": appointment_id}
            )
            await request.app.state.ehr.put(f"/encounters/{appointment_id}", json={"starts_at": body.starts_at.isoformat()})  # expect: pooling, transactions
    return {"id": str(appointment_id)}


@app.get("/v1/clinics/{clinic_id}/utilisation")
async def utilisation_report(clinic_id: UUID, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, float]:
    principal.require_clinic(clinic_id)
    reporting = await asyncpg.create_pool(dsn=settings.reporting_dsn, min_size=1, max_size=2, timeout=3, command_timeout=10)  # expect: pooling
    async with reporting.acquire() as conn:
        ratio = await conn.fetchval("SELECT booked_ratio FROM clinic_utilisation WHERE clinic_id = $1", clinic_id)
    await reporting.close()
    return {"booked_ratio": float(ratio or 0.0)}


@app.get("/v1/providers/{provider_id}/waitlist-size")
async def waitlist_size(provider_id: UUID, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, int]:
    principal.require_provider(provider_id)
    counts = aioredis.Redis(host=settings.redis_host, socket_timeout=0.3, socket_connect_timeout=1.0)  # expect: pooling
    size = await counts.zcard(f"waitlist:v1:{provider_id}")
    await counts.aclose()
    return {"size": int(size)}


@app.get("/v1/providers/{provider_id}/next-free")
async def next_free(provider_id: UUID, request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, str | None]:
    principal.require_provider(provider_id)
    value = await request.app.state.cache.get(f"next-free:v1:{provider_id}")
    return {"starts_at": value.decode() if value else None}


# --------------------------------------------------------------------------- reminder worker

celery = Celery("scheduling", broker=settings.broker_url)
celery.conf.task_acks_late = True

worker_engine = create_engine(settings.db_sync_url, pool_size=5, max_overflow=10, pool_timeout=30, pool_pre_ping=True)  # expect: pooling, timeouts
legacy_admin_engine = create_engine(settings.db_sync_url, poolclass=NullPool, connect_args={"connect_timeout": 3})  # expect: pooling
reports_engine = create_engine(
    settings.reporting_sync_url, pool_size=3, max_overflow=2, pool_timeout=3, pool_recycle=1800,
    connect_args={"connect_timeout": 3},
)

sms_http = requests.Session()
sms_http.mount("https://", HTTPAdapter(pool_connections=2, pool_maxsize=10))
reminder_redis = redis.Redis(host=settings.redis_host, max_connections=20, socket_timeout=0.5, socket_connect_timeout=1.0)


@celery.task(name="reminders.send", bind=True, max_retries=3)
def send_reminder(self, appointment_id: str) -> None:
    if not reminder_redis.set(f"reminder-sent:v1:{appointment_id}", "1", nx=True, ex=86_400):
        return
    with worker_engine.connect() as conn:
        row = conn.execute(
            text("SELECT patient_id, starts_at FROM appointments WHERE id = :id"), {"id": appointment_id}
        ).one()
    resp = sms_http.post(
        f"{settings.sms_url}/messages",
        json={"patient_id": str(row.patient_id), "template": "appt_reminder", "starts_at": row.starts_at.isoformat()},
        headers={"Idempotency-Key": f"reminder-{appointment_id}"},
        timeout=(1.0, 5.0),
    )
    resp.raise_for_status()


@celery.task(name="reminders.confirm_delivery")
def confirm_delivery(message_id: str) -> str:
    status = requests.get(f"{settings.sms_url}/messages/{message_id}", timeout=(1.0, 3.0))  # expect: pooling
    status.raise_for_status()
    return status.json()["state"]


@celery.task(name="reminders.sync_preferences")
def sync_preferences(patient_id: str) -> None:
    prefs_http = requests.Session()  # expect: pooling
    resp = prefs_http.get(f"{settings.prefs_url}/patients/{patient_id}", timeout=(1.0, 3.0))
    resp.raise_for_status()
    prefs_cache = redis.Redis(host=settings.redis_host, socket_timeout=0.5, socket_connect_timeout=1.0)  # expect: pooling
    prefs_cache.set(f"prefs:v1:{patient_id}", resp.content, ex=900)


@celery.task(name="reminders.expire_holds")
def expire_holds() -> int:
    with reports_engine.begin() as conn:
        result = conn.execute(text("UPDATE open_slots SET held_by = NULL WHERE held_until < now()"))
    return result.rowcount


def main() -> None:
    """One-off CLI: backfill provider timezones. Runs once per invocation, so no pool is kept."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    engine = create_engine(settings.db_sync_url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    with engine.begin() as conn:
        missing = conn.execute(text("SELECT count(*) FROM providers WHERE tz IS NULL")).scalar_one()
        if not args.dry_run:
            conn.execute(text("UPDATE providers SET tz = clinics.tz FROM clinics WHERE providers.clinic_id = clinics.id AND providers.tz IS NULL"))
    logger.info("backfill_done", extra={"missing": missing, "dry_run": args.dry_run})


if __name__ == "__main__":
    main()
