"""`bepro serve` as a client meets it: a real uvicorn process on loopback, the real openai SDK."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

from bepro.catalogue.model import Catalogue

from .conftest import run_bepro
from .serve_helpers import Server

pytestmark = pytest.mark.integration  # starts the HTTP server

PAYMENT_QUESTION = "how do I make a payment call safe to retry?"
UNTIMED_CALL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
CANARY = "zebra-canary-7731"  # sent in prompts and code; must never reach the logs


def test_models_are_bepro_and_one_per_action(client: openai.OpenAI, catalogue: Catalogue) -> None:
    models = [model.id for model in client.models.list()]
    assert models == ["bepro", *(f"bepro-{action}" for action in catalogue.action_names)]
    assert len(models) == 12


def test_completion_about_safe_retries_cites_idempotency(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="bepro-review",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": PAYMENT_QUESTION},
        ],
        temperature=0.2,
        max_tokens=4000,  # above the answer: it is sent whole
        user="test-user",
    )
    choice = completion.choices[0]
    content = choice.message.content or ""
    assert choice.finish_reason == "stop"
    assert "**Action:** review" in content
    assert "`idempotency`" in content
    assert "[idempotency] references/rules/idempotency.md" in content
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens == math.ceil(len(content) / 4)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


def test_streamed_completion_reassembles_to_the_same_answer(client: openai.OpenAI) -> None:
    messages: list[dict[str, str]] = [{"role": "user", "content": PAYMENT_QUESTION}]
    whole = client.chat.completions.create(model="bepro", messages=messages)
    stream = client.chat.completions.create(
        model="bepro",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert len(pieces) > 5  # streamed block by block, not in one piece
    assert "".join(pieces) == whole.choices[0].message.content
    assert finishes[-1] == "stop"
    assert finishes[:-1] == [None] * (len(finishes) - 1)
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_stream_is_server_sent_events_ending_with_done(http: httpx.Client) -> None:
    body = {
        "model": "bepro",
        "stream": True,
        "messages": [{"role": "user", "content": "retry storms"}],
    }
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    first = json.loads(events[0].removeprefix("data: "))
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}


def test_python_block_in_the_message_is_reviewed_first(client: openai.OpenAI) -> None:
    message = f"Is this client safe in production?\n\n```python\n{UNTIMED_CALL}```\n"
    completion = client.chat.completions.create(
        model="bepro", messages=[{"role": "user", "content": message}]
    )
    content = completion.choices[0].message.content or ""
    assert content.startswith("## Findings in your code")
    assert "| snippet.py:5 | `ruff:S113` | [timeouts] | 2 |" in content
    assert content.index("| snippet.py:5") < content.index("Rules that apply")
    assert "## 1. `timeouts`" in content  # the guidance starts with the rule the code breaks


def test_ask_returns_the_ask_result(http: httpx.Client) -> None:
    response = http.post("/v1/ask", json={"question": PAYMENT_QUESTION, "action": "implement"})
    assert response.status_code == 200
    result = response.json()
    assert result["action"] == "implement"
    assert result["action_inferred"] is False
    assert result["rules"][0] == "idempotency"
    assert {c["rule_id"] for c in result["citations"]} >= {"idempotency"}
    assert result["abstained"] is False


def test_ask_with_code_uses_it_as_context(http: httpx.Client) -> None:
    question = "what is wrong with this?"
    without = http.post("/v1/ask", json={"question": question}).json()
    with_code = http.post("/v1/ask", json={"question": question, "code": UNTIMED_CALL}).json()
    assert without["abstained"] is True  # the question alone says nothing about backends
    assert with_code["abstained"] is False
    assert with_code["rules"]


def test_review_returns_findings_and_a_summary(http: httpx.Client) -> None:
    response = http.post("/v1/review", json={"code": UNTIMED_CALL, "filename": "app/client.py"})
    assert response.status_code == 200
    payload = response.json()
    assert [(f["rule_id"], f["path"], f["line"]) for f in payload["findings"]] == [
        ("timeouts", "app/client.py", 5)
    ]
    assert payload["summary"]["by_rule"] == {"timeouts": 1}
    assert payload["issues"] == []


def test_health_and_readiness(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "detail": ""}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert "39 rules" in ready.json()["detail"]


def test_openapi_documents_every_route(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert set(document["paths"]) == {
        "/v1/models", "/v1/models/{model_id}", "/v1/chat/completions", "/v1/responses", "/v1/ask", "/v1/review", "/healthz", "/readyz",
    }  # fmt: skip
    assert "ChatCompletionRequest" in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "bepro", "messages": []}, "messages: List should have at least 1 item"),
        (
            {"model": "bepro", "messages": [{"role": "user", "content": "hi"}] * 101},
            "messages: List should have at most 100 items",
        ),
        (
            {"model": "bepro", "messages": [{"role": "user", "content": "hi"}], "temprature": 1},
            "Unrecognized request argument supplied: temprature",
        ),
        ({"model": "bepro", "messages": [{"role": "system", "content": "be brief"}]}, "no user message"),
    ],
)  # fmt: skip
def test_bad_chat_input_gets_openais_400_with_a_clear_message(
    http: httpx.Client, body: dict[str, object], message: str
) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"]
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/ask", {"question": "x" * 4001}, "question: String should have at most 4000 characters"),
        ("/v1/ask", {"question": "how to retry?", "action": "deploy"}, "unknown action 'deploy'; use one of: plan"),
        ("/v1/review", {"code": "x = 1\n" * 40_000}, "the code is 240000 bytes; the limit is 200000"),
        ("/v1/review", {"code": "x = 1", "filename": "../etc/passwd"}, "filename: String should match"),
    ],
)  # fmt: skip
def test_bad_input_to_bepros_routes_gets_422_with_a_clear_message(
    http: httpx.Client, path: str, body: dict[str, object], message: str
) -> None:
    response = http.post(path, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert message in error["message"]
    assert error["type"] == "invalid_request_error"


def test_openai_sdk_raises_its_own_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="at least 1 item"):
        client.chat.completions.create(model="bepro", messages=[])
    with pytest.raises(openai.NotFoundError, match="model 'gpt-4' does not exist"):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])


def test_logs_are_json_and_never_hold_prompts_or_code(
    client: openai.OpenAI, http: httpx.Client, server_log: Path
) -> None:
    client.chat.completions.create(
        model="bepro",
        messages=[
            {"role": "user", "content": f"retry budget {CANARY}?\n```python\n# {CANARY}\n```"}
        ],
    )
    http.post("/v1/review", json={"code": f"x = '{CANARY}'\n"})
    deadline = time.monotonic() + 10.0
    while '"review"' not in server_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server writes its log line as the response leaves
    text = server_log.read_text()
    assert CANARY not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    completions = [r for r in records if r["msg"] == "chat completion"]
    assert completions
    assert {"request_id", "action", "question_chars", "code_bytes", "rules"} <= completions[
        -1
    ].keys()


def test_a_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_bepro("serve", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("field", ["path", "file"])
def test_paths_are_refused_the_server_reviews_only_code_it_is_sent(
    http: httpx.Client, field: str
) -> None:
    response = http.post("/v1/review", json={"code": "x = 1\n", field: "/etc/passwd"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "path_refused"
    assert "never files on its own disk" in error["message"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(http: httpx.Client) -> None:
    response = http.post(
        "/v1/review",
        content=b'{"code": "' + b"x" * 2_100_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "message": "the request body is over the server's limit of 2,000,000 bytes",
        "type": "invalid_request_error",
        "param": None,
        "code": "request_too_large",
    }


def test_trace_context_is_continued_and_every_log_line_carries_the_ids(
    http: httpx.Client, server: Server
) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = http.post(
        "/v1/ask",
        json={"question": "retry budget for a flaky dependency"},
        headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01", "x-request-id": "req-42"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["traceparent"].startswith(f"00-{trace}-")
    fresh = http.get("/healthz").headers["traceparent"].split("-")[1]
    assert fresh != trace
    assert len(fresh) == 32
    deadline = time.monotonic() + 10.0
    while '"req-42"' not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)  # the access line is written as the response leaves
    records = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    assert all({"request_id", "trace_id"} <= record.keys() for record in records)
    mine = [r for r in records if r["request_id"] == "req-42"]
    assert {r["msg"] for r in mine} >= {"ask", "request"}
    assert {r["trace_id"] for r in mine} == {trace}


def test_metrics_count_requests_per_route_and_status(http: httpx.Client) -> None:
    http.post("/v1/ask", json={"question": "how do I paginate a large listing endpoint?"})
    http.post("/v1/ask", json={"question": ""})
    text = http.get("/metrics").text
    assert 'bepro_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert 'bepro_http_requests_total{method="POST",route="/v1/ask",status="422"}' in text
    assert (
        'bepro_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/v1/ask"}' in text
    )
    assert "bepro_requests_shed_total" in text
    assert "bepro_llm_answers_total" in text


def test_cors_is_off_unless_configured(http: httpx.Client) -> None:
    preflight = http.options(
        "/v1/ask",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_the_openapi_document_holds_under_fuzzing(base_url: str, tmp_path: Path) -> None:
    """schemathesis generates requests from /openapi.json: no 500s, responses match the schema."""
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
            "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance",
            "--max-examples", "15", "--seed", "7", "--workers", "1",
            "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
            "--request-timeout", "30", "--no-color",
        ],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
