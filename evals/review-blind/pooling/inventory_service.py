"""Inventory API and its stock-sync consumers: HTTP, database and Redis client lifecycles."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import asyncpg
import httpx
import redis
import redis.asyncio as aioredis
import requests
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .models import StockLevel, Warehouse

logger = logging.getLogger(__name__)

DATABASE_URL = os.environ["DATABASE_URL"]
ASYNC_DATABASE_URL = os.environ["ASYNC_DATABASE_URL"]
PRICING_URL = "https://pricing.internal"
HTTP_TIMEOUT = httpx.Timeout(2.0, connect=1.0, pool=0.5)
HTTP_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30.0)


def build_engine(url: str) -> Engine:
    return create_engine(
        url,
        pool_size=8,
        max_overflow=4,
        pool_timeout=3,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 3},
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.http = httpx.AsyncClient(base_url=PRICING_URL, timeout=HTTP_TIMEOUT, limits=HTTP_LIMITS)
    app.state.engine = build_engine(DATABASE_URL)
    app.state.sessions = sessionmaker(app.state.engine, expire_on_commit=False)
    app.state.pg = await asyncpg.create_pool(DATABASE_URL, min_size=2, max_size=10, timeout=3, command_timeout=5)
    app.state.redis = aioredis.Redis(host="redis", socket_timeout=0.3, socket_connect_timeout=1, max_connections=50)
    try:
        yield
    finally:
        await app.state.http.aclose()
        await app.state.pg.close()
        await app.state.redis.aclose()
        app.state.engine.dispose()


app = FastAPI(lifespan=lifespan)

async_engine: AsyncEngine = create_async_engine(ASYNC_DATABASE_URL, poolclass=NullPool, connect_args={"timeout": 3, "command_timeout": 5})  # expect: pooling
reporting_engine = create_engine(DATABASE_URL, pool_size=5, max_overflow=5, pool_timeout=30, connect_args={"connect_timeout": 3})  # expect: pooling, timeouts
async_sessions = async_sessionmaker(async_engine, expire_on_commit=False)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


def get_session(request: Request):
    with request.app.state.sessions() as session:
        yield session


@app.get("/stock/{sku}")
async def get_stock(sku: str, http: httpx.AsyncClient = Depends(get_http)) -> dict:
    resp = await http.get(f"/prices/{sku}")
    resp.raise_for_status()
    return {"sku": sku, "price_cents": resp.json()["price_cents"]}


@app.get("/stock/{sku}/forecast")
async def get_forecast(sku: str) -> dict:
    async with httpx.AsyncClient(base_url="https://forecast.internal", timeout=HTTP_TIMEOUT) as client:  # expect: pooling
        resp = await client.get(f"/forecast/{sku}")
    resp.raise_for_status()
    return {"sku": sku, "forecast": resp.json()["units"]}


@app.get("/warehouses/{warehouse_id}/capacity")
def warehouse_capacity(warehouse_id: int) -> dict:
    engine = create_engine(DATABASE_URL, pool_timeout=3, connect_args={"connect_timeout": 3})  # expect: pooling
    with engine.connect() as conn:
        used = conn.execute(text("SELECT coalesce(sum(units), 0) FROM stock_levels WHERE warehouse_id = :w"), {"w": warehouse_id}).scalar_one()
    return {"warehouse_id": warehouse_id, "used_units": used}


@app.get("/warehouses/{warehouse_id}")
def get_warehouse(warehouse_id: int, session: Session = Depends(get_session)) -> dict:
    wh = session.get(Warehouse, warehouse_id)
    return {"id": wh.id, "code": wh.code, "region": wh.region}


@app.get("/stock/{sku}/reserved")
async def reserved_units(sku: str) -> dict:
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=2, timeout=3, command_timeout=5)  # expect: pooling
    try:
        reserved = await pool.fetchval("SELECT coalesce(sum(units), 0) FROM reservations WHERE sku = $1", sku)
    finally:
        await pool.close()
    return {"sku": sku, "reserved": reserved}


@app.get("/stock/{sku}/reserved/v2")
async def reserved_units_v2(sku: str, request: Request) -> dict:
    reserved = await request.app.state.pg.fetchval("SELECT coalesce(sum(units), 0) FROM reservations WHERE sku = $1", sku)
    return {"sku": sku, "reserved": reserved}


@app.get("/stock/{sku}/hot")
def hot_stock(sku: str) -> dict:
    r = redis.Redis(host="redis", socket_timeout=0.3, socket_connect_timeout=1)  # expect: pooling
    units = r.get(f"v1:hot-stock:{sku}")
    return {"sku": sku, "units": int(units or 0)}


@app.get("/stock/{sku}/hot/v2")
async def hot_stock_v2(sku: str, request: Request) -> dict:
    units = await request.app.state.redis.get(f"v1:hot-stock:{sku}")
    return {"sku": sku, "units": int(units or 0)}


@app.get("/suppliers/{supplier_id}/lead-time")
def supplier_lead_time(supplier_id: str) -> dict:
    resp = requests.get(f"https://suppliers.internal/{supplier_id}/lead-time", timeout=(1, 2))  # expect: pooling
    resp.raise_for_status()
    return {"supplier_id": supplier_id, "days": resp.json()["days"]}


supplier_session = requests.Session()


@app.get("/suppliers/{supplier_id}/moq")
def supplier_moq(supplier_id: str) -> dict:
    resp = supplier_session.get(f"https://suppliers.internal/{supplier_id}/moq", timeout=(1, 2))
    resp.raise_for_status()
    return {"supplier_id": supplier_id, "moq": resp.json()["moq"]}


class StockSyncConsumer:
    """Consumes stock-change messages from the warehouse system, one message at a time."""

    def __init__(self, sessions: sessionmaker, http: httpx.Client) -> None:
        self._sessions = sessions
        self._http = http

    def handle(self, message: dict) -> None:
        session = requests.Session()  # expect: pooling
        resp = session.get(f"https://wms.internal/stock/{message['sku']}", timeout=(1, 2))
        resp.raise_for_status()
        with self._sessions.begin() as db:
            db.execute(text("UPDATE stock_levels SET units = :u WHERE sku = :s"), {"u": resp.json()["units"], "s": message["sku"]})

    def handle_with_shared_client(self, message: dict) -> None:
        resp = self._http.get(f"https://wms.internal/stock/{message['sku']}")
        resp.raise_for_status()
        units = resp.json()["units"]
        with self._sessions.begin() as db:
            db.execute(text("UPDATE stock_levels SET units = :u WHERE sku = :s"), {"u": units, "s": message["sku"]})

    def handle_and_notify(self, message: dict) -> None:
        with self._sessions.begin() as db:
            level = db.execute(select(StockLevel).where(StockLevel.sku == message["sku"]).with_for_update()).scalar_one()
            level.units = message["units"]
            self._http.post("https://alerts.internal/low-stock", json={"sku": message["sku"], "units": level.units})  # expect: pooling, transactions


async def handle_reservation_message(message: dict) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:  # expect: pooling
        async with http.post("https://reservations.internal/confirm", json={"reservation_id": message["reservation_id"]}) as resp:
            resp.raise_for_status()


def refresh_supplier_prices(supplier_ids: list[str]) -> None:
    for start in range(0, len(supplier_ids), 200):
        with httpx.Client(timeout=HTTP_TIMEOUT) as client:  # expect: pooling
            client.post(f"{PRICING_URL}/suppliers/refresh", json={"supplier_ids": supplier_ids[start:start + 200]}).raise_for_status()


def refresh_supplier_prices_shared(client: httpx.Client, supplier_ids: list[str]) -> None:
    for start in range(0, len(supplier_ids), 200):
        client.post(f"{PRICING_URL}/suppliers/refresh", json={"supplier_ids": supplier_ids[start:start + 200]}).raise_for_status()
