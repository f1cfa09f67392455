"""`bepro mcp`'s logs: what a tool call logs reaches the client as MCP log notifications
(`notifications/message`, through the call's context), not the server's stderr.

stdout carries the protocol and stderr is shown by some clients as errors, so stderr keeps only
warnings raised outside any call (one JSON line each). Libraries that log chattily are held at
WARNING: bm25s logs each index build at DEBUG, and the SDK itself installs a root handler that
would print it.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import anyio.from_thread
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import LoggingLevel

from bepro.logs import JsonFormatter

QUIET_LIBRARIES = ("bm25s", "chromadb", "onnxruntime", "httpx", "httpcore", "urllib3", "mcp")
CLIENT_LEVEL = logging.INFO  # what a call sends its client; stderr gets WARNING and above
_LEVELS: dict[int, LoggingLevel] = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


class ToolCallLog(logging.Handler):
    """Sends each record to the client of the tool call running on the record's thread (a tool
    runs on a worker thread of its own); a record from any other thread goes to stderr when it
    is a warning or worse."""

    def __init__(self) -> None:
        super().__init__(CLIENT_LEVEL)
        self._calls: dict[int, Context[Any, Any]] = {}
        self._lock = threading.Lock()
        self._format = JsonFormatter()
        self._stderr = logging.StreamHandler()
        self._stderr.setFormatter(self._format)
        self._stderr.setLevel(logging.WARNING)

    @contextmanager
    def routed_to(self, ctx: Context[Any, Any]) -> Iterator[None]:
        """While the block runs, this thread's records go to `ctx`'s client."""
        thread = threading.get_ident()
        with self._lock:
            self._calls[thread] = ctx
        try:
            yield
        finally:
            with self._lock:
                self._calls.pop(thread, None)

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            ctx = self._calls.get(record.thread or 0)
        if ctx is None:
            self._stderr.handle(record)
            return
        entry = json.loads(self._format.format(record))
        level = _LEVELS.get(record.levelno, "info")
        send = partial(ctx.log, level, entry, logger_name=record.name)
        try:
            anyio.from_thread.run(send)
        except Exception:  # noqa: BLE001 - a client gone mid-call loses its log, nothing more
            return


def route_logs_to_clients() -> ToolCallLog:
    """Every log record (bepro's and the libraries') through one ToolCallLog."""
    # MCP's 2026-07-28 revision deprecates log notifications (clients opt in per request); they
    # are still the protocol's way to send logs, and the warning would land on stderr.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    handler = ToolCallLog()
    for name in ("", "bepro"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(CLIENT_LEVEL)
    logging.getLogger("bepro").propagate = False
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
