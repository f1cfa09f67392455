"""A graceful drain on SIGTERM (or SIGINT): the requests in flight finish while every new one is
answered at once with 503, `Connection: close` and Retry-After, instead of a refused or reset
connection; then uvicorn's own shutdown runs.

uvicorn alone closes its listening socket at the signal, so a client that connects during the
shutdown is refused, and one on a kept-alive connection may be reset. Here the signal starts the
drain; the socket stays open until nothing is in flight (or DRAIN_LIMIT_S passed), and only then
is uvicorn's handler called. A second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from bepro.surfaces.server.errors import error_response

log = logging.getLogger("bepro.surfaces.server")

DRAIN_LIMIT_S = 10.0  # in-flight requests get this long to finish
DRAIN_POLL_S = 0.05
DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SHUTTING_DOWN = "the server is shutting down; retry shortly"


class Drain:
    """Counts the requests in flight and refuses new ones once a stop signal has come."""

    def __init__(self, limit_s: float = DRAIN_LIMIT_S) -> None:
        self.limit_s = limit_s
        self.in_flight = 0  # changed on the event loop's thread only
        self.draining = False

    def install(self) -> None:
        """Take over the stop signals from the handler in place (uvicorn's), which is called
        once the drain ends. Only the main thread can set signal handlers."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in DRAIN_SIGNALS:
            previous = signal.getsignal(sig)
            if callable(previous):
                signal.signal(sig, self._handler(previous))

    def _handler(self, previous: Any) -> Any:
        def on_signal(sig: int, frame: FrameType | None) -> None:
            if self.draining:  # a second signal: stop now
                previous(sig, frame)
                return
            self.draining = True
            log.info("draining", extra={"in_flight": self.in_flight, "signal": sig})
            threading.Thread(
                target=self._finish, args=(previous, sig), name="bepro-drain", daemon=True
            ).start()

        return on_signal

    def _finish(self, previous: Any, sig: int) -> None:
        deadline = time.monotonic() + self.limit_s
        while self.in_flight > 0 and time.monotonic() < deadline:
            time.sleep(DRAIN_POLL_S)
        log.info("drained", extra={"in_flight": self.in_flight})
        previous(sig, None)  # uvicorn's: stop accepting, close idle connections, exit


class DrainGate:
    """ASGI middleware: counts requests in flight; while draining, refuses new ones."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app, self.drain = app, drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.drain.draining:
            refusal = error_response(503, SHUTTING_DOWN, "shutting_down")
            refusal.headers["Connection"] = "close"
            await refusal(scope, receive, send)
            return
        self.drain.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.in_flight -= 1
