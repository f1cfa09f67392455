"""Open the pack's index in the background, and let a caller wait for it with progress.

A long-running surface (the MCP server) starts opening the index as soon as it starts, so that
the first question does not pay for a first-run build. A call that needs the index before it is
ready waits, reporting the build's progress every PROGRESS_EVERY_S: an MCP client resets its
timeout on progress notifications, where 40 silent seconds would make it give up.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from bepro.pack import Pack

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5

# (chunks embedded so far, chunks in all; 0 while unknown, message)
ProgressSink = Callable[[int, int, str], None]


class BuildProgress:
    """A Reporter that remembers the latest progress for waiting callers; notices go to stderr
    (stdout may carry a protocol)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._message = "opening the index"

    def notice(self, message: str) -> None:
        sys.stderr.write(f"bepro: {message}\n")
        with self._lock:
            self._message = message

    def progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done, self._total = done, total

    def snapshot(self) -> tuple[int, int, str]:
        with self._lock:
            return self._done, self._total, self._message


class IndexWarmer:
    """Opens `pack`'s index on a daemon thread. A failure is not raised here: the next caller
    opens the index itself and meets the error with its usual message."""

    def __init__(self, pack: Pack, progress: BuildProgress) -> None:
        self.pack = pack
        self.progress = progress
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._open, name="bepro-index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _open(self) -> None:
        try:
            self.pack.open_index()
        except Exception as exc:  # noqa: BLE001 - the first call that needs the index reports it
            log.warning("opening the index failed: %s", type(exc).__name__)
        finally:
            self._finished.set()

    def wait(self, sink: ProgressSink) -> None:
        """Return once the index is open (or opening failed), telling `sink` how the build goes
        from the start and then every PROGRESS_EVERY_S."""
        if not self._thread.is_alive() and not self._finished.is_set():
            return  # never started: the caller opens the index itself
        while not self._finished.is_set():
            sink(*self.progress.snapshot())
            self._finished.wait(PROGRESS_EVERY_S)
