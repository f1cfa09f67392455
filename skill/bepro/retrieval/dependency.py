"""The Chroma server as a dependency of queries: short timeouts, a circuit breaker, a health probe.

While the server is down (refused, reset, or frozen past its timeout), a query is answered from
the local index (the BM25 indexes and the vector matrix every build writes beside the server's
collection) and marked degraded; after CHROMA_FAILURES_TO_OPEN failures in a row the breaker
opens, so later queries skip the server at once instead of each waiting for a timeout. A probe
(a heartbeat, CHROMA_PROBE_TIMEOUT_S) closes it as soon as the server answers again; a server
process probes every CHROMA_PROBE_INTERVAL_S so /readyz follows the server within seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from bepro.resilience import CircuitBreaker, CircuitOpenError
from bepro.retrieval.layout import ChromaServer

if TYPE_CHECKING:
    from bepro.retrieval.search import DenseVectors

log = logging.getLogger(__name__)

CHROMA_QUERY_TIMEOUT_S = 2.0  # a query over the whole pack takes tens of milliseconds
CHROMA_PROBE_TIMEOUT_S = 1.0
CHROMA_PROBE_INTERVAL_S = 1.0
CHROMA_FAILURES_TO_OPEN = 2
CHROMA_COOLDOWN_S = 5.0  # open this long before a query tries the server again
# What a degraded answer says to any client: the server's address stays in the log.
DEGRADED = "the vector store does not answer; answered from the local index"
T = TypeVar("T")


class DependencyDownError(Exception):
    """The Chroma server failed this call, or its breaker is open: answer locally."""


class ChromaDependency:
    """Calls to one Chroma server through a circuit breaker; `problem` says why it is down."""

    def __init__(self, server: ChromaServer, breaker: CircuitBreaker | None = None) -> None:
        self.server = server
        self.breaker = breaker or CircuitBreaker(
            CHROMA_FAILURES_TO_OPEN, CHROMA_COOLDOWN_S, name="Chroma server"
        )
        self._last_failure: str | None = None
        self._lock = threading.Lock()

    @property
    def problem(self) -> str | None:
        """Why the server counts as down (None while the breaker is closed)."""
        if self.breaker.state == "closed":
            return None
        with self._lock:
            return self._last_failure or "the Chroma server failed repeatedly"

    def call(self, work: Callable[[], T]) -> T:
        """`work()` unless the breaker is open; any failure of it is a DependencyDownError."""
        try:
            self.breaker.before_call()
        except CircuitOpenError as exc:
            raise DependencyDownError(str(exc)) from exc
        try:
            result = work()
        except Exception as exc:  # whatever the server or chromadb raised, the answer is local
            self.failed(exc)
            raise DependencyDownError(self._last_failure or "") from exc
        self.breaker.record_success()
        return result

    def probe(self) -> None:
        """One heartbeat: a success closes the breaker, a failure counts toward opening it."""
        import httpx  # here: a local query never needs it

        url = f"{self.server.url}/api/v2/heartbeat"
        try:
            httpx.get(url, timeout=CHROMA_PROBE_TIMEOUT_S).raise_for_status()
        except httpx.HTTPError as exc:
            self.failed(exc)
            return
        if self.breaker.state != "closed":
            log.info("chroma server answers again", extra={"chroma_url": self.server.url})
        self.breaker.record_success()

    def failed(self, exc: Exception) -> None:
        """Count a failure of the server (`exc` names its kind in `problem`)."""
        # The reason is shown on /readyz, which needs no token: the kind of failure, no address.
        kind = type(exc.__cause__ or exc).__name__
        with self._lock:
            self._last_failure = f"the Chroma server does not answer ({kind})"
        was = self.breaker.state
        self.breaker.record_failure()
        if was == "closed" and self.breaker.state != "closed":
            log.warning(
                "chroma server down; answering from the local index",
                extra={"chroma_url": self.server.url, "error": kind, "detail": str(exc)[:200]},
            )


class GuardedVectors:
    """A Chroma server's cosines, called through its dependency (DependencyDownError: go local)."""

    def __init__(self, remote: DenseVectors, dependency: ChromaDependency) -> None:
        self.remote = remote
        self.dependency = dependency

    def cosines(self, query: str) -> npt.NDArray[np.float32]:
        return self.dependency.call(lambda: self.remote.cosines(query))


class Reconnecting:
    """A Chroma server's cosines, connected on the first call that succeeds: for an index opened
    while its server was down."""

    def __init__(self, connect: Callable[[], DenseVectors]) -> None:
        self._connect = connect
        self._vectors: DenseVectors | None = None
        self._lock = threading.Lock()

    def cosines(self, query: str) -> npt.NDArray[np.float32]:
        with self._lock:
            if self._vectors is None:
                self._vectors = self._connect()  # raises while the server is down
            vectors = self._vectors
        return vectors.cosines(query)
