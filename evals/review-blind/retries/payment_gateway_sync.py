"""Retry logic around the FX-rate, ledger, payout and webhook dependencies of the payments platform."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time

import httpx
import psycopg
import requests
import stamina
from requests.adapters import HTTPAdapter
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_fixed,
    wait_random_exponential,
)
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 3
BASE_DELAY_S = 0.1
MAX_DELAY_S = 2.0

fx_session = requests.Session()
fx_session.mount("https://", HTTPAdapter(max_retries=Retry(total=3, connect=3, read=0, backoff_factor=0.2, status_forcelist=[502, 503, 504], allowed_methods=frozenset({"GET"}))))

partner_session = requests.Session()
partner_session.mount("https://", HTTPAdapter(max_retries=Retry(total=10, backoff_factor=0, status_forcelist=[500, 502, 503, 504], allowed_methods=None)))  # expect: retries

ledger_http = httpx.Client(base_url="https://ledger.internal", timeout=httpx.Timeout(2.0, connect=0.5))
webhooks_http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))


def full_jitter(attempt: int, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S) -> float:
    return random.uniform(0.0, min(cap, base * 2**attempt))


def fetch_fx_rates(base_currency: str) -> dict:
    for attempt in range(5):
        try:
            resp = fx_session.get("https://fx.vendor.example.com/rates", params={"base": base_currency}, timeout=(1, 3))
            resp.raise_for_status()
            return resp.json()
        except Exception:  # expect: retries
            time.sleep(2)  # expect: retries
    raise RuntimeError("fx rates unavailable")


def fetch_fx_history(base_currency: str, day: str) -> dict:
    for attempt in range(MAX_ATTEMPTS):
        try:
            resp = fx_session.get("https://fx.vendor.example.com/history", params={"base": base_currency, "day": day}, timeout=(1, 3))
        except (requests.ConnectionError, requests.ConnectTimeout):
            if attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(full_jitter(attempt))
            continue
        if resp.status_code in RETRYABLE_STATUS and attempt < MAX_ATTEMPTS - 1:
            time.sleep(full_jitter(attempt))
            continue
        resp.raise_for_status()
        return resp.json()
    raise AssertionError("unreachable")


def post_ledger_entry(entry: dict, idempotency_key: str) -> dict:
    for attempt in range(4):
        try:
            resp = ledger_http.post("/entries", json=entry, headers={"Idempotency-Key": idempotency_key})
            if resp.status_code not in RETRYABLE_STATUS:
                resp.raise_for_status()
                return resp.json()
        except httpx.TransportError:
            pass
        time.sleep(2**attempt)  # expect: retries
    raise RuntimeError("ledger unavailable")


def reverse_ledger_entry(entry_id: str, idempotency_key: str) -> dict:
    for attempt in range(MAX_ATTEMPTS):
        try:
            resp = ledger_http.post(f"/entries/{entry_id}/reverse", headers={"Idempotency-Key": idempotency_key})
        except httpx.TransportError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(full_jitter(attempt))
            continue
        if resp.status_code == 429 and attempt < MAX_ATTEMPTS - 1:
            retry_after = float(resp.headers.get("Retry-After", "0"))
            time.sleep(min(MAX_DELAY_S, retry_after) + random.uniform(0, 0.1))
            continue
        resp.raise_for_status()
        return resp.json()
    raise AssertionError("unreachable")


@retry  # expect: retries
def publish_settlement_report(client: httpx.Client, report: dict) -> None:
    client.put(f"/settlements/{report['id']}", json=report).raise_for_status()


@retry(stop=stop_after_attempt(5))  # expect: retries
def load_merchant_config(client: httpx.Client, merchant_id: str) -> dict:
    resp = client.get(f"/merchants/{merchant_id}/config")
    resp.raise_for_status()
    return resp.json()


@retry(wait=wait_fixed(1))  # expect: retries
def refresh_bank_holidays(client: httpx.Client) -> list[str]:
    resp = client.get("/calendar/bank-holidays")
    resp.raise_for_status()
    return resp.json()["days"]


@retry(
    stop=stop_after_attempt(3) | stop_after_delay(2),
    wait=wait_random_exponential(multiplier=0.1, max=2),
    retry=retry_if_exception_type(httpx.TransportError),
    reraise=True,
)
def load_fee_schedule(client: httpx.Client, merchant_id: str) -> dict:
    resp = client.get(f"/merchants/{merchant_id}/fees")
    resp.raise_for_status()
    return resp.json()


@stamina.retry(on=httpx.TransportError, attempts=3, timeout=2.0)
def load_payout_schedule(client: httpx.Client, merchant_id: str) -> dict:
    resp = client.get(f"/merchants/{merchant_id}/payout-schedule")
    resp.raise_for_status()
    return resp.json()


def submit_payout_batch(batch_id: str, payload: dict) -> None:
    while True:  # expect: retries
        try:
            resp = partner_session.post(f"https://payouts.partner.example.com/batches/{batch_id}", json=payload, headers={"Idempotency-Key": batch_id}, timeout=(2, 5))
            resp.raise_for_status()
            return
        except requests.ConnectionError:
            time.sleep(random.uniform(0, 1.0))


def poll_payout_batch(batch_id: str, max_attempts: int = 6) -> str:
    attempt = 0
    while True:
        attempt += 1
        try:
            resp = partner_session.get(f"https://payouts.partner.example.com/batches/{batch_id}", timeout=(2, 5))
            resp.raise_for_status()
            return resp.json()["status"]
        except requests.ConnectionError:
            if attempt >= max_attempts:
                raise
            time.sleep(full_jitter(attempt, base=0.5, cap=30.0))


def mark_payout_settled(conn: psycopg.Connection, payout_id: str) -> None:
    for attempt in range(MAX_ATTEMPTS):
        try:
            with conn.transaction():
                conn.execute("UPDATE payouts SET status = 'settled' WHERE id = %s AND status = 'sent'", (payout_id,))
            return
        except psycopg.errors.SerializationFailure:
            time.sleep(0.05)  # expect: retries
    raise RuntimeError("payout update kept conflicting")


def mark_payout_failed(conn: psycopg.Connection, payout_id: str, reason: str) -> None:
    for attempt in range(MAX_ATTEMPTS):
        try:
            with conn.transaction():
                conn.execute("UPDATE payouts SET status = 'failed', failure_reason = %s WHERE id = %s AND status = 'sent'", (reason, payout_id))
            return
        except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
            if attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(full_jitter(attempt))


async def deliver_webhook(url: str, body: bytes, signature: str) -> int:
    for attempt in range(8):
        try:
            resp = await webhooks_http.post(url, content=body, headers={"X-Signature": signature})
            if resp.status_code < 500:
                return resp.status_code
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)  # expect: retries
    return 599


async def deliver_webhook_with_backoff(url: str, body: bytes, signature: str, event_id: str) -> int:
    for attempt in range(6):
        try:
            resp = await webhooks_http.post(url, content=body, headers={"X-Signature": signature, "X-Event-Id": event_id})
            if resp.status_code not in RETRYABLE_STATUS:
                return resp.status_code
        except httpx.TransportError:
            if attempt == 5:
                raise
        await asyncio.sleep(full_jitter(attempt, base=0.5, cap=30.0))
    return 599


class OutboxPoller:
    """Background relay loop: polls at a fixed cadence; this is polling, not retrying."""

    def __init__(self, relay_once, interval_s: float = 0.5) -> None:
        self._relay_once = relay_once
        self._interval_s = interval_s
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            sent = self._relay_once()
            if sent == 0:
                self._stop.wait(self._interval_s)

    def stop(self) -> None:
        self._stop.set()


async def wait_for_settlement(client: httpx.AsyncClient, payout_id: str, deadline_s: float = 20.0) -> str:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        resp = await client.get(f"/payouts/{payout_id}")
        resp.raise_for_status()
        status = resp.json()["status"]
        if status in {"settled", "failed"}:
            return status
        await asyncio.sleep(1.0 + random.uniform(0, 0.25))
    return "pending"
