"""Real `bepro serve` processes on loopback for the server tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT

STARTUP_DEADLINE_S = 90.0
STOP_DEADLINE_S = 20.0


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Poll `path` until it answers `status`, within a bounded deadline."""
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        with httpx.Client(base_url=self.base, timeout=2.0, headers=headers) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"bepro serve exited {self.process.returncode}:\n{self.log_text()}")
                try:
                    if client.get(path).status_code == status:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(0.05)
        pytest.fail(f"{path} did not answer {status} in {STARTUP_DEADLINE_S} s:\n{self.log_text()}")

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(
    log: Path, env: dict[str, str], cwd: Path = ROOT, args: tuple[str, ...] = ()
) -> Server:
    """Start `bepro serve` on a free loopback port without waiting for it."""
    port = free_port()
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "bepro", "serve", "--port", str(port), *args],
            stdout=stream,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=cwd,
        )
    return Server(f"http://127.0.0.1:{port}", process, log)


@contextmanager
def running_server(
    log: Path, env: dict[str, str], cwd: Path = ROOT, args: tuple[str, ...] = ()
) -> Iterator[Server]:
    """A ready server (/readyz 200), stopped on exit."""
    server = start_server(log, env, cwd, args)
    try:
        server.wait_for("/readyz", 200)
        yield server
    finally:
        server.stop()
