"""Carrier rate shopping, label rendering and print spooling for a logistics shipping service."""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import threading
import urllib.request
from dataclasses import dataclass
from decimal import Decimal

import boto3
import httpx
import psycopg
import redis
import requests
from botocore.config import Config
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text

from shipping.settings import settings

logger = logging.getLogger("shipping.rates")

CARRIER_TIMEOUT = (3.05, 8.0)  # (connect, read) for third-party carrier APIs
GEO_TIMEOUT_S = 1.5
S3_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})

_carrier_session = requests.Session()
_carrier_session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=20))

label_bucket = boto3.client("s3", config=S3_CONFIG)
manifest_bucket = boto3.client("s3", region_name="eu-west-1")  # expect: timeouts

zone_cache = redis.Redis(host=settings.redis_host, port=6379, socket_timeout=0.3, socket_connect_timeout=1.0)
quota_counter = redis.Redis(host=settings.redis_host, port=6379, db=2)  # expect: timeouts

customs_api = httpx.Client(
    base_url="https://customs.partner.example",
    timeout=httpx.Timeout(connect=2.0, read=6.0, write=3.0, pool=1.0),
)
address_api = httpx.Client(base_url="https://addresses.shipping.internal", timeout=None)  # expect: timeouts

warehouse_engine = create_engine(
    settings.warehouse_dsn,
    pool_size=8,
    max_overflow=4,
    pool_timeout=3,
    pool_pre_ping=True,
    connect_args={"connect_timeout": 3, "options": "-c statement_timeout=4000 -c lock_timeout=1000"},
)
reporting_engine = create_engine(settings.reporting_dsn, pool_size=2, max_overflow=0)  # expect: timeouts


@dataclass(frozen=True)
class Quote:
    carrier: str
    service_level: str
    amount: Decimal
    currency: str


class CarrierUnavailable(Exception):
    pass


def quote_dhl(origin_zip: str, dest_zip: str, weight_grams: int) -> Quote:
    resp = _carrier_session.post(
        "https://express.api.dhl.example/rates",
        json={"from": origin_zip, "to": dest_zip, "weight_g": weight_grams},
        timeout=CARRIER_TIMEOUT,
    )
    resp.raise_for_status()
    body = resp.json()
    return Quote("dhl", body["product"], Decimal(body["total"]), body["currency"])


def quote_ups(origin_zip: str, dest_zip: str, weight_grams: int) -> Quote:
    params = {"shipFrom": origin_zip, "shipTo": dest_zip, "weightKg": weight_grams / 1000}
    resp = _carrier_session.get("https://onlinetools.ups.example/rating/v1/Shop", params=params)  # expect: timeouts
    resp.raise_for_status()
    rated = resp.json()["RatedShipment"][0]
    return Quote("ups", rated["Service"]["Code"], Decimal(rated["TotalCharges"]["MonetaryValue"]), "EUR")


def quote_postnl(origin_zip: str, dest_zip: str, weight_grams: int) -> Quote:
    params = {"origin": origin_zip, "destination": dest_zip, "weight": weight_grams}
    resp = requests.get("https://api.postnl.example/shipment/v2/calculate/rate", params=params, timeout=None)  # expect: timeouts
    resp.raise_for_status()
    return Quote("postnl", "standard", Decimal(resp.json()["price"]), "EUR")


def cached_zone(dest_zip: str) -> str | None:
    try:
        cached = zone_cache.get(f"zone:v1:{dest_zip}")
    except redis.exceptions.TimeoutError:
        return None  # a slow cache is treated as a miss
    return cached.decode() if cached is not None else None


def lookup_zone(dest_zip: str) -> str:
    with urllib.request.urlopen(f"https://geo.shipping.internal/zones/{dest_zip}") as fh:  # expect: timeouts
        return json.load(fh)["zone"]


def count_label_quota(account_id: str) -> int:
    return int(quota_counter.incr(f"label-quota:{account_id}"))


def lookup_country(iso2: str) -> dict:
    url = f"https://geo.shipping.internal/countries/{iso2}"
    with urllib.request.urlopen(url, timeout=GEO_TIMEOUT_S) as fh:
        return json.load(fh)


def declare_customs(shipment_id: str, lines: list[dict]) -> str:
    resp = customs_api.post(
        "/declarations",
        json={"shipment": shipment_id, "lines": lines},
        headers={"Idempotency-Key": f"customs-{shipment_id}"},
    )
    resp.raise_for_status()
    return resp.json()["declaration_id"]


def normalise_address(raw: dict) -> dict:
    resp = address_api.post("/normalise", json=raw)
    resp.raise_for_status()
    return resp.json()


