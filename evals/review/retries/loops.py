"""Hand-written retry loops: fixed sleeps, backoff without jitter, and loops that never give up."""

import asyncio
import logging
import random
import sys
import time

import httpx
import requests

log = logging.getLogger(__name__)
RETRY_DELAY_S = 2.0
MAX_ATTEMPTS = 5


def fetch_profile(user_id: str) -> dict:
    for _attempt in range(MAX_ATTEMPTS):
        try:
            response = requests.get(f"https://profiles.internal/{user_id}", timeout=3)
            response.raise_for_status()
            return response.json()
        except requests.RequestException:
            log.warning("profile fetch failed, retrying")
            time.sleep(RETRY_DELAY_S)  # expect: retries
    raise RuntimeError("profile service unavailable")


def charge(client: httpx.Client, payload: dict) -> httpx.Response:
    for attempt in range(4):
        try:
            return client.post("/charges", json=payload)
        except httpx.TransportError:
            time.sleep(0.5 * 2**attempt)  # expect: retries
    raise RuntimeError("payments unavailable")


def wait_for_lock(client: httpx.Client, key: str) -> None:
    while True:  # expect: retries
        try:
            client.post(f"/locks/{key}", timeout=2.0).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(1)  # expect: retries


async def publish_async(client: httpx.AsyncClient, event: dict, delay: float = 0.2) -> None:
    attempt = 0
    while attempt < 6:
        try:
            await client.post("/events", json=event)
            return
        except httpx.TransportError:
            attempt += 1
            await asyncio.sleep(delay)  # expect: retries


async def poll_until_ready(client: httpx.AsyncClient, job_id: str) -> dict:
    backoff = 0.1
    while True:  # expect: retries
        try:
            response = await client.get(f"/jobs/{job_id}")
            return response.json()
        except httpx.TransportError:
            await asyncio.sleep(backoff)  # expect: retries
            backoff = min(backoff * 2, 5.0)


# ---- clean look-alikes


def fetch_with_jitter(url: str) -> bytes:
    for attempt in range(MAX_ATTEMPTS):
        try:
            return requests.get(url, timeout=3).content
        except requests.RequestException:
            time.sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))
    raise RuntimeError(url)


def fetch_with_jittered_delay(url: str) -> bytes:
    delay = 0.1
    for _ in range(MAX_ATTEMPTS):
        try:
            return requests.get(url, timeout=3).content
        except requests.RequestException:
            time.sleep(delay + random.random() * delay)
            delay *= 2
    raise RuntimeError(url)


def bounded_forever_loop(client: httpx.Client, deadline: float) -> None:
    attempt = 0
    while True:
        try:
            client.post("/heartbeat", timeout=1.0)
            break
        except httpx.HTTPError:
            attempt += 1
            if attempt >= MAX_ATTEMPTS or time.monotonic() > deadline:
                raise
            time.sleep(min(5.0, 0.2 * 2**attempt) * random.random())


def worker(queue_client: httpx.Client) -> None:
    """A worker loop, not a retry: it sleeps between polls and never leaves after one success."""
    while True:
        try:
            job = queue_client.get("/next", timeout=5.0).json()
            if job is None:
                return
            log.info("processing %s", job["id"])
        except httpx.HTTPError:
            log.exception("poll failed")
        time.sleep(1)


def throttled_batch(items: list[str], client: httpx.Client) -> None:
    for index in range(len(items)):
        try:
            client.post("/items", json={"id": items[index]}, timeout=2.0)
        except httpx.HTTPError:
            log.exception("item failed")
        time.sleep(0.05)


def retry_with_policy(client: httpx.Client, policy: "Policy") -> None:
    for attempt in range(5):
        try:
            client.post("/x", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(policy.delay_for(attempt))


async def with_deadline(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while True:
            try:
                await client.get("/ready")
                return
            except httpx.TransportError:
                await asyncio.sleep(random.uniform(0.1, 1.0))


class Policy:
    def delay_for(self, attempt: int) -> float:
        return random.uniform(0, 0.1 * 2**attempt)


def wait_for_ready(client: httpx.Client, wait_for_s: float) -> None:
    """A command that gives up by exiting once its deadline has passed."""
    start = time.monotonic()
    while True:
        if time.monotonic() - start > wait_for_s:
            sys.exit(f"not ready after {wait_for_s} s")
        try:
            client.get("/ready", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(random.uniform(0.1, 0.5))
