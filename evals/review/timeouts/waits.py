"""Waits ruff's S113 does not see: sessions, sockets, subprocesses, database drivers, asyncio.wait."""

import asyncio
import socket
import subprocess
import urllib.request
from collections.abc import Iterable

import asyncpg
import psycopg
import psycopg2
import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

http = requests.Session()
http.mount("https://", HTTPAdapter(max_retries=Retry(total=3, backoff_factor=0.2)))


def get_user(user_id: str) -> dict:
    return http.get(f"https://users.internal/{user_id}").json()  # expect: timeouts


class BillingClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def invoice(self, invoice_id: str) -> dict:
        return self.session.get(f"{self.base_url}/invoices/{invoice_id}").json()  # expect: timeouts

    def pay(self, invoice_id: str) -> None:
        self.session.post(f"{self.base_url}/invoices/{invoice_id}/pay", timeout=(3.05, 10))


def upload(paths: Iterable[str]) -> None:
    with requests.Session() as session:
        for path in paths:
            with open(path, "rb") as handle:
                session.put("https://files.internal/upload", data=handle)  # expect: timeouts


def health() -> int:
    with urllib.request.urlopen("https://status.internal/health") as response:  # expect: timeouts
        return response.status


def open_socket(host: str) -> socket.socket:
    return socket.create_connection((host, 6379))  # expect: timeouts


def render(path: str) -> bytes:
    return subprocess.check_output(["wkhtmltopdf", path, "-"])  # expect: timeouts


def migrate() -> None:
    subprocess.run(["alembic", "upgrade", "head"], check=True)  # expect: timeouts


def connect_reporting(host: str, password: str) -> "psycopg2.extensions.connection":
    return psycopg2.connect(host=host, dbname="reports", user="app", password=password)  # expect: timeouts


def connect_orders() -> psycopg.Connection:
    return psycopg.connect("postgresql://app@orders-db/orders")  # expect: timeouts


async def create_pool(dsn: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=2, max_size=10)  # expect: timeouts


async def fan_out(jobs: list[asyncio.Task[None]]) -> None:
    done, _pending = await asyncio.wait(jobs)  # expect: timeouts
    for task in done:
        task.result()


async def drain(consumers: set[asyncio.Task[None]]) -> None:
    await asyncio.wait(consumers)  # expect: timeouts


# ---- clean look-alikes


def get_order(order_id: str) -> dict:
    return http.get(f"https://orders.internal/{order_id}", timeout=5).json()


def forward(session: requests.Session, url: str, **options: float) -> requests.Response:
    return session.get(url, **options)


def health_with_timeout() -> int:
    with urllib.request.urlopen("https://status.internal/health", timeout=2) as response:
        return response.status


def open_socket_with_timeout(host: str) -> socket.socket:
    return socket.create_connection((host, 6379), 2.0)


def render_bounded(path: str) -> bytes:
    return subprocess.check_output(["wkhtmltopdf", path, "-"], timeout=60)


def connect_with_dsn_timeout() -> psycopg.Connection:
    return psycopg.connect("postgresql://app@orders-db/orders?connect_timeout=3")


def connect_from_settings(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn)


def connect_with_keyword(host: str) -> "psycopg2.extensions.connection":
    return psycopg2.connect(host=host, dbname="reports", connect_timeout=3)


async def create_bounded_pool(dsn: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, command_timeout=10, min_size=2, max_size=10)


async def fan_out_bounded(jobs: list[asyncio.Task[None]]) -> None:
    _done, pending = await asyncio.wait(jobs, timeout=30)
    for task in pending:
        task.cancel()


async def fan_out_under_a_deadline(jobs: list[asyncio.Task[None]]) -> None:
    async with asyncio.timeout(30):
        await asyncio.wait(jobs)


async def connect_under_a_deadline(dsn: str) -> asyncpg.Pool:
    return await asyncio.wait_for(asyncpg.create_pool(dsn), timeout=10)


def dict_lookup(cache: dict[str, str], key: str) -> str | None:
    return cache.get(key)
