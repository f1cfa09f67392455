"""Sessionless requests calls in loops and route handlers, and redis clients or asyncpg pools
made per request, are flagged; shared clients, retry loops and one-off scripts are not."""

import asyncpg
import redis
import requests
from fastapi import FastAPI

app = FastAPI()
http = requests.Session()
cache = redis.Redis(host="cache", socket_timeout=0.5)


@app.get("/rates/{currency}")
def rate(currency: str) -> dict[str, float]:
    return requests.get(f"https://fx.internal/{currency}", timeout=2).json()  # expect: pooling


def sync_prices(skus: list[str]) -> list[dict[str, object]]:
    return [requests.get(f"https://prices.internal/{sku}", timeout=2).json() for sku in skus]  # expect: pooling


@app.get("/session/{token}")
def session_data(token: str) -> dict[str, str]:
    store = redis.Redis(host="cache", socket_timeout=0.5)  # expect: pooling
    return {"user": store.get(f"session:{token}")}


@app.get("/stock/{sku}")
async def stock(sku: str) -> dict[str, int]:
    pool = await asyncpg.create_pool("postgresql://app@db/app", command_timeout=5)  # expect: pooling
    async with pool.acquire() as conn:
        return {"units": await conn.fetchval("SELECT units FROM stock WHERE sku = $1", sku)}


@app.get("/rates/v2/{currency}")
def rate_shared(currency: str) -> dict[str, float]:
    return http.get(f"https://fx.internal/{currency}", timeout=2).json()


@app.get("/session/v2/{token}")
def session_shared(token: str) -> dict[str, str]:
    return {"user": cache.get(f"session:{token}")}


def fetch_with_retries(url: str) -> bytes:
    for attempt in range(3):
        try:
            return requests.get(url, timeout=2).content
        except requests.ConnectionError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def main() -> list[object]:
    return [requests.get(f"https://prices.internal/{sku}", timeout=2).json() for sku in "ab"]
