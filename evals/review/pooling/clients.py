"""HTTP clients and DB engines created per call or per loop iteration, next to shared ones."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import httpx
import requests
from fastapi import FastAPI
from sqlalchemy import create_engine, text

SHARED = httpx.Client(base_url="https://api.internal", timeout=5.0)


def get_price(sku: str) -> float:
    with httpx.Client(timeout=5.0) as client:  # expect: pooling
        return client.get(f"https://prices.internal/{sku}").json()["price"]


async def get_stock(sku: str) -> int:
    async with httpx.AsyncClient(timeout=5.0) as client:  # expect: pooling
        response = await client.get(f"https://stock.internal/{sku}")
    return response.json()["count"]


def notify_all(urls: list[str], body: dict) -> None:
    for url in urls:
        session = requests.Session()  # expect: pooling
        session.post(url, json=body, timeout=5)
        session.close()


async def fetch_avatar(user_id: str) -> bytes:
    async with aiohttp.ClientSession() as session:  # expect: pooling
        async with session.get(f"https://avatars.internal/{user_id}") as response:
            return await response.read()


def count_orders(database_url: str) -> int:
    engine = create_engine(database_url)  # expect: pooling
    with engine.connect() as connection:
        return connection.execute(text("select count(*) from orders")).scalar_one()


def lookup(sku: str) -> dict:
    return httpx.Client(timeout=3.0).get(f"https://catalog.internal/{sku}").json()  # expect: pooling


# ---- clean look-alikes


def get_price_shared(sku: str) -> float:
    return SHARED.get(f"/prices/{sku}").json()["price"]


def make_client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=5.0)


class Inventory:
    def __init__(self) -> None:
        self.http = httpx.Client(base_url="https://stock.internal", timeout=5.0)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        app.state.http = client
        yield


def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def sync_all(skus: list[str]) -> list[dict]:
    with httpx.Client(base_url="https://catalog.internal", timeout=5.0) as client:
        return [client.get(f"/items/{sku}").json() for sku in skus]


def clients_per_region(regions: dict[str, str]) -> dict[str, httpx.Client]:
    clients = {}
    for name, url in regions.items():
        clients[name] = httpx.Client(base_url=url, timeout=5.0)
    return clients


def main() -> None:
    with httpx.Client(timeout=5.0) as client:
        client.get("https://status.internal/ping")
