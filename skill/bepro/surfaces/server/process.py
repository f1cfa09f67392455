"""The `bepro serve` process: a socket bound before start, uvicorn with one or more workers,
JSON logs and a graceful shutdown.

Workers (`--workers N`): each is a separate process built by `create_server_app`, with its own
copy of the opened index, which it only reads (a missing or stale index is built once, under the
index's file lock). Nothing a client depends on lives in one process, so any load balancer can
spread requests over workers and machines.

Logs are JSON lines with a request id and a trace id, and never hold a prompt, an answer, code or
a token: only routes, statuses, durations, sizes and counts.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile

from bepro.errors import UsageError
from bepro.surfaces import observability

APP_FACTORY = "bepro.surfaces.server.app:create_server_app"  # imported by name in each worker
KEEP_ALIVE_S = 5
# uvicorn's limit once drain.py has let in-flight requests finish (they are done by then).
GRACEFUL_SHUTDOWN_S = 10
# uvicorn's own guard, far above the queue: bepro's limiter sheds first, with Retry-After.
MAX_CONNECTIONS = 2048


def listen(host: str, port: int) -> socket.socket:
    """Bind before starting, so a taken port is a one-line user error, not a log line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        raise UsageError(f"cannot resolve --host {host!r}: {exc}", "use an IP address") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", "choose another --port"
        ) from exc
    return sock


class _NoColorMessage(logging.Filter):
    """uvicorn adds a copy of some messages with terminal colour codes: not for JSON logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def log_to_json() -> None:
    """uvicorn's own messages go out as the same JSON lines as bepro's, each with the request
    and trace ids; a server logs at INFO."""
    from bepro import logs

    logs.configure(verbose=True)
    handlers = logging.getLogger("bepro").handlers
    for handler in handlers:
        handler.addFilter(observability.ContextFilter())
        handler.addFilter(_NoColorMessage())
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.handlers[:] = handlers
    uvicorn_logger.setLevel(logging.INFO)
    uvicorn_logger.propagate = False


def serve(sock: socket.socket, workers: int = 1) -> None:
    """Run on a bound socket (see `listen`) until SIGINT or SIGTERM, then shut down gracefully:
    drain (drain.py: in-flight requests finish, new ones get 503), stop accepting, exit."""
    import uvicorn

    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        limit_concurrency=MAX_CONNECTIONS,
    )
    if workers == 1:
        uvicorn.Server(config).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    log_to_json()
    metrics_dir = tempfile.mkdtemp(prefix="bepro-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # the workers inherit it
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
