"""`bepro serve` in production conditions: authentication, exposure, overload, upstream LLM
faults, a broken index at start, several workers and a graceful stop. Real uvicorn processes
on loopback; the LLM is tests/llm_stub.py."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from bepro.catalogue.load import load_catalogue
from bepro.retrieval.search import Retriever

from .conftest import run_bepro, small_pack_paths
from .llm_stub import running_stub
from .serve_helpers import Server, free_port, running_server, start_server

pytestmark = pytest.mark.integration  # starts the HTTP server

QUESTION = "how should I retry calls to the payment provider?"
TOKEN = "test-token-0123456789abcdef"  # noqa: S105 - a test value
SECRET_KEY = "sk-test-secret-value-123"  # noqa: S105 - a test value
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the exposure tests need
REQUEST_TIMEOUT_S = 8.0
MAX_CONCURRENCY = 2
MAX_QUEUE = 2
IN_FLIGHT = "bepro_http_requests_in_flight"
BREAKER = "bepro_llm_breaker_state"
LIMITS = (
    f"[tool.bepro.server]\nmax-concurrency = {MAX_CONCURRENCY}\nmax-queue = {MAX_QUEUE}\n"
    f"request-timeout = {REQUEST_TIMEOUT_S}\n"
)
FAULTS = ("down", "slow", "error", "garbage")


def _project(folder: Path, max_attempts: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        LIMITS + "[tool.bepro.llm]\nread-timeout = 1.0\nconnect-timeout = 1.0\n"
        f"max-attempts = {max_attempts}\n",
        encoding="utf-8",
    )
    return folder


def _llm_env(index_dir: Path, base_url: str, model: str) -> dict[str, str]:
    return {
        "BEPRO_INDEX_DIR": str(index_dir),
        "OPENAI_BASE_URL": base_url,
        "BEPRO_LLM_MODEL": model,
        "OPENAI_API_KEY": SECRET_KEY,
        "BEPRO_API_TOKEN": "",
    }


def _metric(server: Server, name: str, headers: dict[str, str] | None = None) -> float:
    """One sample of /metrics, e.g. 'bepro_llm_breaker_state' (0 when absent)."""
    text = httpx.get(f"{server.base}/metrics", headers=headers, timeout=10).text
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[str, Counter[str]]]:
    with running_stub() as running:
        yield running


@pytest.fixture(scope="module")
def llm_servers(
    stub: tuple[str, Counter[str]],
    index_dir: Path,
    retriever: Retriever,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Server]]:
    """One server per upstream behaviour, started together (the model name picks the fault)."""
    root = tmp_path_factory.mktemp("llm-servers")
    project = _project(root / "project", max_attempts=2)
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there: the LLM is down
    upstreams = {model: stub[0] for model in ("ok", "slow", "error", "garbage")} | {"down": closed}
    servers = {
        model: start_server(root / f"{model}.log", _llm_env(index_dir, url, model), project)
        for model, url in upstreams.items()
    }
    try:
        for server in servers.values():
            server.wait_for("/readyz", 200)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def test_an_answer_from_the_llm_is_grounded_and_counted(llm_servers: dict[str, Server]) -> None:
    server = llm_servers["ok"]
    result = httpx.post(f"{server.base}/v1/ask", json={"question": QUESTION}, timeout=30).json()
    assert result["mode"] == "llm"
    assert result["rules"] == ["retries"]
    client = openai.OpenAI(base_url=f"{server.base}/v1", api_key="unused", max_retries=0)
    completion = client.chat.completions.create(
        model="bepro", messages=[{"role": "user", "content": QUESTION}]
    )
    assert "[retries]" in (completion.choices[0].message.content or "")
    assert completion.usage is not None
    assert completion.usage.total_tokens == 150  # the LLM's own count, not an estimate
    assert _metric(server, 'bepro_llm_answers_total{outcome="llm"}') == 2


@pytest.mark.parametrize("fault", FAULTS)
def test_upstream_faults_still_answer_offline_within_the_deadline(
    llm_servers: dict[str, Server], fault: str
) -> None:
    server = llm_servers[fault]
    started = time.monotonic()
    response = httpx.post(f"{server.base}/v1/ask", json={"question": QUESTION}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["mode"] == "offline"
    assert response.json()["rules"]
    assert elapsed < REQUEST_TIMEOUT_S
    assert _metric(server, 'bepro_llm_answers_total{outcome="fallback"}') >= 1
    assert SECRET_KEY not in server.log_text()
    assert "payment provider" not in server.log_text()


@pytest.mark.parametrize("fault", ["error", "down"])
def test_repeated_failures_open_the_breaker_and_calls_then_fail_fast(
    llm_servers: dict[str, Server], stub: tuple[str, Counter[str]], fault: str
) -> None:
    server = llm_servers[fault]
    for _ in range(5):  # two failed attempts per request; the breaker opens after five failures
        if _metric(server, "bepro_llm_breaker_state") == 2:
            break
        httpx.post(f"{server.base}/v1/ask", json={"question": QUESTION}, timeout=30)
    assert _metric(server, "bepro_llm_breaker_state") == 2  # open
    calls = stub[1]["error"]
    response = httpx.post(f"{server.base}/v1/ask", json={"question": QUESTION}, timeout=30)
    assert response.json()["mode"] == "offline"
    assert stub[1]["error"] == calls  # the open breaker spared the upstream


def test_the_breaker_opens_then_closes_when_the_upstream_recovers(
    stub: tuple[str, Counter[str]], index_dir: Path, retriever: Retriever, tmp_path: Path
) -> None:
    """An upstream failing its first 2 calls: one request (2 attempts) opens the breaker, the
    next is answered offline without calling it, and after the cooldown the trial call
    succeeds and closes the breaker."""
    project = _project(tmp_path / "project", max_attempts=2)
    with (project / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write("breaker-failures = 2\nbreaker-cooldown = 1.0\n")
    env = _llm_env(index_dir, stub[0], "failing-2")
    with running_server(tmp_path / "server.log", env, project) as server:

        def ask() -> str:
            reply = httpx.post(f"{server.base}/v1/ask", json={"question": QUESTION}, timeout=30)
            return str(reply.json()["mode"])

        assert ask() == "offline"
        assert _metric(server, BREAKER) == 2  # open
        assert ask() == "offline"
        assert stub[1]["failing-2"] == 2  # the open breaker spared the upstream
        deadline = time.monotonic() + 10
        while _metric(server, BREAKER) != 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # poll until half-open, bounded by the deadline
        assert _metric(server, BREAKER) == 1  # half-open: one trial call allowed
        assert ask() == "llm"
        assert _metric(server, BREAKER) == 0  # closed again
        assert stub[1]["failing-2"] == 3


async def _burst(base: str, count: int) -> list[tuple[int, float, httpx.Response]]:
    """`count` concurrent asks; each with its completion order and time."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one() -> tuple[float, httpx.Response]:
            response = await client.post("/v1/ask", json={"question": QUESTION})
            return time.monotonic() - started, response

        results = await asyncio.gather(*(one() for _ in range(count)))
    ordered = sorted(results, key=lambda result: result[0])
    return [(rank, elapsed, response) for rank, (elapsed, response) in enumerate(ordered)]


