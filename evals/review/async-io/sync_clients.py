"""Sync DB drivers, redis clients, SQLAlchemy sessions and HTTP sessions used inside `async def`
are flagged (beyond what ruff's ASYNC rules catch); awaited async clients, work handed to a
thread, and sync functions are not."""

import asyncio
import sqlite3

import httpx
import psycopg2
import redis
import redis.asyncio as aioredis
import requests
import urllib3
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session as ModelSession

DATABASE_URL = "postgresql://app@db/app"
engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(bind=engine)
cache = redis.Redis(host="cache", port=6379)  # expect: timeouts


async def load_user(user_id: int) -> tuple[object, ...] | None:
    conn = psycopg2.connect(DATABASE_URL)  # expect: async-io
    with conn.cursor() as cursor:
        cursor.execute("select * from users where id = %s", (user_id,))
        return cursor.fetchone()


async def cached_profile(key: str) -> bytes | None:
    return cache.get(key)  # expect: async-io


async def list_orders() -> list[object]:
    with SessionLocal() as db:
        return list(db.execute(text("select * from orders")).all())  # expect: async-io


async def handle_user_created(user_data: dict[str, str]) -> None:
    with ModelSession(engine) as session:
        session.add(user_data)
        session.commit()  # expect: async-io


async def read_local_state() -> None:
    db = sqlite3.connect("state.db")  # expect: async-io
    db.close()


async def fetch_status(url: str) -> int:
    pool = urllib3.PoolManager()
    return pool.request("GET", url, timeout=3.0).status  # expect: async-io


class GeoLookup:
    def __init__(self) -> None:
        self.http = requests.Session()
        self.client = httpx.Client(timeout=5.0)

    async def country(self, ip: str) -> str:
        response = self.http.get(f"https://geo.internal/{ip}", timeout=5)  # expect: async-io
        return response.json()["country"]

    async def healthy(self) -> bool:
        return self.client.get("https://geo.internal/health").is_success  # expect: async-io


async def load_user_in_thread(user_id: int) -> object:
    conn = await asyncio.to_thread(psycopg2.connect, DATABASE_URL)
    return conn


async def cached_in_executor(key: str) -> bytes | None:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: cache.get(key))


async def cached_async(key: str) -> bytes | None:
    client = aioredis.from_url("redis://cache")  # expect: timeouts, pooling
    return await client.get(key)


async def nested_sync_worker(key: str) -> bytes | None:
    def work() -> bytes | None:
        return cache.get(key)

    return await asyncio.to_thread(work)


def nightly_report() -> list[object]:
    with SessionLocal() as db:
        return list(db.execute(text("select count(*) from orders")).all())
