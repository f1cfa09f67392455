"""What `bepro serve` tells its operators: a request id and a trace id on every log line,
Prometheus metrics at /metrics, and OpenTelemetry spans when configured.

Trace ids follow W3C Trace Context: a valid `traceparent` header continues the caller's trace,
otherwise a new one starts; the response carries a `traceparent` naming the server's span. Spans
are exported only when `opentelemetry-sdk` is importable (chromadb installs it) and
OTEL_EXPORTER_OTLP_ENDPOINT or BEPRO_OTEL=1 is set; the OTLP exporter then reads the standard
OTEL_* variables.

Metrics (labels use route templates, never raw paths, so their number stays bounded):
    bepro_http_requests_total{route,method,status}      requests answered
    bepro_http_request_duration_seconds{route,method}   time to the end of the response
    bepro_http_requests_in_flight                       requests being answered now
    bepro_requests_shed_total{route}                    503s from a full queue
    bepro_llm_answers_total{outcome}                    llm (answered by the LLM) or fallback
    bepro_llm_breaker_state                             0 closed, 1 half-open, 2 open
With several workers, `bepro serve` sets PROMETHEUS_MULTIPROC_DIR and /metrics adds up every
worker's figures (the breaker state is the worst of them).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("bepro.surfaces.server")

request_id: ContextVar[str] = ContextVar("request_id", default="-")
trace_id: ContextVar[str] = ContextVar("trace_id", default="-")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE = "0" * 32
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}

REQUESTS = Counter("bepro_http_requests", "Requests answered.", ["route", "method", "status"])
DURATION = Histogram(
    "bepro_http_request_duration_seconds",
    "Time from the request to the end of its response.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
IN_FLIGHT = Gauge(
    "bepro_http_requests_in_flight", "Requests being answered.", multiprocess_mode="livesum"
)
SHED = Counter("bepro_requests_shed", "Requests refused with 503: the queue was full.", ["route"])
LLM_ANSWERS = Counter(
    "bepro_llm_answers", "Answers that tried the LLM, by outcome (llm or fallback).", ["outcome"]
)
BREAKER = Gauge(
    "bepro_llm_breaker_state",
    "The LLM circuit breaker: 0 closed, 1 half-open, 2 open.",
    multiprocess_mode="livemax",
)


class ContextFilter(logging.Filter):
    """Stamps every log record with the current request and trace ids ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.trace_id = trace_id.get()
        return True


def metrics_text() -> tuple[bytes, str]:
    """The exposition text, summed over the workers when there are several."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def tracer() -> Any | None:
    """An OpenTelemetry tracer exporting over OTLP, or None when tracing is not configured."""
    if not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("BEPRO_OTEL") == "1"):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("tracing requested but opentelemetry-sdk is not installed; tracing is off")
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": "bepro"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider.get_tracer("bepro.surfaces.server")


class Telemetry:
    """ASGI middleware: ids, one JSON access-log line, metrics and a span for every request."""

    def __init__(self, app: ASGIApp, routes: frozenset[str], tracer: Any | None = None) -> None:
        self.app = app
        self.routes = routes
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        route = scope["path"] if scope["path"] in self.routes else "unmatched"
        with self._span(scope["method"], route, headers) as (trace, span):
            await self._observe(scope, receive, send, route, headers, trace, span)

    async def _observe(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: str,
        headers: dict[bytes, bytes],
        trace: str,
        span: str,
    ) -> None:
        started = time.monotonic()
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        tokens = (
            request_id.set(given if _REQUEST_ID.match(given) else uuid.uuid4().hex),
            trace_id.set(trace),
        )
        status = 500
        echoed = [
            (b"x-request-id", request_id.get().encode()),
            (b"traceparent", f"00-{trace}-{span}-01".encode()),
        ]

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *echoed]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            IN_FLIGHT.dec()
            elapsed = time.monotonic() - started
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            DURATION.labels(route, scope["method"]).observe(elapsed)
            log.info(
                "request",
                extra={"method": scope["method"], "path": route, "status": status,
                       "duration_ms": round(elapsed * 1000, 1)},
            )  # fmt: skip
            request_id.reset(tokens[0])
            trace_id.reset(tokens[1])

    @contextmanager
    def _span(
        self, method: str, route: str, headers: dict[bytes, bytes]
    ) -> Iterator[tuple[str, str]]:
        """The trace and span ids of this request: an OpenTelemetry span when tracing is on."""
        if self.tracer is None:
            yield _trace_from(headers), secrets.token_hex(8)
            return
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind

        carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in headers.items()}
        with self.tracer.start_as_current_span(
            f"{method} {route}", context=extract(carrier), kind=SpanKind.SERVER
        ) as span:
            context = span.get_span_context()
            yield format(context.trace_id, "032x"), format(context.span_id, "016x")


def _trace_from(headers: dict[bytes, bytes]) -> str:
    """The caller's trace id from a well-formed `traceparent`, else a new random one."""
    match = _TRACEPARENT.match(headers.get(b"traceparent", b"").decode("latin-1").strip())
    if match and match.group(1) != _INVALID_TRACE:
        return match.group(1)
    return secrets.token_hex(16)
