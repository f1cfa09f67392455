"""Blocking I/O hidden one call away from `async def`: a plain helper of the same module that
calls requests or sleeps. Helpers run in a thread, awaited, pure or only opening a small local file
are fine."""

import asyncio
import time

import requests

RATES_URL = "https://rates.internal/v1/latest"


def load_rates() -> dict:
    return requests.get(RATES_URL, timeout=5).json()


def backoff(attempt: int) -> None:
    time.sleep(min(2**attempt, 30))


def read_template(name: str) -> str:
    with open(f"templates/{name}.html", encoding="utf-8") as handle:
        return handle.read()


def cents(amount: float) -> int:
    return round(amount * 100)


async def quote(amount: float, currency: str) -> int:
    rates = load_rates()  # expect: async-io
    return cents(amount * rates[currency])


async def render_receipt(order_id: str) -> str:
    template = await asyncio.to_thread(read_template, "receipt")
    return template.format(order_id=order_id)


async def retry_quote(amount: float, currency: str) -> int:
    for attempt in range(3):
        try:
            return await asyncio.to_thread(lambda: cents(amount))
        except ValueError:
            backoff(attempt)  # expect: async-io
    raise RuntimeError("no quote")
