"""`bepro serve` as OpenAI's clients expect it: a real server on loopback, the real openai SDK
(and httpx for the raw shapes). Parameters that shape an answer are honoured or refused, never
silently ignored; every error is in OpenAI's shape."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai.types.chat.completion_create_params import CompletionCreateParamsBase
from openai.types.responses.response_create_params import ResponseCreateParamsBase
from pydantic import BaseModel

from bepro.surfaces.server.responses import ResponseRequest
from bepro.surfaces.server.wire import ChatCompletionRequest

QUESTION = [{"role": "user", "content": "how do I make a payment call safe to retry?"}]
ERROR_FIELDS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def whole(client: openai.OpenAI) -> str:
    """The full answer to QUESTION, for the cut ones to be compared with."""
    completion = client.chat.completions.create(model="bepro", messages=QUESTION)
    assert completion.choices[0].finish_reason == "stop"
    return completion.choices[0].message.content or ""


def test_a_model_is_retrieved_by_its_id(client: openai.OpenAI) -> None:
    model = client.models.retrieve("bepro-review")
    assert (model.id, model.object, model.owned_by) == ("bepro-review", "model", "bepro")


def test_an_unknown_model_id_is_openais_404(client: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError, match="'gpt-4' does not exist"):
        client.models.retrieve("gpt-4")
    error = http.get("/v1/models/gpt-4").json()["error"]
    assert error.keys() == ERROR_FIELDS
    assert (error["code"], error["param"]) == ("model_not_found", "model")


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
def test_a_token_limit_cuts_the_answer_with_finish_reason_length(
    client: openai.OpenAI, whole: str, limit: str
) -> None:
    completion = client.chat.completions.create(model="bepro", messages=QUESTION, **{limit: 20})
    choice = completion.choices[0]
    content = choice.message.content or ""
    assert choice.finish_reason == "length"
    assert content == whole[:80]  # 20 tokens of 4 characters
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 20


def test_a_streamed_answer_is_cut_the_same_way(client: openai.OpenAI, whole: str) -> None:
    stream = client.chat.completions.create(
        model="bepro", messages=QUESTION, max_completion_tokens=50, stream=True
    )
    chunks = [chunk.choices[0] for chunk in stream if chunk.choices]
    assert "".join(c.delta.content or "" for c in chunks) == whole[:200]
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["length"]


def test_a_stop_sequence_ends_the_answer_before_it(client: openai.OpenAI, whole: str) -> None:
    assert "## 2." in whole
    completion = client.chat.completions.create(
        model="bepro", messages=QUESTION, stop=["## 2.", "never in the answer"]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content == whole[: whole.index("## 2.")]


def test_a_json_schema_response_format_is_refused_not_ignored(client: openai.OpenAI) -> None:
    """The SDK's structured-output helper sends a JSON schema; markdown would break its parser."""

    class Verdict(BaseModel):
        safe: bool

    with pytest.raises(openai.BadRequestError, match="response_format 'json_schema'") as caught:
        client.chat.completions.parse(model="bepro", messages=QUESTION, response_format=Verdict)
    assert caught.value.code == "unsupported_parameter"
    assert caught.value.param == "response_format"


def test_a_forced_tool_call_is_refused(client: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError, match="does not call tools"):
        client.chat.completions.create(
            model="bepro", messages=QUESTION, tools=[tool], tool_choice="required"
        )


def test_every_parameter_of_the_installed_sdk_is_accepted() -> None:
    assert set(CompletionCreateParamsBase.__annotations__) <= set(
        ChatCompletionRequest.model_fields
    )


def test_current_parameters_that_do_not_apply_are_accepted_and_ignored(
    client: openai.OpenAI, whole: str
) -> None:
    completion = client.chat.completions.create(
        model="bepro",
        messages=QUESTION,
        moderation={"model": "omni-moderation-latest"},
        prompt_cache_retention="24h",
        prompt_cache_key="tenant-1",
        safety_identifier="user-1",
        verbosity="low",
        service_tier="auto",
        store=False,
        metadata={"team": "payments"},
        seed=7,
        response_format={"type": "text"},
        tool_choice="auto",
    )
    assert completion.choices[0].message.content == whole


