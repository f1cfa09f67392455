"""Outbound dependency clients of the fulfilment service: CRM, carrier, geo, label rendering, storage and DB."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import boto3
import httpx
import redis
import requests
from botocore.config import Config
from pydantic import BaseModel
from sqlalchemy import create_engine

logger = logging.getLogger(__name__)

CRM_BASE = "https://crm.internal"
DATABASE_DSN = os.environ["DATABASE_DSN"]
LABEL_RENDER_TIMEOUT_S = 8.0

CARRIER_TIMEOUT = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=1.0)

crm_session = requests.Session()
carrier_http = httpx.Client(base_url="https://api.carrier.example.com", timeout=CARRIER_TIMEOUT)
legacy_billing_http = httpx.Client(base_url="https://legacy-billing.internal", timeout=None)  # expect: timeouts
geo_http = httpx.AsyncClient(base_url="https://geo.internal", timeout=httpx.Timeout(1.0, connect=0.5))

engine = create_engine(DATABASE_DSN)  # expect: timeouts, pooling
reporting_engine = create_engine(
    DATABASE_DSN,
    pool_size=5,
    max_overflow=5,
    pool_timeout=3,
    pool_pre_ping=True,
    connect_args={"connect_timeout": 3, "options": "-c statement_timeout=5000 -c lock_timeout=2000"},
)

rate_cache = redis.Redis(host="redis-cache", port=6379, db=0)  # expect: timeouts
session_cache = redis.Redis(host="redis-sessions", port=6379, db=0, socket_timeout=0.3, socket_connect_timeout=1)

label_bucket = boto3.client("s3")  # expect: timeouts
dispatch_queue = boto3.client(
    "sqs",
    config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
)


class Parcel(BaseModel):
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    destination_country: str


@dataclass(frozen=True)
class LabelJob:
    shipment_id: str
    html_path: Path


label_jobs: queue.Queue[tuple[LabelJob, queue.Queue[bytes]]] = queue.Queue(maxsize=200)


def fetch_customer(customer_id: str) -> dict:
    resp = crm_session.get(f"{CRM_BASE}/customers/{customer_id}")  # expect: timeouts
    resp.raise_for_status()
    return resp.json()


def fetch_customer_flags(customer_id: str) -> dict:
    resp = crm_session.get(f"{CRM_BASE}/customers/{customer_id}/flags", timeout=(1.0, 2.0))
    resp.raise_for_status()
    return resp.json()


def update_customer_address(customer_id: str, address: dict) -> None:
    resp = crm_session.put(f"{CRM_BASE}/customers/{customer_id}/address", json=address)  # expect: timeouts
    resp.raise_for_status()


def quote_rates(parcel: Parcel) -> list[dict]:
    resp = carrier_http.post("/v2/rates", json=parcel.model_dump(), timeout=None)  # expect: timeouts
    resp.raise_for_status()
    return resp.json()["rates"]


def track_shipment(tracking_number: str) -> dict:
    resp = carrier_http.get(f"/v2/tracking/{tracking_number}")
    resp.raise_for_status()
    return resp.json()


def legacy_invoice_status(invoice_no: str) -> str:
    resp = legacy_billing_http.get(f"/invoices/{invoice_no}/status", timeout=2.0)
    resp.raise_for_status()
    return resp.json()["status"]


def lookup_timezone(address_id: str) -> str:
    with urllib.request.urlopen(f"https://geo.internal/timezones/{address_id}") as resp:  # expect: timeouts
        return json.loads(resp.read())["tz"]


def geo_health() -> int:
    with urllib.request.urlopen("https://geo.internal/healthz", timeout=2) as resp:
        return resp.status


async def geocode(address_id: str, budget_s: float = 1.5) -> dict | None:
    try:
        async with asyncio.timeout(budget_s):
            resp = await geo_http.get(f"/lookup/{address_id}")
            resp.raise_for_status()
            return resp.json()
    except (httpx.TimeoutException, TimeoutError):
        logger.warning("geocode_timeout", extra={"address_id": address_id})
        return None


def render_label_pdf(html_path: Path, pdf_path: Path) -> None:
    subprocess.run(["wkhtmltopdf", "--quiet", str(html_path), str(pdf_path)], check=True)  # expect: timeouts


def label_page_count(pdf_path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf_path)], check=True, capture_output=True, text=True, timeout=10)
    for line in out.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split(":", 1)[1])
    return 0


def optimise_label(pdf_path: Path) -> bytes:
    proc = subprocess.Popen(["qpdf", "--linearize", str(pdf_path), "-"], stdout=subprocess.PIPE)
    out, _ = proc.communicate()  # expect: timeouts
    return out


def stamp_label(pdf_path: Path, stamp: Path) -> bytes:
    proc = subprocess.Popen(["qpdf", str(pdf_path), "--overlay", str(stamp), "--", "-"], stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=1)
        raise
    return out


def render_label_blocking(job: LabelJob) -> bytes:
    """Called by POST /labels: hands the job to the renderer thread and waits for the PDF."""
    reply: queue.Queue[bytes] = queue.Queue(maxsize=1)
    label_jobs.put((job, reply), timeout=0.5)
    return reply.get()  # expect: timeouts


def render_label_with_deadline(job: LabelJob) -> bytes:
    """Called by POST /labels/v2: same hand-off, bounded wait."""
    reply: queue.Queue[bytes] = queue.Queue(maxsize=1)
    label_jobs.put((job, reply), timeout=0.5)
    return reply.get(timeout=LABEL_RENDER_TIMEOUT_S)


class CarrierTokenProvider:
    """Caches the carrier OAuth token per process and refreshes it shortly before expiry."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        if self._token and time.monotonic() < self._expires_at:
            return self._token
        self._lock.acquire()  # expect: timeouts
        try:
            if not self._token or time.monotonic() >= self._expires_at:
                self._refresh()
            assert self._token is not None
            return self._token
        finally:
            self._lock.release()

    def token_or_fail(self) -> str:
        if not self._lock.acquire(timeout=2.0):
            raise TimeoutError("carrier token refresh is stuck")
        try:
            if not self._token or time.monotonic() >= self._expires_at:
                self._refresh()
            assert self._token is not None
            return self._token
        finally:
            self._lock.release()

    def _refresh(self) -> None:
        resp = self._client.post("/oauth/token", data={"grant_type": "client_credentials"})
        resp.raise_for_status()
        body = resp.json()
        self._token = body["access_token"]
        self._expires_at = time.monotonic() + float(body["expires_in"]) - 30.0


async def open_db_pool() -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn=DATABASE_DSN, min_size=2, max_size=10)  # expect: timeouts


async def open_reporting_connection() -> asyncpg.Connection:
    return await asyncpg.connect(dsn=DATABASE_DSN, timeout=3, command_timeout=5)


def upload_label(shipment_id: str, pdf: bytes) -> None:
    label_bucket.put_object(Bucket="labels", Key=f"{shipment_id}.pdf", Body=pdf)


def enqueue_dispatch(shipment_id: str) -> None:
    dispatch_queue.send_message(QueueUrl=os.environ["DISPATCH_QUEUE_URL"], MessageBody=json.dumps({"shipment_id": shipment_id}))