def render_label_pdf(zpl: bytes) -> bytes:
    proc = subprocess.run(
        ["zpl2pdf", "--stdin", "--stdout"], input=zpl, capture_output=True, check=True, timeout=20
    )
    return proc.stdout


def rasterize_label(pdf_path: str, png_path: str) -> None:
    subprocess.run(["gs", "-sDEVICE=png16m", "-r203", "-o", png_path, pdf_path], check=True)  # expect: timeouts


def label_dimensions(png_path: str) -> tuple[int, int]:
    out = subprocess.check_output(["identify", "-format", "%w %h", png_path], timeout=5)
    width, height = out.decode().split()
    return int(width), int(height)


def compress_manifest(csv_bytes: bytes) -> bytes:
    proc = subprocess.Popen(["zstd", "-q", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    compressed, _ = proc.communicate(csv_bytes)  # expect: timeouts
    return compressed


def checksum_manifest(path: str) -> str:
    proc = subprocess.Popen(["sha256sum", path], stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return out.decode().split()[0]


def upload_label(shipment_id: str, pdf: bytes) -> None:
    label_bucket.put_object(Bucket=settings.label_bucket, Key=f"labels/{shipment_id}.pdf", Body=pdf)


def upload_manifest(day: str, body: bytes) -> None:
    manifest_bucket.put_object(Bucket=settings.manifest_bucket, Key=f"manifests/{day}.csv.zst", Body=body)


def pending_pickups(depot_id: str) -> list[tuple[str, str]]:
    with warehouse_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT shipment_id, carrier FROM pickups WHERE depot_id = :d AND status = 'ready' LIMIT 500"),
            {"d": depot_id},
        )
        return [(r.shipment_id, r.carrier) for r in rows]


def open_tracking_connection() -> psycopg.Connection:
    """One connection per run of the nightly carrier-reconciliation job."""
    return psycopg.connect(settings.tracking_dsn, connect_timeout=3, options="-c statement_timeout=3000")


class SpoolerBusy(Exception):
    pass


class LabelPrintSpooler:
    """Feeds ZPL jobs to a packing-station printer; one instance per station, created at startup."""

    def __init__(self, station_id: str, ack_timeout_s: float = 4.0) -> None:
        self.station_id = station_id
        self.ack_timeout_s = ack_timeout_s
        self._jobs: queue.Queue[bytes] = queue.Queue(maxsize=200)
        self._acks: queue.Queue[str] = queue.Queue(maxsize=200)
        self._printer_lock = threading.Lock()
        self._stopping = threading.Event()
        self._printer = httpx.Client(
            base_url=f"http://{station_id}.printers.internal",
            timeout=httpx.Timeout(2.0, connect=0.5, pool=0.5),
        )

    def submit(self, label: bytes) -> bool:
        try:
            self._jobs.put_nowait(label)
        except queue.Full:
            return False
        return True

    def print_now(self, label: bytes) -> str:
        """Called from the packing-station API handler; the packer waits for the printer's ack."""
        if not self.submit(label):
            raise SpoolerBusy(self.station_id)
        return self._acks.get()  # expect: timeouts

    def print_and_confirm(self, label: bytes) -> str | None:
        if not self.submit(label):
            raise SpoolerBusy(self.station_id)
        try:
            return self._acks.get(timeout=self.ack_timeout_s)
        except queue.Empty:
            logger.warning("printer_ack_timeout", extra={"station_id": self.station_id})
            return None

    def reprint_last(self, label: bytes) -> None:
        self._printer_lock.acquire()  # expect: timeouts
        try:
            self._send_to_printer(label)
        finally:
            self._printer_lock.release()

    def calibrate(self) -> bool:
        if not self._printer_lock.acquire(timeout=2.0):
            return False
        try:
            self._send_to_printer(b"~JC^XA^JUS^XZ")
        finally:
            self._printer_lock.release()
        return True

    def try_flush(self) -> bool:
        if not self._printer_lock.acquire(blocking=False):
            return False
        try:
            self._send_to_printer(b"~JA")
        finally:
            self._printer_lock.release()
        return True

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                job = self._jobs.get(timeout=1.0)
            except queue.Empty:
                continue
            self._send_to_printer(job)
            self._acks.put_nowait(self.station_id)

    def drain_acks(self) -> int:
        drained = 0
        while True:
            try:
                self._acks.get_nowait()
            except queue.Empty:
                return drained
            drained += 1

    def _send_to_printer(self, payload: bytes) -> None:
        resp = self._printer.post("/pstprnt", content=payload)
        resp.raise_for_status()

    def close(self) -> None:
        self._stopping.set()
        self._printer.close()