@pytest.fixture(scope="module")
def slow_server(
    stub: tuple[str, Counter[str]],
    index_dir: Path,
    retriever: Retriever,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """Every answer waits about a second for an LLM that never answers in time."""
    root = tmp_path_factory.mktemp("slow-server")
    project = _project(root / "project", max_attempts=1)
    env = _llm_env(index_dir, stub[0], "slow")
    with running_server(root / "server.log", env, project) as server:
        yield server


def test_beyond_the_queue_requests_are_shed_at_once_with_retry_after(slow_server: Server) -> None:
    results = asyncio.run(_burst(slow_server.base, 10))
    admitted = [r for r in results if r[2].status_code == 200]
    shed = [r for r in results if r[2].status_code == 503]
    assert len(admitted) == MAX_CONCURRENCY + MAX_QUEUE
    assert len(shed) == 10 - len(admitted)
    assert max(rank for rank, _, _ in shed) < min(rank for rank, _, _ in admitted)  # shed first
    for _, _, response in shed:
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "overloaded"
    assert all(response.json()["mode"] == "offline" for _, _, response in admitted)
    assert _metric(slow_server, 'bepro_requests_shed_total{route="/v1/ask"}') == len(shed)


def test_a_full_queue_refuses_before_reading_or_validating_the_request(
    slow_server: Server,
) -> None:
    """Under overload a refusal must cost next to nothing: a body that would be a 422 is a 503
    while the queue is full, and the same body is a 422 once the queue has drained."""
    filling = MAX_CONCURRENCY + MAX_QUEUE

    async def scenario() -> tuple[httpx.Response, list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=slow_server.base, timeout=30) as client:
            asks = [
                asyncio.create_task(client.post("/v1/ask", json={"question": QUESTION}))
                for _ in range(filling)
            ]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # in flight: the asks plus this /metrics call
                if await asyncio.to_thread(_metric, slow_server, IN_FLIGHT) > filling:
                    break
            refused = await client.post("/v1/ask", content=b"{not json")
            return refused, list(await asyncio.gather(*asks))

    refused, answered = asyncio.run(scenario())
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "overloaded"
    assert [response.status_code for response in answered] == [200] * filling
    after = httpx.post(f"{slow_server.base}/v1/ask", content=b"{not json", timeout=30)
    assert after.status_code == 422


@pytest.fixture
def draining_server(
    stub: tuple[str, Counter[str]], index_dir: Path, retriever: Retriever, tmp_path: Path
) -> Iterator[Server]:
    """Every answer waits DRAIN_LLM_WAIT_S for an LLM that never answers, then answers offline."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f"{LIMITS}[tool.bepro.llm]\nread-timeout = {DRAIN_LLM_WAIT_S}\nmax-attempts = 1\n",
        encoding="utf-8",
    )
    env = _llm_env(index_dir, stub[0], "slow")
    with running_server(tmp_path / "server.log", env, project) as server:
        yield server


DRAIN_LLM_WAIT_S = 3.0


def test_a_stop_signal_drains_in_flight_requests_and_refuses_new_ones_with_503(
    draining_server: Server,
) -> None:
    """After SIGTERM the answer in flight finishes (200); a request on a new connection meanwhile
    gets 503 with Connection: close and Retry-After, not a refused or reset connection."""
    answered: list[tuple[float, httpx.Response]] = []

    def ask() -> None:
        response = httpx.post(
            f"{draining_server.base}/v1/ask", json={"question": QUESTION}, timeout=30
        )
        answered.append((time.monotonic(), response))

    asking = threading.Thread(target=ask)
    asking.start()
    deadline = time.monotonic() + 10
    while _metric(draining_server, IN_FLIGHT) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # in flight: the ask and this /metrics request
    draining_server.process.send_signal(signal.SIGTERM)
    refused = _first_refusal(draining_server.base)
    refused_at = time.monotonic()
    asking.join(timeout=30)
    assert [response.status_code for _, response in answered] == [200]
    assert refused_at < answered[0][0]  # refused while the ask was still in flight
    assert refused.status_code == 503
    assert refused.headers["connection"] == "close"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "shutting_down"
    draining_server.process.wait(timeout=20)
    assert "Finished server process" in draining_server.log_text()


def _first_refusal(base: str) -> httpx.Response:
    """The first answer other than 200 to a fresh connection's request (a signal is delivered
    asynchronously); a refused or reset connection fails the test."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with httpx.Client(base_url=base, timeout=5) as fresh:
            response = fresh.get("/healthz")
        if response.status_code != 200:
            return response
        time.sleep(0.01)
    pytest.fail("the server never refused a request after SIGTERM")


