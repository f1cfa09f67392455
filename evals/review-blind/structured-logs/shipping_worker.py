"""Shipping worker entry point: logging setup, Kafka consumption, label purchase and carrier sync."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime

import httpx
import structlog
from kafka import KafkaConsumer

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
RESERVED = set(vars(logging.makeLogRecord({})))

logger = logging.getLogger("shipping.worker")
slog = structlog.get_logger("shipping.labels")
carrier_http = httpx.Client(base_url="https://carrier.internal", timeout=httpx.Timeout(3.0, connect=1.0))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, version: str) -> None:
        super().__init__()
        self.static = {"service": service, "version": version}

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **self.static,
            "request_id": request_id_var.get(),
            "trace_id": trace_id_var.get(),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in RESERVED})
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, separators=(",", ":"))


def configure_logging(version: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service="shipping-worker", version=version))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True), structlog.processors.JSONRenderer()])


def configure_logging_legacy() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")  # expect: structured-logs


class ShipmentError(Exception):
    pass


def buy_label(shipment_id: str, carrier: str, weight_grams: int) -> dict:
    print("buying label for", shipment_id)  # expect: structured-logs
    start = time.perf_counter()
    try:
        resp = carrier_http.post("/labels", json={"shipment_id": shipment_id, "carrier": carrier, "weight_grams": weight_grams}, headers={"Idempotency-Key": f"label-{shipment_id}"})
        resp.raise_for_status()
    except httpx.HTTPStatusError as err:
        logger.error(f"label purchase failed for {shipment_id} via {carrier}: {err}")  # expect: structured-logs
        raise ShipmentError(f"label purchase failed for {shipment_id}") from err
    label = resp.json()
    logger.info("label_purchased", extra={"shipment_id": shipment_id, "carrier": carrier, "duration_ms": round((time.perf_counter() - start) * 1000, 1)})
    return label


def void_label(shipment_id: str, label_id: str) -> None:
    try:
        carrier_http.post(f"/labels/{label_id}/void").raise_for_status()
    except httpx.HTTPError:
        logger.exception("label_void_failed", extra={"shipment_id": shipment_id, "label_id": label_id})
        raise
    logger.info("Voided label %s for shipment %s" % (label_id, shipment_id))  # expect: structured-logs


def sync_tracking(shipment_id: str, tracking_number: str) -> str:
    resp = carrier_http.get(f"/tracking/{tracking_number}")
    if resp.status_code == 404:
        logger.warning("Tracking number {} not found for {}".format(tracking_number, shipment_id))  # expect: structured-logs
        return "unknown"
    status = resp.json()["status"]
    logger.info("tracking_synced", extra={"shipment_id": shipment_id, "status": status})
    return status


def handle_message(raw: bytes) -> None:
    try:
        event = json.loads(raw)
    except json.JSONDecodeError:
        logger.exception(f"bad message: {raw[:200]!r}")  # expect: structured-logs
        return
    structlog.contextvars.bind_contextvars(shipment_id=event.get("shipment_id"), event_type=event.get("type"))
    try:
        if event["type"] == "shipment.created":
            buy_label(event["shipment_id"], event["carrier"], event["weight_grams"])
        elif event["type"] == "shipment.cancelled":
            void_label(event["shipment_id"], event["label_id"])
        else:
            logger.info("message_ignored", extra={"event_type": event["type"]})
    finally:
        structlog.contextvars.clear_contextvars()


def record_rate_quotes(shipment_id: str, quotes: list[dict]) -> None:
    for quote in quotes:
        logger.debug(f"quote {quote['carrier']} {quote['amount_cents']}")  # expect: structured-logs
    cheapest = min(quotes, key=lambda q: q["amount_cents"])
    slog.info("rate_quotes_recorded", shipment_id=shipment_id, count=len(quotes), cheapest_carrier=cheapest["carrier"])


def record_customs(shipment_id: str, declared_value_cents: int, hs_code: str) -> None:
    slog.info(f"customs declared {declared_value_cents} for {shipment_id}")  # expect: structured-logs
    slog.info("customs_declared", shipment_id=shipment_id, declared_value_cents=declared_value_cents, hs_code=hs_code)


def mark_delivered(shipment_id: str, depot: str) -> None:
    logging.info(f"shipment {shipment_id} delivered at {depot}")  # expect: structured-logs
    logger.info("shipment_delivered", extra={"shipment_id": shipment_id, "depot": depot})


def escalate(shipment_id: str, reason: str) -> None:
    logger.warning("shipment " + shipment_id + " escalated: " + reason)  # expect: structured-logs


def run_consumer(consumer: KafkaConsumer, commit_every: int = 100) -> None:
    processed = 0
    for message in consumer:
        request_id_var.set(message.headers and dict(message.headers).get("request_id", b"").decode() or None)
        try:
            handle_message(message.value)
        except ShipmentError:
            traceback.print_exc()  # expect: structured-logs
        except Exception:
            logger.exception("message_failed", extra={"topic": message.topic, "partition": message.partition, "offset": message.offset})
            print("unexpected failure", file=sys.stderr)  # expect: structured-logs
            raise
        processed += 1
        if processed % commit_every == 0:
            consumer.commit()


def shipment_summary_line(shipment_id: str, status: str) -> str:
    return f"{shipment_id}: {status}"
