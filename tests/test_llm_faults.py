"""The LLM path against a fault-injecting OpenAI-compatible stub on loopback: every fault ends
inside the command's deadline with the offline answer and a one-line notice."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bepro.llm.grounding import check_citations
from bepro.resilience import CircuitBreaker, CircuitOpenError, retry_after_seconds

from .conftest import run_bepro
from .llm_stub import running_stub

pytestmark = pytest.mark.integration  # starts an LLM stub server

DEADLINE_S = 6.0
# A cold `bepro` process takes a second or two before the deadline starts: allow for it.
STARTUP_SLACK_S = 10.0
QUESTION = "how should I retry calls to the payment provider?"


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[str, Counter[str]]]:
    with running_stub() as running:
        yield running


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.bepro.llm]\nread-timeout = 1.0\nconnect-timeout = 1.0\n"
        f"deadline = {DEADLINE_S}\nmax-attempts = 3\n",
        encoding="utf-8",
    )
    return tmp_path


def _ask(
    project: Path, index_dir: Path, stub_url: str, model: str, *args: str, verbose: bool = False
) -> tuple[int, str, str, float]:
    env = {
        "BEPRO_INDEX_DIR": str(index_dir),
        "OPENAI_BASE_URL": stub_url,
        "BEPRO_LLM_MODEL": model,
        "OPENAI_API_KEY": "sk-test-secret-value-123",
        "XDG_STATE_HOME": str(project / "state"),
    }
    started = time.monotonic()
    result = run_bepro(
        *(["--verbose"] if verbose else []), "ask", QUESTION, *args, env=env, cwd=project
    )
    return result.returncode, result.stdout, result.stderr, time.monotonic() - started


def test_structured_answer_is_grounded_and_invented_ids_are_removed(
    project: Path, index_dir: Path, stub: tuple[str, Counter[str]]
) -> None:
    code, out, err, _ = _ask(project, index_dir, stub[0], "ok", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["mode"] == "llm"
    assert payload["model"] == "ok"
    assert payload["usage"] == {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    assert payload["rules"] == ["retries"]
    assert set(payload["citation_check"]["removed_ids"]) == {"made-up-rule", "invented"}
    assert "[made-up-rule]" not in payload["answer"]
    assert "Notes (uncited, not ranked)" in payload["answer"]
    assert "P2 CRITICAL** [retries]" in payload["answer"]


def test_streamed_text_is_citation_checked_before_it_is_shown(
    project: Path, index_dir: Path, stub: tuple[str, Counter[str]]
) -> None:
    code, out, err, _ = _ask(project, index_dir, stub[0], "ok-text")
    assert code == 0, err
    assert "Use bounded retries with jitter [retries]." in out
    assert "[not-a-rule]" not in out
    assert "- [x] done" in out
    assert "Sources:\n- [retries] references/rules/retries.md" in out


# Calls the stub sees: a slow answer is retried until max-attempts (3) or until a further
# attempt could not finish inside the deadline, which on a loaded machine comes after two.
@pytest.mark.parametrize(
    ("model", "output", "expected_calls"),
    [
        ("slow", "json", (2, 3)),
        ("error", "json", (3, 3)),
        ("garbage", "json", (1, 1)),
        ("bad-schema", "json", (2, 2)),
        ("stall", "text", (1, 1)),
        ("disconnect", "text", (1, 1)),
    ],
)
def test_faults_fall_back_to_the_offline_answer_within_the_deadline(
    project: Path,
    index_dir: Path,
    stub: tuple[str, Counter[str]],
    model: str,
    output: str,
    expected_calls: tuple[int, int],
) -> None:
    calls_before = stub[1][model]
    code, out, err, elapsed = _ask(project, index_dir, stub[0], model, "--format", output)
    assert code == 0, err
    assert elapsed < DEADLINE_S + STARTUP_SLACK_S
    notices = [line for line in err.splitlines() if line.startswith("bepro: LLM unavailable")]
    assert len(notices) == 1, err
    if output == "json":
        assert json.loads(out)["mode"] == "offline"
    assert "idempotency" in out or "retries" in out
    fewest, most = expected_calls
    assert fewest <= stub[1][model] - calls_before <= most


def test_rate_limits_are_retried_after_retry_after(
    project: Path, index_dir: Path, stub: tuple[str, Counter[str]]
) -> None:
    code, out, err, _ = _ask(project, index_dir, stub[0], "rate-limited-2", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["mode"] == "llm"
    assert stub[1]["rate-limited-2"] == 3


def test_no_fallback_flag_exits_non_zero(
    project: Path, index_dir: Path, stub: tuple[str, Counter[str]]
) -> None:
    code, _, err, _ = _ask(
        project, index_dir, stub[0], "error", "--format", "json", "--no-fallback"
    )
    assert code == 1
    assert "LLM unavailable" in err


def test_logs_never_carry_the_key_or_the_question(
    project: Path, index_dir: Path, stub: tuple[str, Counter[str]]
) -> None:
    _, _, err, _ = _ask(project, index_dir, stub[0], "error", "--format", "json", verbose=True)
    assert "llm call failed" in err
    assert "sk-test-secret-value-123" not in err
    assert "payment provider" not in err


def test_llm_flag_without_configuration_is_a_usage_error(project: Path, index_dir: Path) -> None:
    env = {
        "BEPRO_INDEX_DIR": str(index_dir),
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
        "BEPRO_LLM_MODEL": "",
    }
    result = run_bepro("ask", QUESTION, "--llm", env=env, cwd=project)
    assert result.returncode == 2
    assert "no LLM is configured" in result.stderr


def test_offline_notice_is_said_once(project: Path, index_dir: Path) -> None:
    env = {
        "BEPRO_INDEX_DIR": str(index_dir),
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
        "BEPRO_LLM_MODEL": "",
        "XDG_STATE_HOME": str(project / "state"),
    }
    first = run_bepro("ask", QUESTION, "--format", "json", env=env, cwd=project)
    second = run_bepro("ask", QUESTION, "--format", "json", env=env, cwd=project)
    assert "no LLM configured" in first.stderr
    assert "no LLM configured" not in second.stderr
    assert json.loads(second.stdout)["mode"] == "offline"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_circuit_breaker_opens_half_opens_and_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooldown=30.0, clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.now = 31.0
    assert breaker.state == "half-open"
    breaker.before_call()  # the one trial call
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # a second caller while the trial runs
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now = 62.0
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Fri, 27 Nov 2026 12:00:05 GMT", now=now) == 5.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_citation_check_keeps_checkboxes_and_links() -> None:
    text, check = check_citations(
        "Do it [timeouts] [ghost-rule] - [x] [docs](https://example.org)", {"timeouts"}
    )
    assert text == "Do it [timeouts] - [x] [docs](https://example.org)"
    assert check.kept == ["timeouts"]
    assert check.removed == ["ghost-rule"]


QUEUE_MODULE = "import asyncio\n\njobs = asyncio.Queue()\n"


@pytest.mark.parametrize(("model", "status"), [("fix-queue", "proposed"), ("fix-eval", "rejected")])
def test_llm_rewrites_are_validated_before_they_are_shown(
    project: Path, stub: tuple[str, Counter[str]], model: str, status: str
) -> None:
    (project / "worker.py").write_text(QUEUE_MODULE, encoding="utf-8")
    env = {"OPENAI_BASE_URL": stub[0], "BEPRO_LLM_MODEL": model, "OPENAI_API_KEY": ""}
    result = run_bepro("fix", "worker.py", "--llm", "--format", "json", env=env, cwd=project)
    fixes = [f for f in json.loads(result.stdout)["fixes"] if f["rule_id"] == "backpressure"]
    assert [f["status"] for f in fixes] == [status], result.stderr
    if status == "proposed":
        assert fixes[0]["origin"] == "llm"
        assert "+jobs = asyncio.Queue(maxsize=1000)" in fixes[0]["diff"]
    else:
        assert fixes[0]["reason"].startswith("llm: adds a priority-1 finding: input-validation")
    assert (project / "worker.py").read_text(encoding="utf-8") == QUEUE_MODULE
