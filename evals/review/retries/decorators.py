"""tenacity and backoff decorators: forever, with no pause, and without jitter."""

import backoff
import httpx
import tenacity
from tenacity import (
    AsyncRetrying,
    retry,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_fixed,
    wait_random,
    wait_random_exponential,
)


@retry  # expect: retries
def load_config(client: httpx.Client) -> dict:
    return client.get("/config").json()


@retry(wait=wait_random_exponential(multiplier=0.1, max=5))  # expect: retries
def fetch_rates(client: httpx.Client) -> dict:
    return client.get("/rates").json()


@tenacity.retry(stop=stop_after_attempt(5))  # expect: retries
def send_invoice(client: httpx.Client, invoice: dict) -> None:
    client.post("/invoices", json=invoice)


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2, max=4))  # expect: retries
def refresh_token(client: httpx.Client) -> str:
    return client.post("/token").json()["access_token"]


@backoff.on_exception(backoff.expo, httpx.TransportError)  # expect: retries
def sync_catalog(client: httpx.Client) -> None:
    client.post("/catalog/sync")


async def notify(client: httpx.AsyncClient, body: dict) -> None:
    async for attempt in AsyncRetrying(stop=stop_after_attempt(4)):  # expect: retries
        with attempt:
            await client.post("/notify", json=body)


# ---- clean look-alikes


@retry(stop=stop_after_attempt(4), wait=wait_random_exponential(multiplier=0.1, max=3))
def fetch_orders(client: httpx.Client) -> list:
    return client.get("/orders").json()


@retry(stop=stop_after_delay(10), wait=wait_fixed(0.5) + wait_random(0, 0.5))
def fetch_stock(client: httpx.Client) -> dict:
    return client.get("/stock").json()


@backoff.on_exception(backoff.expo, httpx.TransportError, max_tries=5)
def sync_prices(client: httpx.Client) -> None:
    client.post("/prices/sync")


RETRY_OPTIONS = {"stop": stop_after_attempt(3), "wait": wait_random_exponential(max=2)}


@retry(**RETRY_OPTIONS)
def configured(client: httpx.Client) -> None:
    client.post("/configured")


@retry(stop=stop_after_attempt(3), wait=tenacity.wait_exponential_jitter(initial=0.1, max=2))
def ping(client: httpx.Client) -> None:
    client.get("/ping")
