"""Admission control for `bepro serve`: a bulkhead of answer threads, a bounded wait queue in
front of it, and a deadline over both.

At most `limit` answers are computed at once, one thread each. At most `queue` requests wait
for a thread; the next one is shed at once (`OverloadedError`, a 503 with Retry-After), so an
overloaded server answers fast instead of piling up work nobody will wait for. A request that
is still waiting or working at its deadline gets `DeadlineError` (a 504).

Python threads cannot be cancelled: a thread whose request passed its deadline runs to the end
and keeps its slot until then, so the number of threads never exceeds `limit`.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")


class OverloadedError(Exception):
    """Every thread is busy and the wait queue is full."""


class DeadlineError(Exception):
    """The request's deadline passed while it waited or worked."""


class Admission:
    def __init__(self, limit: int, queue: int) -> None:
        self.limit = limit
        self.queue = queue
        self.waiting = 0
        self.running = 0
        self._slots = asyncio.Semaphore(limit)
        self._threads = ThreadPoolExecutor(limit, thread_name_prefix="bepro-answer")

    async def run(self, work: Callable[[], T], seconds: float) -> T:
        """`work` on an answer thread, within `seconds`; the caller's context variables
        (request and trace ids) go along, so its log lines keep them."""
        budget = asyncio.timeout(seconds)
        try:
            async with budget:
                await self._admit()
                return await asyncio.shield(self._start(work))
        except TimeoutError as exc:
            if budget.expired():
                raise DeadlineError from exc
            raise

    def full(self) -> bool:
        """Every thread busy and the wait queue full: the next request would be shed."""
        return self._slots.locked() and self.waiting >= self.queue

    async def _admit(self) -> None:
        if self.full():
            raise OverloadedError
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1

    def _start(self, work: Callable[[], T]) -> asyncio.Future[T]:
        self.running += 1
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(self._threads, context.run, work)
        future.add_done_callback(self._release)
        return future

    def _release(self, _: object) -> None:
        self.running -= 1
        self._slots.release()

    def close(self) -> None:
        """Stop taking work; threads still running finish on their own."""
        self._threads.shutdown(wait=False)


class ShedWhenFull:
    """ASGI middleware: while the admission queue is full, requests to the answering routes get
    `refusal` (a 503) before anything else runs: no body read, no routing, no validation. Under
    overload the event loop is the scarce resource, and a refusal should cost it next to
    nothing; `Admission.run` still sheds whatever gets past this check."""

    def __init__(
        self,
        app: ASGIApp,
        admission: Callable[[], Admission | None],
        routes: frozenset[str],
        refusal: Callable[[str], ASGIApp],
    ) -> None:
        self.app = app
        self.admission = admission
        self.routes = routes
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.routes:
            admission = self.admission()
            if admission is not None and admission.full():
                await self.refusal(scope["path"])(scope, receive, send)
                return
        await self.app(scope, receive, send)
