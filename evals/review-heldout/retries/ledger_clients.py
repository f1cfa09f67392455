"""Outbound clients and retry helpers for a banking ledger service (FX rates, wires, postings)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from decimal import Decimal

import httpx
import psycopg
import requests
import stamina
from psycopg import errors as pg_errors
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

logger = logging.getLogger("ledger.clients")

RETRYABLE_STATUS = frozenset({502, 503, 504})
FX_TIMEOUT = httpx.Timeout(connect=1.0, read=2.0, write=1.0, pool=0.5)

fx_client = httpx.Client(base_url="https://fx.rates.internal", timeout=FX_TIMEOUT)
swift_gateway = httpx.Client(base_url="https://swift-gw.bank.internal", timeout=httpx.Timeout(5.0, connect=1.0))
sanctions_client = httpx.AsyncClient(base_url="https://screening.vendor.example", timeout=httpx.Timeout(4.0, connect=2.0))

statements_session = requests.Session()
statements_session.mount(
    "https://",
    HTTPAdapter(
        max_retries=Retry(
            total=2,
            backoff_factor=0.2,
            backoff_jitter=0.3,
            status_forcelist=[502, 503, 504],
            allowed_methods=frozenset({"GET", "HEAD"}),
        )
    ),
)

_card_network_retry = Retry(total=6, status_forcelist=[500, 502, 503, 504], allowed_methods=None)  # expect: retries
card_network_session = requests.Session()
card_network_session.mount("https://", HTTPAdapter(max_retries=_card_network_retry))


class TransientUpstreamError(Exception):
    pass


@dataclass(frozen=True)
class Posting:
    account_id: str
    amount: Decimal
    currency: str
    reference: str


def full_jitter(attempt: int, base: float = 0.1, cap: float = 2.0) -> float:
    return random.uniform(0.0, min(cap, base * 2**attempt))


@retry(
    stop=stop_after_attempt(3) | stop_after_delay(2),
    wait=wait_random_exponential(multiplier=0.1, max=1),
    retry=retry_if_exception_type(httpx.TransportError),
    reraise=True,
)
def fetch_spot_rate(base: str, quote: str) -> Decimal:
    resp = fx_client.get(f"/spot/{base}{quote}")
    resp.raise_for_status()
    return Decimal(resp.json()["mid"])


@retry  # expect: retries
def fetch_forward_points(base: str, quote: str, tenor: str) -> Decimal:
    resp = fx_client.get(f"/forwards/{base}{quote}", params={"tenor": tenor})
    resp.raise_for_status()
    return Decimal(resp.json()["points"])


@retry(stop=stop_after_attempt(5), retry=retry_if_exception_type(httpx.TransportError))  # expect: retries
def fetch_holiday_calendar(currency: str) -> list[str]:
    resp = fx_client.get(f"/calendars/{currency}")
    resp.raise_for_status()
    return resp.json()["holidays"]


@retry(wait=wait_fixed(2), retry=retry_if_exception_type(httpx.HTTPError))  # expect: retries
def fetch_cutoff_times(currency: str) -> dict:
    resp = fx_client.get(f"/cutoffs/{currency}")
    resp.raise_for_status()
    return resp.json()


@retry(stop=stop_after_attempt(4), wait=wait_random_exponential(multiplier=0.2, max=2), retry=retry_if_exception_type(httpx.HTTPStatusError), reraise=True)  # expect: retries
def validate_iban(iban: str) -> bool:
    resp = swift_gateway.get("/iban/validate", params={"iban": iban})
    resp.raise_for_status()  # 400 for a malformed IBAN will be retried like a 503
    return resp.json()["valid"]


@retry(stop=stop_after_attempt(3), wait=wait_random_exponential(multiplier=0.2, max=2), retry=retry_if_exception_type(httpx.TimeoutException), reraise=True)  # expect: retries
def submit_wire(debtor_iban: str, creditor_iban: str, amount: Decimal, currency: str) -> str:
    resp = swift_gateway.post(
        "/pacs008",
        json={"debtor": debtor_iban, "creditor": creditor_iban, "amount": str(amount), "ccy": currency},
    )
    resp.raise_for_status()
    return resp.json()["uetr"]


@retry(
    stop=stop_after_attempt(3),
    wait=wait_random_exponential(multiplier=0.2, max=2),
    retry=retry_if_exception_type(httpx.TransportError),
    reraise=True,
)
def submit_wire_idempotent(uetr: str, debtor_iban: str, creditor_iban: str, amount: Decimal, currency: str) -> str:
    resp = swift_gateway.put(
        f"/pacs008/{uetr}",
        json={"debtor": debtor_iban, "creditor": creditor_iban, "amount": str(amount), "ccy": currency},
        headers={"Idempotency-Key": uetr},
    )
    resp.raise_for_status()
    return resp.json()["status"]


def fetch_account_statement(account_id: str, day: str) -> bytes:
    # Transport-level retries (2, jittered, GET only) live in the session adapter: the one retry layer.
    resp = statements_session.get(f"https://statements.bank.internal/{account_id}/{day}", timeout=(1.0, 4.0))
    resp.raise_for_status()
    return resp.content


def fetch_card_bin(bin_prefix: str) -> dict:
    resp = card_network_session.get(f"https://bins.cardnet.example/v2/{bin_prefix}", timeout=(1.0, 3.0))
    resp.raise_for_status()
    return resp.json()


@stamina.retry(on=httpx.TransportError, attempts=3, timeout=5.0)
def fetch_rate_limits(desk: str) -> dict:
    resp = fx_client.get(f"/desks/{desk}/limits")
    resp.raise_for_status()
    return resp.json()


def fetch_reference_rates(day: str) -> dict:
    for attempt in range(4):
        try:
            resp = fx_client.get(f"/ecb/{day}")
            resp.raise_for_status()
            return resp.json()
        except httpx.TransportError:
            if attempt == 3:
                raise
            time.sleep(1.0)  # expect: retries
    raise TransientUpstreamError("unreachable")


def fetch_bank_directory(bic: str) -> dict:
    for attempt in range(3):
        try:
            resp = swift_gateway.get(f"/directory/{bic}")
        except httpx.TransportError:
            if attempt == 2:
                raise
            time.sleep(full_jitter(attempt))
            continue
        if resp.status_code in RETRYABLE_STATUS and attempt < 2:
            retry_after = resp.headers.get("Retry-After")
            delay = float(retry_after) if retry_after and retry_after.isdigit() else full_jitter(attempt)
            if delay > 1.0:
                break  # does not fit the request deadline: fail now
            time.sleep(delay)
            continue
        resp.raise_for_status()
        return resp.json()
    raise TransientUpstreamError(f"directory unavailable for {bic}")


def fetch_settlement_window(currency: str) -> dict:
    for attempt in range(5):
        try:
            resp = swift_gateway.get(f"/settlement/{currency}")
            resp.raise_for_status()
            return resp.json()
        except httpx.HTTPError:
            if attempt == 4:
                raise
            time.sleep(0.2 * 2**attempt)  # expect: retries
    raise TransientUpstreamError(currency)


def fetch_mandate(mandate_id: str) -> dict:
    for attempt in range(3):
        try:
            resp = swift_gateway.get(f"/mandates/{mandate_id}")
            resp.raise_for_status()
            return resp.json()
        except Exception:  # expect: retries
            if attempt == 2:
                raise
            time.sleep(full_jitter(attempt))
    raise TransientUpstreamError(mandate_id)


def post_journal(conn: psycopg.Connection, postings: list[Posting]) -> None:
    for attempt in range(3):
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO postings (account_id, amount, currency, reference) VALUES (%s, %s, %s, %s)",
                        [(p.account_id, p.amount, p.currency, p.reference) for p in postings],
                    )
            return
        except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
            if attempt == 2:
                raise
            time.sleep(full_jitter(attempt, base=0.05, cap=0.5))


def reserve_funds(conn: psycopg.Connection, account_id: str, amount: Decimal) -> None:
    while True:  # expect: retries
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                conn.execute(
                    "UPDATE balances SET available = available - %s WHERE account_id = %s AND available >= %s",
                    (amount, account_id, amount),
                )
            return
        except pg_errors.SerializationFailure:
            continue


def wait_for_batch_settlement(batch_id: str, max_polls: int = 20) -> str:
    """Polls a settlement batch that was accepted; the upstream finishes it asynchronously."""
    status = "pending"
    for _ in range(max_polls):
        resp = swift_gateway.get(f"/batches/{batch_id}")
        resp.raise_for_status()
        status = resp.json()["status"]
        if status in {"settled", "rejected"}:
            return status
        time.sleep(5.0)
    return status


async def screen_counterparty(name: str, country: str) -> bool:
    for attempt in range(4):
        try:
            resp = await sanctions_client.post("/screen", json={"name": name, "country": country})
            resp.raise_for_status()
            return resp.json()["hit"]
        except httpx.TransportError:
            if attempt == 3:
                raise
            await asyncio.sleep(0.5)  # expect: retries
    raise TransientUpstreamError("screening")


async def screen_counterparty_batch(batch_id: str) -> dict:
    for attempt in range(3):
        try:
            resp = await sanctions_client.get(f"/batches/{batch_id}")
            resp.raise_for_status()
            return resp.json()
        except httpx.TransportError:
            if attempt == 2:
                raise
            await asyncio.sleep(full_jitter(attempt, base=0.2, cap=2.0))
    raise TransientUpstreamError(batch_id)
