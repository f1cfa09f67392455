"""`bepro serve` with its vectors on a Chroma server that goes down or freezes mid-run.

The server is the real `chroma run`, stopped and started again on the same port and data; the
frozen server is a loopback proxy in front of it that stops answering (a fault stub). Clients
are the openai SDK and httpx, as a user's would be.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest

from bepro.retrieval.dependency import CHROMA_QUERY_TIMEOUT_S, DEGRADED
from bepro.surfaces.server.routes import DEGRADED_HEADER

from .conftest import run_bepro, small_pack_paths
from .fault_proxy import FaultProxy
from .serve_helpers import Server, free_port, running_server, start_server
from .test_chroma_server import SERVER_PACK_RULES, _wait_for_heartbeat

pytestmark = pytest.mark.integration  # a real Chroma server and real `bepro serve` processes

NOTICED_WITHIN_S = 8.0  # /readyz follows the Chroma server within this (probes every second)
POLL_S = 0.1
QUESTIONS = itertools.cycle(
    [
        "how do I make a payment call safe to retry?",
        "what timeout should an outbound HTTP call have?",
        "how do I stop a retry storm against a failing dependency?",
        "should a client retry a request that timed out?",
        "when should a circuit breaker open?",
        "how long should a request to a slow upstream wait?",
        "what should the idempotency key of a payment be?",
        "how many times should a failed call be retried?",
    ]
)  # a test asks fewer: a question a server was asked before comes from its evidence cache


class Chroma:
    """A real `chroma run` on a fixed loopback port and data folder, restartable."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        command = [str(chroma), "run", "--path", str(self.data), "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_heartbeat(self.url, self.process)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _indexed(folder: Path, url: str) -> dict[str, str]:
    """The environment of a small pack indexed with its vectors at `url`."""
    pack = small_pack_paths(folder, SERVER_PACK_RULES)
    env = {
        "BEPRO_CHROMA_URL": url,
        "BEPRO_ROOT": str(pack.root),
        "BEPRO_INDEX_DIR": str(pack.index),
        "BEPRO_API_TOKEN": "",
    }
    built = run_bepro("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    return env


@contextmanager
def _serve_with_chroma(folder: Path, url: str) -> Iterator[Server]:
    """`bepro serve` on a small pack indexed with its vectors at `url`."""
    with running_server(folder / "server.log", _indexed(folder, url)) as server:
        yield server


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chroma]:
    server = Chroma(tmp_path_factory.mktemp("chroma-data"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxy(chroma: Chroma) -> Iterator[FaultProxy]:
    stub = FaultProxy(chroma.port)
    try:
        yield stub
    finally:
        stub.close()


def _completion(server: Server) -> tuple[httpx.Headers, str | None, str, float]:
    """A chat completion through the openai SDK: its headers, `degraded`, text and seconds."""
    client = openai.OpenAI(base_url=f"{server.base}/v1", api_key="unused", max_retries=0)
    started = time.monotonic()
    raw = client.chat.completions.with_raw_response.create(
        model="bepro", messages=[{"role": "user", "content": next(QUESTIONS)}], timeout=30
    )
    elapsed = time.monotonic() - started
    completion = raw.parse()
    degraded = (completion.model_extra or {}).get("degraded")
    return raw.headers, degraded, completion.choices[0].message.content or "", elapsed


def _readiness_becomes(
    server: Server, status: int, state: str | None = None
) -> tuple[httpx.Response, float]:
    """Poll /readyz until it answers `status` (and `state`): the answer and how long it took."""
    started = time.monotonic()
    with httpx.Client(base_url=server.base, timeout=5) as client:
        while time.monotonic() - started < NOTICED_WITHIN_S:
            response = client.get("/readyz")
            if response.status_code == status and state in (None, response.json()["status"]):
                return response, time.monotonic() - started
            time.sleep(POLL_S)
    pytest.fail(f"/readyz did not answer {status} {state or ''} within {NOTICED_WITHIN_S} s")


def _assert_degraded(server: Server, limit_s: float) -> None:
    headers, degraded, text, elapsed = _completion(server)
    assert headers[DEGRADED_HEADER] == DEGRADED
    assert degraded == DEGRADED
    assert "[idempotency]" in text or "[retries]" in text or "[timeouts]" in text
    assert elapsed < limit_s
    asked = httpx.post(f"{server.base}/v1/ask", json={"question": next(QUESTIONS)}, timeout=30)
    assert asked.status_code == 200
    assert asked.headers[DEGRADED_HEADER] == DEGRADED
    assert asked.json()["degraded"] == DEGRADED
    assert asked.json()["rules"]


def test_a_stopped_chroma_server_degrades_answers_and_readiness_until_it_is_back(
    chroma: Chroma, tmp_path: Path
) -> None:
    with _serve_with_chroma(tmp_path, chroma.url) as server:
        headers, degraded, _, _ = _completion(server)
        assert DEGRADED_HEADER not in headers
        assert degraded is None
        chroma.stop()
        down, _ = _readiness_becomes(server, 503)
        assert down.json()["status"] == "degraded"
        assert "Chroma server does not answer" in down.json()["detail"]
        assert chroma.url not in down.text  # the probe needs no token: no address in it
        assert down.headers["retry-after"]
        _assert_degraded(server, limit_s=CHROMA_QUERY_TIMEOUT_S + 3)
        chroma.start()
        _readiness_becomes(server, 200)
        headers, degraded, _, _ = _completion(server)
        assert DEGRADED_HEADER not in headers
        assert degraded is None


def test_a_frozen_chroma_server_costs_one_short_timeout_not_thirty_seconds(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    with _serve_with_chroma(tmp_path, proxy.url) as server:
        assert _completion(server)[1] is None
        proxy.frozen.set()
        _assert_degraded(server, limit_s=CHROMA_QUERY_TIMEOUT_S + 3)
        _readiness_becomes(server, 503)
        # the breaker is open: the next answer does not wait for the frozen server at all
        _, degraded, _, elapsed = _completion(server)
        assert degraded == DEGRADED
        assert elapsed < CHROMA_QUERY_TIMEOUT_S
        proxy.frozen.clear()
        _readiness_becomes(server, 200)


def test_a_server_started_while_chroma_is_down_answers_locally_until_it_is_back(
    chroma: Chroma, tmp_path: Path
) -> None:
    env = _indexed(tmp_path, chroma.url)
    chroma.stop()
    server = start_server(tmp_path / "server.log", env)
    try:
        server.wait_for("/healthz", 200)
        _readiness_becomes(server, 503, "degraded")  # not "failed": the local index answers
        _assert_degraded(server, limit_s=CHROMA_QUERY_TIMEOUT_S + 3)
        chroma.start()
        _readiness_becomes(server, 200)
        assert _completion(server)[1] is None
    finally:
        server.stop()
