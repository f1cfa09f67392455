"""A fault-injecting OpenAI-compatible server on loopback, for the LLM fault tests.

The requested model name picks the behaviour, so one server serves every test:
    ok                 a valid structured answer citing [retries] (and one invented id)
    ok-text            a streamed markdown answer citing [retries] and [not-a-rule]
    slow               answers only after STALL_S (longer than the client's read timeout)
    rate-limited-N     429 with Retry-After: 1 for the first N calls, then like `ok`
    error              500 on every call
    failing-N          500 for the first N calls, then like `ok` (an upstream that recovers)
    garbage            200 with a body that is not JSON
    bad-schema         a JSON reply that never matches the answer schema
    stall              a stream that sends one chunk, then nothing for STALL_S
    disconnect         a stream that sends one chunk, then closes the connection
    fix-queue          search/replace blocks bounding an unbounded asyncio.Queue
    fix-eval           search/replace blocks that would add eval() (must be rejected)
    judge              a grade for the answers suite's LLM judge, whatever it is asked
It counts the calls per model at GET /stats.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

STALL_S = 3.0
ANSWER = {
    "summary": "Retry only transient failures, with backoff and jitter [retries]. Also [made-up-rule].",
    "findings": [
        {
            "rule_id": "retries",
            "title": "Bound the retries",
            "detail": "Three attempts, full jitter [retries].",
        },
        {"rule_id": "invented", "title": "An uncited claim", "detail": "Trust me."},
    ],
    "steps": ["Add a retry budget [retries]"],
}
FIX_REPLIES = {
    "fix-queue": "<<<<<<< SEARCH\njobs = asyncio.Queue()\n=======\njobs = asyncio.Queue(maxsize=1000)\n>>>>>>> REPLACE\n",
    "fix-eval": '<<<<<<< SEARCH\njobs = asyncio.Queue()\n=======\njobs = asyncio.Queue(maxsize=eval("10"))\n>>>>>>> REPLACE\n',
}
GRADE = {"grounded": 4, "priority": 5, "actionable": 3, "safe": 5, "comment": "fine"}
TEXT = "Use bounded retries with jitter [retries].\nNever retry forever [not-a-rule].\n- [x] done\n"


class _Handler(BaseHTTPRequestHandler):
    calls: ClassVar[Counter[str]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return None

    def do_GET(self) -> None:
        body = json.dumps(dict(self.calls)).encode()
        self._send(200, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        model = str(request.get("model", ""))
        with self.lock:
            self.calls[model] += 1
            count = self.calls[model]
        if request.get("stream"):
            self._stream(model)
        else:
            self._complete(model, count)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _complete(self, model: str, count: int) -> None:
        if model.startswith("rate-limited-") and count <= int(model.rsplit("-", 1)[1]):
            self._send(429, b'{"error": {"message": "slow down"}}', {"retry-after": "1"})
            return
        recovered = model.startswith("failing-") and count > int(model.rsplit("-", 1)[1])
        if model == "error" or (model.startswith("failing-") and not recovered):
            self._send(500, b'{"error": {"message": "boom"}}')
            return
        if model == "garbage":
            self._send(200, b"<html>this is not json</html>")
            return
        if model == "slow":
            time.sleep(STALL_S)
        content = '{"oops": true}' if model == "bad-schema" else json.dumps(ANSWER)
        content = FIX_REPLIES.get(model, content)
        content = json.dumps(GRADE) if model == "judge" else content
        reply = {
            "id": "stub-1",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
        self._send(200, json.dumps(reply).encode())

    def _stream(self, model: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        pieces = TEXT.split(" ")
        for index, piece in enumerate(pieces):
            delta = piece if index == len(pieces) - 1 else piece + " "
            chunk = {
                "id": "stub-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if index == 0 and model == "stall":
                time.sleep(STALL_S)
                return
            if index == 0 and model == "disconnect":
                self.connection.shutdown(2)
                return
        final = {
            "id": "stub-1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@contextmanager
def running_stub() -> Iterator[tuple[str, Counter[str]]]:
    """Start the stub on a free loopback port; yields its base URL and the call counter."""
    _Handler.calls = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Handler.calls
    finally:
        server.shutdown()
        server.server_close()
