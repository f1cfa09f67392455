"""Scale-out: the vectors live on a real Chroma server (`chroma run`), the rest in the index dir.

The server is the one the chromadb package ships, started on a loopback port for this module.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bepro.errors import ConfigError
from bepro.retrieval import layout, store

from .conftest import ROOT, run_bepro, small_pack, small_pack_paths
from .fault_proxy import FaultProxy

pytestmark = pytest.mark.integration  # starts a real Chroma server

STARTUP_DEADLINE_S = 60.0
SERVER_PACK_RULES = ("idempotency", "retries", "timeouts", "circuit-breakers")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_heartbeat(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"chroma run exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # poll interval, bounded by the deadline
    pytest.fail(f"the Chroma server at {url} did not answer within {STARTUP_DEADLINE_S:.0f} s")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chroma = Path(sys.executable).parent / "chroma"
    assert chroma.is_file(), f"{chroma} is missing: the chromadb package installs it"
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-data")
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_heartbeat(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def server_env(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A pack of the rules a payment retry needs, indexed with its vectors on the server."""
    pack = small_pack_paths(tmp_path_factory.mktemp("server"), SERVER_PACK_RULES)
    env = {
        "BEPRO_CHROMA_URL": chroma_url,
        "BEPRO_ROOT": str(pack.root),
        "BEPRO_INDEX_DIR": str(pack.index),
    }
    built = run_bepro("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    return env


def _collections(url: str) -> list[str]:
    listing = httpx.get(
        f"{url}/api/v2/tenants/default_tenant/databases/default_database/collections",
        timeout=5.0,
    )
    listing.raise_for_status()
    return [collection["name"] for collection in listing.json()]


def test_build_puts_the_vectors_on_the_server(chroma_url: str, server_env: dict[str, str]) -> None:
    index = Path(server_env["BEPRO_INDEX_DIR"])
    manifest = layout.read_manifest(index)
    assert manifest is not None
    assert manifest.vectors == chroma_url
    assert manifest.collection in _collections(chroma_url)
    assert not (index / manifest.store / "chroma").exists()
    assert (index / manifest.store / "chunks.json").is_file()
    status = run_bepro("index", "status", "--format", "json", env=server_env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state"] == "ready"


def test_search_and_ask_answer_from_the_server(server_env: dict[str, str]) -> None:
    search = run_bepro(
        "search", "make a payment call safe to retry", "--format", "json", env=server_env
    )
    assert search.returncode == 0, search.stderr
    assert "building" not in search.stderr
    assert json.loads(search.stdout)[0]["rule_id"] == "idempotency"
    ask = run_bepro(
        "ask",
        "how do I make a payment call safe to retry?",
        "--offline",
        "--format",
        "json",
        env=server_env,
    )
    assert ask.returncode == 0, ask.stderr
    payload = json.loads(ask.stdout)
    assert {"idempotency", "retries"} <= set(payload["rules"])
    assert {"idempotency", "retries"} <= {c["rule_id"] for c in payload["citations"]}


def test_the_server_ranks_as_the_local_matrix_does(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    local = {**server_env, "BEPRO_CHROMA_URL": "", "BEPRO_INDEX_DIR": str(tmp_path)}
    question = ("search", "make a payment call safe to retry", "--format", "json")
    remote = run_bepro(*question, env=server_env)
    here = run_bepro(*question, env=local)
    assert remote.returncode == here.returncode == 0, remote.stderr + here.stderr
    passages = [
        [(hit["source"], hit["heading"]) for hit in json.loads(found.stdout)]
        for found in (remote, here)
    ]
    assert passages[0] == passages[1]


def test_rebuilds_swap_collections_without_touching_other_indexes(
    chroma_url: str, tmp_path: Path
) -> None:
    pack = small_pack(tmp_path / "pack", trim_skill=True)  # three builds: the fewest chunks
    first = {"BEPRO_ROOT": str(pack), "BEPRO_INDEX_DIR": str(tmp_path / "a")}
    second = {"BEPRO_ROOT": str(pack), "BEPRO_INDEX_DIR": str(tmp_path / "b")}
    options = ("--chroma-url", chroma_url)
    assert run_bepro(*options, "index", "build", env=first).returncode == 0
    assert run_bepro(*options, "index", "build", env=second).returncode == 0
    replaced = layout.read_manifest(tmp_path / "b")
    rebuilt = run_bepro(*options, "index", "build", "--force", env=second)
    assert rebuilt.returncode == 0, rebuilt.stderr
    live = layout.read_manifest(tmp_path / "b")
    assert replaced is not None
    assert live is not None
    names = _collections(chroma_url)
    assert live.collection in names
    assert replaced.collection not in names
    assert run_bepro(*options, "index", "status", env=first).returncode == 0
    search = run_bepro(*options, "search", "retry with jitter", "--format", "json", env=first)
    assert json.loads(search.stdout)[0]["rule_id"] == "retries"


def test_an_embedded_index_is_rebuilt_when_pointed_at_a_server(
    chroma_url: str, tmp_path: Path
) -> None:
    pack = small_pack(tmp_path / "pack", trim_skill=True)
    env = {"BEPRO_ROOT": str(pack), "BEPRO_INDEX_DIR": str(tmp_path)}
    assert run_bepro("index", "build", env=env).returncode == 0
    moved = run_bepro("--chroma-url", chroma_url, "search", "retry with jitter", env=env)
    assert moved.returncode == 0, moved.stderr
    assert "vector store changed" in moved.stderr
    manifest = layout.read_manifest(tmp_path)
    assert manifest is not None
    assert manifest.vectors == chroma_url


def test_unreachable_server_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    env = {"BEPRO_CHROMA_URL": url, "BEPRO_INDEX_DIR": str(tmp_path)}
    for command in (("index", "build"), ("search", "retry"), ("ask", "how to retry?")):
        result = run_bepro(*command, env=env)
        assert result.returncode == 2, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error[")]
        assert len(errors) == 1
        assert f"cannot reach the Chroma server at {url}" in errors[0]
        assert "Traceback" not in result.stderr


def test_a_server_gone_after_the_build_is_reported_and_answered_locally_not_rebuilt(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(server_env["BEPRO_INDEX_DIR"], index)
    manifest = json.loads((index / layout.MANIFEST).read_text(encoding="utf-8"))
    gone = f"http://127.0.0.1:{_free_port()}"
    manifest["vectors"] = gone  # as if this server had held the vectors and then stopped
    (index / layout.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    env = {**server_env, "BEPRO_CHROMA_URL": gone, "BEPRO_INDEX_DIR": str(index)}
    status = run_bepro("index", "status", env=env)
    assert status.returncode == 1
    assert status.stdout.startswith(f"unreachable: cannot reach the Chroma server at {gone}")
    search = run_bepro("search", "retry with jitter", "--format", "json", env=env)
    assert search.returncode == 0, search.stderr
    assert "rebuilding" not in search.stderr
    assert "bepro: the vector store does not answer; answered from the local index" in search.stderr
    assert json.loads(search.stdout)[0]["rule_id"] == "retries"
    (index / manifest["store"] / layout.MATRIX).unlink()  # nothing local to stand in
    search = run_bepro("search", "retry", env=env)
    assert search.returncode == 2
    assert "cannot reach the Chroma server" in search.stderr


@pytest.mark.parametrize(("refused", "answers"), [(1, True), (store.SERVER_ATTEMPTS, False)])
def test_a_query_retries_dropped_connections_then_fails_clearly(
    chroma_url: str, server_env: dict[str, str], refused: int, answers: bool
) -> None:
    index = Path(server_env["BEPRO_INDEX_DIR"])
    manifest = layout.read_manifest(index)
    assert manifest is not None
    proxy = FaultProxy(int(chroma_url.rsplit(":", 1)[1]))
    try:
        server = layout.chroma_server(proxy.url)
        collection = store.open_collection(index, manifest, server)
        # The pooled connection dies, then `refused` new ones are refused. Attempt 1 fails on the
        # dead connection, or, when the client sees it closed first, on a refused new one (a
        # race in the client's pool): `refused` counts every attempt that could need a new one.
        proxy.cut(refuse_next=refused)
        if answers:
            ids, _ = store.query_distances(collection, "retry with jitter", 5, server)
            assert len(ids) == 5
        else:
            with pytest.raises(layout.ServerUnreachableError, match="cannot reach the Chroma"):
                store.query_distances(collection, "retry with jitter", 5, server)
        assert refused - 1 <= proxy.dropped <= refused
    finally:
        proxy.close()


def test_a_server_that_never_answers_fails_within_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = subprocess.run(
            [sys.executable, "-m", "bepro", "search", "retry"],
            capture_output=True,
            text=True,
            timeout=60,  # a hang fails the test here
            env={
                **os.environ,
                "BEPRO_CHROMA_URL": url,
                "BEPRO_INDEX_DIR": str(tmp_path),
            },
            cwd=ROOT,
            check=False,
        )
    assert result.returncode == 2
    assert "cannot reach the Chroma server" in result.stderr


@pytest.mark.parametrize(
    "url",
    ["localhost:8000", "ftp://chroma:8000", "http://", "http://chroma:99999", "http://h/x?y=1"],
)
def test_a_malformed_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="invalid Chroma server URL"):
        layout.chroma_server(url)


def test_a_malformed_url_on_the_command_line_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_bepro(
        "--chroma-url", "localhost:8000", "search", "retry", env={"BEPRO_INDEX_DIR": str(tmp_path)}
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error[BEPRO002]: invalid Chroma server URL 'localhost:8000'")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000", layout.ChromaServer("127.0.0.1", 8000, ssl=False)),
        ("https://chroma.internal", layout.ChromaServer("chroma.internal", 443, ssl=True)),
        ("http://chroma/", layout.ChromaServer("chroma", 8000, ssl=False)),
    ],
)
def test_a_url_names_host_port_and_tls(url: str, expected: layout.ChromaServer) -> None:
    assert layout.chroma_server(url) == expected
