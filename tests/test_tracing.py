"""OpenTelemetry: with an OTLP endpoint configured, `bepro serve` exports a span per request to
it, continuing the caller's W3C trace. The exporter is the real one (OTLP over gRPC, installed
with chromadb); the collector is a minimal gRPC receiver on loopback that records what arrives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from bepro.retrieval.search import Retriever

from .serve_helpers import running_server

pytestmark = pytest.mark.integration  # starts the HTTP server

EXPORT_DEADLINE_S = 20.0
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def Export(  # the gRPC method name
        self, request: Any, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self.lock:
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append((attributes.get("service.name", ""), span))
        return trace_service_pb2.ExportTraceServiceResponse()

    def wait_for(self, name: str) -> tuple[str, Any]:
        deadline = time.monotonic() + EXPORT_DEADLINE_S
        while time.monotonic() < deadline:
            with self.lock:
                found = [(service, span) for service, span in self.spans if span.name == name]
            if found:
                return found[0]
            time.sleep(0.05)  # the exporter sends in batches, bounded by the deadline
        pytest.fail(f"no span {name!r} reached the collector in {EXPORT_DEADLINE_S:.0f} s")


@pytest.fixture
def collector() -> Iterator[tuple[str, _Collector]]:
    receiver = _Collector()
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", receiver
    finally:
        server.stop(grace=None)


def test_a_request_span_is_exported_and_continues_the_callers_trace(
    collector: tuple[str, _Collector], index_dir: Path, retriever: Retriever, tmp_path: Path
) -> None:
    endpoint, receiver = collector
    env = {
        "BEPRO_INDEX_DIR": str(index_dir),
        "BEPRO_API_TOKEN": "",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms between batches
    }
    with running_server(tmp_path / "server.log", env) as server:
        response = httpx.post(
            f"{server.base}/v1/ask",
            json={"question": "how do I make a payment call safe to retry?"},
            headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
            timeout=30,
        )
        assert response.status_code == 200
        service, span = receiver.wait_for("POST /v1/ask")
    assert service == "bepro"
    assert span.trace_id.hex() == CALLER_TRACE
    assert span.parent_span_id.hex() == CALLER_SPAN
    assert response.headers["traceparent"] == f"00-{CALLER_TRACE}-{span.span_id.hex()}-01"
    assert span.end_time_unix_nano > span.start_time_unix_nano
