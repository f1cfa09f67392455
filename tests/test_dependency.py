"""The Chroma server as a dependency (its breaker, without a server) and how errors are worded
on each surface."""

from __future__ import annotations

import pytest

from bepro.errors import IndexUnavailableError, UnknownRuleError, UsageError
from bepro.resilience import CircuitBreaker
from bepro.retrieval.dependency import (
    CHROMA_FAILURES_TO_OPEN,
    ChromaDependency,
    DependencyDownError,
)
from bepro.retrieval.layout import ChromaServer
from bepro.surfaces.wording import error_text

UNREACHABLE = IndexUnavailableError(
    "cannot reach the Chroma server at http://10.0.0.5:8000: connection refused",
    "start it, or unset BEPRO_CHROMA_URL (and --chroma-url) to use the embedded store",
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _refused() -> None:
    raise ConnectionRefusedError("connection refused")


def test_failures_open_the_breaker_then_calls_skip_the_server_until_the_cooldown() -> None:
    clock = Clock()
    dependency = ChromaDependency(
        ChromaServer("10.0.0.5", 8000, ssl=False), CircuitBreaker(2, 5.0, clock)
    )
    calls: list[str] = []
    for _ in range(CHROMA_FAILURES_TO_OPEN):
        assert dependency.problem is None
        with pytest.raises(DependencyDownError):
            dependency.call(lambda: calls.append("tried") or _refused())
    assert dependency.problem == "the Chroma server does not answer (ConnectionRefusedError)"
    assert "10.0.0.5" not in dependency.problem  # shown on /readyz, which needs no token
    with pytest.raises(DependencyDownError, match="breaker is open"):
        dependency.call(lambda: calls.append("tried"))
    assert len(calls) == CHROMA_FAILURES_TO_OPEN  # the open breaker never called the server
    clock.now = 5.0  # cooldown over: one trial call, and its success closes the breaker
    assert dependency.call(lambda: "answered") == "answered"
    assert dependency.problem is None


def test_api_and_mcp_clients_never_get_the_operators_advice() -> None:
    assert error_text(UNREACHABLE, "api") == UNREACHABLE.message
    assert "BEPRO_CHROMA_URL" not in error_text(UNREACHABLE, "mcp")
    assert error_text(UNREACHABLE, "mcp").startswith("error[BEPRO005]: cannot reach")
    assert "unset BEPRO_CHROMA_URL" in error_text(UNREACHABLE, "cli")
    assert "unset BEPRO_CHROMA_URL" in error_text(UNREACHABLE, "chat")


def test_advice_about_the_callers_own_input_reaches_mcp_clients() -> None:
    too_long = UsageError(
        "the code is 300000 bytes; the limit is 200000", "send one file at a time"
    )
    assert error_text(too_long, "mcp").endswith("(send one file at a time)")
    assert error_text(too_long, "api") == too_long.message
    unknown = UnknownRuleError("unknown rule id 'nope'", "run `bepro rules` to list them")
    assert error_text(unknown, "mcp").endswith("(read bepro://rules for them)")