def test_unknown_parameters_are_a_400_naming_them(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="bepro", messages=QUESTION, extra_body={"temprature": 1, "max_token": 5}
        )
    assert "Unrecognized request arguments supplied: temprature, max_token" in str(caught.value)
    assert (caught.value.code, caught.value.param) == ("unknown_parameter", "temprature")


def test_a_body_too_large_without_a_length_is_openais_413(http: httpx.Client) -> None:
    """Sent in chunks, the body has no Content-Length: it is refused once past the limit."""

    def chunks() -> Iterator[bytes]:
        yield b'{"model": "bepro", "messages": [{"role": "user", "content": "'
        for _ in range(30):
            yield b"x" * 100_000
        yield b'"}]}'

    response = http.post(
        "/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error.keys() == ERROR_FIELDS
    assert error["code"] == "request_too_large"


CALLS = "    requests.get(url)\n" * 4000
MANY_FINDINGS = f"import pickle\n\nimport requests\n\n\ndef fetch(url, blob):\n{CALLS}    return pickle.loads(blob)\n"


def test_a_large_review_sends_findings_by_priority_up_to_the_limit_and_counts_the_rest(
    http: httpx.Client,
) -> None:
    """4,000 untimed calls, then one unsafe pickle at the end: the pickle (priority 1) leads,
    100 findings are sent, the other 3,901 are counted, and `select` gets one rule's."""
    code = MANY_FINDINGS
    response = http.post("/v1/review", json={"code": code})
    payload = response.json()
    assert len(response.content) < 50_000
    assert [f["rule_id"] for f in payload["findings"][:2]] == ["input-validation", "timeouts"]
    assert len(payload["findings"]) == 100
    assert payload["summary"]["findings"] == 4001
    omitted = payload["omitted"]
    assert (omitted["findings"], omitted["by_rule"]) == (3901, {"timeouts": 3901})
    assert "`select`" in omitted["how_to_get"]
    chosen = http.post("/v1/review", json={"code": code, "select": ["input-validation"]}).json()
    assert [f["source"] for f in chosen["findings"]] == ["ruff:S301"]
    assert chosen["omitted"] is None


def test_the_responses_api_answers_as_chat_completions_do(
    client: openai.OpenAI, whole: str
) -> None:
    response = client.responses.create(
        model="bepro", input=QUESTION[0]["content"], instructions="be brief", store=False
    )
    assert (response.status, response.output_text) == ("completed", whole)
    assert response.usage is not None
    assert response.usage.output_tokens == math.ceil(len(whole) / 4)


def test_a_streamed_response_reassembles_through_the_sdks_helper(
    client: openai.OpenAI, whole: str
) -> None:
    """The SDK's stream helper checks the event sequence as it accumulates the response."""
    with client.responses.stream(model="bepro", input=QUESTION) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text == whole
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds.count("response.output_text.delta") > 5  # paragraph by paragraph
    assert kinds[-1] == "response.completed"


def test_max_output_tokens_makes_the_response_incomplete(client: openai.OpenAI, whole: str) -> None:
    response = client.responses.create(model="bepro", input=QUESTION, max_output_tokens=25)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == whole[:100]


def test_what_needs_stored_responses_or_json_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="bepro stores none") as caught:
        client.responses.create(model="bepro", input=QUESTION, previous_response_id="resp_1")
    assert caught.value.param == "previous_response_id"

    class Verdict(BaseModel):
        safe: bool

    with pytest.raises(openai.BadRequestError, match=r"text\.format 'json_schema'"):
        client.responses.parse(model="bepro", input=QUESTION, text_format=Verdict)


def test_every_responses_parameter_of_the_installed_sdk_is_accepted() -> None:
    assert set(ResponseCreateParamsBase.__annotations__) <= set(ResponseRequest.model_fields)
