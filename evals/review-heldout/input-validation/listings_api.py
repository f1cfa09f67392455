"""Property listings API for a real-estate marketplace: listings, search, exports, CRM webhooks and price feed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import pickle
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from listings.auth import AgentPrincipal, current_agent
from listings.db import get_conn
from listings.models import Agent
from listings.settings import settings

logger = logging.getLogger("listings.api")

EXPORT_DIR = Path("/srv/exports").resolve()
UPLOAD_DIR = Path("/srv/uploads").resolve()

router = APIRouter(prefix="/v1")

SortField = Literal["price", "listed_at", "area_m2"]
SORT_COLUMNS: dict[str, str] = {"price": "l.price", "listed_at": "l.listed_at", "area_m2": "l.area_m2"}


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: Annotated[str, Field(min_length=5, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)]
    property_type: Literal["apartment", "house", "land", "commercial"]
    price: Annotated[Decimal, Field(gt=0, le=500_000_000, max_digits=12, decimal_places=2)]
    area_m2: Annotated[int, Field(ge=1, le=100_000)]
    postcode: Annotated[str, Field(pattern=r"^[A-Z0-9 ]{3,10}$")]
    photo_ids: Annotated[list[UUID], Field(max_length=60)] = []


class ListingSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: Annotated[str, Field(min_length=2, max_length=80)]
    min_price: Annotated[Decimal, Field(ge=0)] | None = None
    max_price: Annotated[Decimal, Field(ge=0)] | None = None
    sort: SortField = "listed_at"
    descending: bool = True
    page_size: int = 20  # expect: input-validation


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    crm_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    office_id: UUID


class CrmEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: Annotated[str, Field(max_length=64)]
    type: Literal["agent.upserted", "agent.deactivated"]
    agent: AgentIn


class PriceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    listing_id: UUID
    price: Annotated[Decimal, Field(gt=0, le=500_000_000)]


@router.put("/listings/{listing_id}", status_code=201)
async def create_listing(
    listing_id: UUID,
    body: ListingIn,
    agent: Annotated[AgentPrincipal, Depends(current_agent)],
    conn: Annotated[asyncpg.Connection, Depends(get_conn)],
) -> dict[str, str]:
    await conn.execute(
        "INSERT INTO listings (id, agent_id, title, description, property_type, price, area_m2, postcode) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        listing_id, agent.id, body.title, body.description, body.property_type, body.price, body.area_m2, body.postcode,
    )
    return {"id": str(listing_id)}


@router.patch("/listings/{listing_id}")
async def update_listing(listing_id: UUID, payload: dict, agent: Annotated[AgentPrincipal, Depends(current_agent)], conn: Annotated[asyncpg.Connection, Depends(get_conn)]) -> dict[str, str]:  # expect: input-validation
    columns = ", ".join(f"{name} = ${i + 3}" for i, name in enumerate(payload))
    await conn.execute(f"UPDATE listings SET {columns} WHERE id = $1 AND agent_id = $2", listing_id, agent.id, *payload.values())  # expect: input-validation
    return {"id": str(listing_id)}


@router.post("/listings/search")
async def search_listings(
    query: ListingSearch, conn: Annotated[asyncpg.Connection, Depends(get_conn)]
) -> list[dict[str, object]]:
    order = f"{SORT_COLUMNS[query.sort]} {'DESC' if query.descending else 'ASC'}"
    rows = await conn.fetch(
        "SELECT l.id, l.title, l.price FROM listings l WHERE l.city = $1 "
        "AND ($2::numeric IS NULL OR l.price >= $2) AND ($3::numeric IS NULL OR l.price <= $3) "
        f"ORDER BY {order} LIMIT $4",
        query.city, query.min_price, query.max_price, query.page_size,
    )
    return [dict(r) for r in rows]


@router.get("/listings")
async def browse_listings(
    conn: Annotated[asyncpg.Connection, Depends(get_conn)],
    city: Annotated[str, Query(min_length=2, max_length=80)],
    sort: str = "listed_at",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, object]]:
    rows = await conn.fetch(f"SELECT id, title, price FROM listings WHERE city = $1 ORDER BY {sort} DESC LIMIT $2", city, limit)  # expect: input-validation
    return [dict(r) for r in rows]


@router.post("/listings/search/polygon")
async def search_by_polygon(request: Request, conn: Annotated[asyncpg.Connection, Depends(get_conn)]) -> list[dict[str, object]]:
    body = await request.json()  # expect: input-validation
    rows = await conn.fetch(
        "SELECT id, title, price FROM listings WHERE ST_Within(geom, ST_GeomFromGeoJSON($1)) LIMIT $2",
        json.dumps(body["polygon"]), body.get("limit", 50),
    )
    return [dict(r) for r in rows]


@router.get("/offices/{office_id}/agents")
async def list_agents(office_id: UUID, agent: Annotated[AgentPrincipal, Depends(current_agent)], conn: Annotated[asyncpg.Connection, Depends(get_conn)], limit: int = 100, offset: int = 0) -> list[dict[str, object]]:  # expect: input-validation
    agent.require_office(office_id)
    rows = await conn.fetch(
        "SELECT id, display_name FROM agents WHERE office_id = $1 ORDER BY display_name LIMIT $2 OFFSET $3",
        office_id, limit, offset,
    )
    return [dict(r) for r in rows]


@router.put("/offices/{office_id}/commission-rule")
async def set_commission_rule(
    office_id: UUID, request: Request, agent: Annotated[AgentPrincipal, Depends(current_agent)]
) -> dict[str, str]:
    agent.require_office(office_id)
    rule = (await request.body()).decode()[:200]
    sample = eval(rule, {"__builtins__": {}}, {"price": Decimal("350000")})  # expect: input-validation
    return {"sample_commission": str(sample)}


@router.put("/saved-searches/{search_id}")
async def import_saved_search(
    search_id: UUID, request: Request, agent: Annotated[AgentPrincipal, Depends(current_agent)]
) -> dict[str, str]:
    saved = pickle.loads(await request.body())  # expect: input-validation
    logger.info("saved_search_imported", extra={"search_id": str(search_id), "filters": len(saved)})
    return {"id": str(search_id)}


@router.get("/exports/{filename}")
async def download_export(filename: str, agent: Annotated[AgentPrincipal, Depends(current_agent)]) -> FileResponse:
    return FileResponse(EXPORT_DIR / agent.office_slug / filename)  # expect: input-validation


@router.get("/exports/v2/{filename}")
async def download_export_v2(
    filename: Annotated[str, PathParam(max_length=100)], agent: Annotated[AgentPrincipal, Depends(current_agent)]
) -> FileResponse:
    base = (EXPORT_DIR / agent.office_slug).resolve()
    target = (base / filename).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(target)


def convert_upload_legacy(upload_name: str, layer: str) -> bytes:
    src = UPLOAD_DIR / upload_name
    proc = subprocess.run(f"ogr2ogr -f GeoJSON /vsistdout/ {src} -sql 'SELECT * FROM {layer}'", shell=True, capture_output=True, timeout=60)  # expect: input-validation
    return proc.stdout


def convert_upload(upload_id: UUID, layer: Literal["parcels", "buildings", "zoning"]) -> bytes:
    src = UPLOAD_DIR / f"{upload_id}.gpkg"
    proc = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(src), layer],
        capture_output=True, check=True, timeout=60,
    )
    return proc.stdout


@router.post("/webhooks/crm")
async def crm_webhook(
    request: Request,
    conn: Annotated[asyncpg.Connection, Depends(get_conn)],
    signature: Annotated[str, Header(alias="X-CRM-Signature", max_length=128)],
) -> dict[str, bool]:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > 64 * 1024:
        raise HTTPException(status_code=413)
    raw = await request.body()
    expected = hmac.new(settings.crm_webhook_secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise HTTPException(status_code=401)
    try:
        event = CrmEvent.model_validate_json(raw)
    except ValidationError:
        raise HTTPException(status_code=422) from None
    first_delivery = await conn.fetchval(
        "INSERT INTO crm_inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", event.event_id
    )
    if first_delivery:
        agent = Agent(**event.agent.model_dump())
        await agent.upsert(conn)
    return {"ok": True}


@router.post("/webhooks/crm-legacy")
async def crm_webhook_legacy(
    request: Request,
    conn: Annotated[asyncpg.Connection, Depends(get_conn)],
    signature: Annotated[str, Header(alias="X-CRM-Signature", max_length=128)],
) -> dict[str, bool]:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > 64 * 1024:
        raise HTTPException(status_code=413)
    raw = await request.body()
    expected = hmac.new(settings.crm_webhook_secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise HTTPException(status_code=401)
    data = json.loads(raw)
    agent = Agent(**data["agent"])  # expect: input-validation
    await agent.upsert(conn)
    return {"ok": True}


async def consume_price_feed(consumer: AIOKafkaConsumer, pool: asyncpg.Pool) -> None:
    while True:
        batches = await consumer.getmany(timeout_ms=1000, max_records=500)
        valid: list[tuple[UUID, Decimal]] = []
        rejected: list[tuple[int, str]] = []
        for records in batches.values():
            for record in records:
                try:
                    update = PriceUpdate.model_validate_json(record.value)
                except ValidationError as exc:
                    rejected.append((record.offset, str(exc)[:2000]))
                    continue
                valid.append((update.listing_id, update.price))
        async with pool.acquire() as conn, conn.transaction():
            await conn.executemany("UPDATE listings SET price = $2 WHERE id = $1", valid)
            await conn.executemany("INSERT INTO price_feed_dlq (topic_offset, error) VALUES ($1, $2)", rejected)
        await consumer.commit()


async def consume_price_feed_v1(consumer: AIOKafkaConsumer, pool: asyncpg.Pool) -> None:
    while True:
        batches = await consumer.getmany(timeout_ms=1000, max_records=500)
        rows: list[tuple[str, str]] = []
        for records in batches.values():
            for record in records:
                msg = json.loads(record.value)  # expect: input-validation
                rows.append((msg["listing_id"], msg["price"]))
        await pool.executemany("UPDATE listings SET price = $2 WHERE id = $1", rows)
        await consumer.commit()


def create_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app
