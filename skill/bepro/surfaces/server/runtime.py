"""What one server process holds: the pack (ready once its index is open), the limits around it
and the configured LLM.

The index opens (and is built or rebuilt when missing, stale or corrupt) in a background thread:
/healthz answers at once, /readyz and the answering routes return 503 with Retry-After until it
is open; a failure is retried with growing, jittered delays, so the server recovers by itself.

Each request has `request-timeout` seconds: the LLM gets LLM_SHARE of what remains when its turn
comes, so a slow or failing LLM still leaves time for the offline answer; a request still
unanswered at its deadline gets 504.
"""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from bepro.agent.ask import AskResult
from bepro.catalogue.model import Catalogue
from bepro.config import BeproSettings, LLMSettings, Paths
from bepro.errors import BeproError
from bepro.pack import Pack
from bepro.surfaces import observability
from bepro.surfaces.admission import Admission, DeadlineError, OverloadedError
from bepro.surfaces.server.errors import AT_CAPACITY, ApiError
from bepro.surfaces.server.wire import MODEL_BASE
from bepro.surfaces.wording import error_text

if TYPE_CHECKING:
    from bepro.llm.client import LLMConfig

log = logging.getLogger("bepro.surfaces.server")  # one logger name for the whole server

LLM_SHARE = 0.75  # of a request's remaining time; the rest is kept for the offline fallback
MIN_LLM_S = 0.5  # below this, the LLM is not tried at all
INDEX_RETRY_FIRST_S = 1.0
INDEX_RETRY_MAX_S = 30.0
T = TypeVar("T")


class Runtime:
    """The pack (ready once its index is open), the limits around it, and the configured LLM."""

    def __init__(self, paths: Paths, catalogue: Catalogue, settings: BeproSettings) -> None:
        from bepro.llm.client import resolve_llm_config

        self.pack = Pack(paths, catalogue, settings, reporter=_LogReporter())
        self.catalogue = catalogue
        self.settings = settings
        self.llm: LLMConfig | None = resolve_llm_config(settings.llm)
        self.created = int(time.time())
        self.ready = False
        self.failure: str | None = None
        self.vector_store_problem: str | None = None  # the Chroma server's, while it is down
        self.admission: Admission | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        limits = self.settings.server
        self.admission = Admission(limits.max_concurrency, limits.max_queue)
        threading.Thread(target=self._open_index, name="bepro-open-index", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if self.admission is not None:
            self.admission.close()

    def _open_index(self) -> None:
        """Open (or build) the index; on failure, retry with growing, jittered delays."""
        delay = INDEX_RETRY_FIRST_S
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.pack.open_index()  # at most one query per core once open
            except BeproError as error:
                self.failure = error_text(error, "api")  # the hint is for the log only
                log.error("index unavailable", extra={"error_code": error.code, "hint": error.hint})
            except Exception as error:
                self.failure = f"internal error opening the index ({type(error).__name__})"
                log.exception("index failed to open")
            else:
                self.vector_store_problem = self.pack.vector_store_problem()  # before ready
                self.ready = True
                self.failure = None
                # The index, the model and the imports are a few hundred MB of objects that
                # live as long as the process; the cyclic GC rescanned them in every full
                # collection (p99 spikes under load). Frozen, they are skipped.
                gc.freeze()
                log.info("index open", extra={"duration_ms": _elapsed_ms(started)})
                self._watch_vector_store()
                return
            self._stopping.wait(random.uniform(delay / 2, delay))  # noqa: S311 - jitter only
            delay = min(delay * 2, INDEX_RETRY_MAX_S)

    def _watch_vector_store(self) -> None:
        """With a Chroma server, probe it every CHROMA_PROBE_INTERVAL_S until the server stops,
        so /readyz turns 503 within seconds of it going down and 200 once it answers again."""
        if not self.pack.paths.chroma_url:
            return
        from bepro.retrieval.dependency import CHROMA_PROBE_INTERVAL_S

        while not self._stopping.wait(CHROMA_PROBE_INTERVAL_S):
            self.vector_store_problem = self.pack.vector_store_problem()

    def ready_pack(self) -> Pack:
        if self.ready:
            return self.pack
        if self.failure is not None:
            raise ApiError(503, f"{self.failure}; retrying", "index_unavailable")
        raise ApiError(503, "the index is still opening; retry shortly", "starting")

    async def run(self, route: str, work: Callable[[float], T]) -> T:
        """`work(deadline)` on an answer thread, within the request's deadline (a monotonic
        time); 503 when the queue is full, 504 when the deadline passes."""
        if self.admission is None:
            raise ApiError(503, "the server is starting; retry shortly", "starting")
        seconds = self.settings.server.request_timeout
        deadline = time.monotonic() + seconds
        try:
            return await self.admission.run(lambda: work(deadline), seconds)
        except OverloadedError:
            observability.SHED.labels(route).inc()
            raise ApiError(503, AT_CAPACITY, "overloaded") from None
        except DeadlineError:
            raise ApiError(
                504, f"no answer within the server's {seconds:g} s deadline", "deadline_exceeded"
            ) from None

    def llm_budget(self, deadline: float) -> LLMSettings | None:
        """The LLM settings for one answer, its deadline cut to a share of the time left; None
        (answer offline) without an LLM or when too little time is left to try one."""
        seconds = (deadline - time.monotonic()) * LLM_SHARE
        if self.llm is None or seconds < MIN_LLM_S:
            return None
        llm = self.settings.llm
        return llm.model_copy(update={"deadline": min(llm.deadline, seconds)})

    def record_llm(self, result: AskResult, llm_failed: bool) -> None:
        """Count an answer that went to the LLM, and refresh the breaker's gauge."""
        if llm_failed or result.mode == "llm":
            observability.LLM_ANSWERS.labels("fallback" if llm_failed else "llm").inc()
        self.refresh_breaker()

    def refresh_breaker(self) -> None:
        if self.llm is None:
            return
        from bepro.llm.client import breaker_for

        state = breaker_for(self.llm).state
        observability.BREAKER.set(observability.BREAKER_STATES[state])

    def model_names(self) -> list[str]:
        """`bepro` infers the action from the question; `bepro-<action>` fixes it."""
        return [MODEL_BASE, *(f"{MODEL_BASE}-{a}" for a in self.catalogue.action_names)]

    def check_action(self, action: str | None) -> None:
        """An unknown action is a 422 that names the known ones (the engine's own error says
        it as command-line advice)."""
        names = self.catalogue.action_names
        if action is not None and action.strip().lower() not in names:
            message = f"unknown action {action!r}; use one of: {', '.join(names)}"
            raise ApiError(422, message, "unknown_action", "action")

    def action_for(self, model: str) -> str | None:
        if model == MODEL_BASE:
            return None
        action = model.removeprefix(f"{MODEL_BASE}-")
        if action != model and action in self.catalogue.action_names:
            return action
        raise ApiError(
            404,
            f"the model {model!r} does not exist; use {MODEL_BASE!r} or {MODEL_BASE}-<action> "
            "(GET /v1/models lists them)",
            "model_not_found",
            "model",
        )


class _LogReporter:
    """What the index says while it opens (building, rebuilding a corrupt one) goes to the log."""

    def notice(self, message: str) -> None:
        log.warning("index: %s", message)

    def progress(self, done: int, total: int) -> None:
        return None


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