@pytest.fixture(scope="module")
def guarded(
    index_dir: Path, retriever: Retriever, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("guarded") / "server.log"
    with running_server(log, {"BEPRO_INDEX_DIR": str(index_dir), "BEPRO_API_TOKEN": TOKEN}) as s:
        yield s


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}"])
def test_without_the_token_every_route_but_the_probes_is_401(
    guarded: Server, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    with httpx.Client(base_url=guarded.base, headers=headers, timeout=30) as client:
        for response in (
            client.post("/v1/ask", json={"question": QUESTION}),
            client.get("/v1/models"),
            client.get("/metrics"),
            client.get("/openapi.json"),
        ):
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer realm="bepro"'
            assert response.json()["error"]["code"] == "invalid_api_key"
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_the_openai_sdk_authenticates_with_the_token_as_its_key(guarded: Server) -> None:
    client = openai.OpenAI(base_url=f"{guarded.base}/v1", api_key=TOKEN, max_retries=0)
    completion = client.chat.completions.create(
        model="bepro", messages=[{"role": "user", "content": QUESTION}]
    )
    assert "Rules that apply" in (completion.choices[0].message.content or "")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{guarded.base}/v1", api_key="nope", max_retries=0).models.list()
    assert TOKEN not in guarded.log_text()


def test_beyond_loopback_without_a_token_it_refuses_before_binding() -> None:
    with socket.socket() as taken:  # were it to bind first, it would report the port as taken
        taken.bind((ALL_INTERFACES, 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_bepro(
            "serve", "--host", ALL_INTERFACES, "--port", port, env={"BEPRO_API_TOKEN": ""}
        )
    assert result.returncode == 2
    assert "reachable from other machines and BEPRO_API_TOKEN is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_short_token_is_refused() -> None:
    result = run_bepro("serve", "--port", str(free_port()), env={"BEPRO_API_TOKEN": "short"})
    assert result.returncode == 2
    assert "at least 16" in result.stderr


def test_a_broken_index_at_start_is_reported_then_rebuilt(tmp_path: Path) -> None:
    """Unbuildable (its folder is blocked by a file) -> /readyz 503 `failed`, then recovers once
    unblocked; corrupt (its vector matrix garbled) -> rebuilt. Both servers start together: the
    builds overlap. A small pack keeps each build to a second or two."""
    pack = small_pack_paths(tmp_path)
    Retriever(pack, load_catalogue(pack.skill))
    blocker = tmp_path / "blocked"
    blocker.write_text("not a folder", encoding="utf-8")
    corrupt = pack.index
    manifest = json.loads((corrupt / "manifest.json").read_text(encoding="utf-8"))
    (corrupt / manifest["store"] / "vectors.npy").write_bytes(b"not a matrix")
    servers = [
        start_server(
            tmp_path / f"{name}.log",
            {"BEPRO_ROOT": str(pack.root), "BEPRO_INDEX_DIR": str(path), "BEPRO_API_TOKEN": ""},
        )
        for name, path in (("blocked", blocker / "index"), ("corrupt", corrupt))
    ]
    try:
        blocked, rebuilt = servers
        blocked.wait_for("/readyz", 503)
        deadline = time.monotonic() + 60
        while httpx.get(f"{blocked.base}/readyz").json()["status"] != "failed":
            assert time.monotonic() < deadline, blocked.log_text()
            time.sleep(0.05)
        ask = httpx.post(f"{blocked.base}/v1/ask", json={"question": QUESTION})
        assert ask.status_code == 503
        assert "retry-after" in ask.headers
        assert "cannot build the index" in ask.json()["error"]["message"]
        assert "BEPRO_INDEX_DIR" not in ask.text  # the CLI hint is for the operator's log
        assert "set BEPRO_INDEX_DIR to a writable directory" in blocked.log_text()
        blocker.unlink()
        blocked.wait_for("/readyz", 200)
        rebuilt.wait_for("/readyz", 200)
        assert httpx.post(f"{rebuilt.base}/v1/ask", json={"question": QUESTION}).status_code == 200
        assert "corrupt; rebuilding it" in rebuilt.log_text()
        assert json.loads((corrupt / "manifest.json").read_text())["store"] != manifest["store"]
    finally:
        for server in servers:
            server.stop()


def test_workers_share_nothing_and_metrics_add_up(
    index_dir: Path, retriever: Retriever, tmp_path: Path
) -> None:
    env = {"BEPRO_INDEX_DIR": str(index_dir), "BEPRO_API_TOKEN": ""}
    with running_server(tmp_path / "server.log", env, args=("--workers", "2")) as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            statuses = Counter[int]()
            for _ in range(200):  # a worker still opening its index answers 503: try again
                statuses[client.post("/v1/ask", json={"question": QUESTION}).status_code] += 1
                if statuses[200] == 12:
                    break
        assert set(statuses) <= {200, 503}
        total = 'bepro_http_requests_total{method="POST",route="/v1/ask",status="200"}'
        assert _metric(server, total) == 12
        workers = set(re.findall(r"Started server process \[(\d+)\]", server.log_text()))
        assert len(workers) == 2, server.log_text()
