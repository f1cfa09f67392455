"""The request and response bodies of `bepro serve`, as pydantic models (OpenAI's shapes where
OpenAI defines them).

Token usage is an estimate, not a tokenizer's count: ceil(characters / 4), the usual rule of
thumb for English text (bepro runs no language model, so there are no real tokens to count).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_serializer

from bepro.agent.ask import MAX_QUESTION_CHARS
from bepro.errors import UsageError
from bepro.pack import check_code_size
from bepro.review.finding import FileIssue, Finding, ReviewResult

MODEL_BASE = "bepro"
MAX_MESSAGES = 100
MAX_STOP_SEQUENCES = 4  # as OpenAI
# Findings a review sends by default, and at most: 100 are about 30 KB of JSON; all of them for
# 4,000 untimed calls were 1 MB. The summary always counts every finding.
REVIEW_LIMIT, MAX_REVIEW_LIMIT = 100, 1000
CHARS_PER_TOKEN = 4
CHAT_ROUTE, ASK_ROUTE, REVIEW_ROUTE = "/v1/chat/completions", "/v1/ask", "/v1/review"
RESPONSES_ROUTE = "/v1/responses"
# OpenAI's routes answer every invalid request with 400, as OpenAI does; bepro's own use 422.
OPENAI_ROUTES = frozenset({CHAT_ROUTE, RESPONSES_ROUTE})
FinishReason = Literal["stop", "length"]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _code_within_limit(code: str) -> str:
    try:
        check_code_size(code)
    except UsageError as error:
        raise ValueError(error.message) from error
    return code


Code = Annotated[str, AfterValidator(_code_within_limit)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContentPart(BaseModel):
    """One part of a message's content; only text parts are read, others are ignored."""

    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """Chat UIs attach their own fields to messages (ids, display options): they are ignored."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ResponseFormat(BaseModel):
    """`text` is what bepro writes; `json_object` and `json_schema` are refused with a 400
    (routes.py): a client that parses JSON must not get markdown."""

    model_config = ConfigDict(extra="allow")
    type: Literal["text", "json_object", "json_schema"]


class ChatCompletionRequest(_Strict):
    """OpenAI's request body (the openai SDK's `completion_create_params.py`). Every documented
    field is accepted: `stop`, `max_tokens` and `max_completion_tokens` cut the answer; those that
    do not apply to a deterministic engine (sampling, penalties, caching, moderation, ...) are
    validated and ignored. Unknown top-level fields are a 400 naming them, so a typo does not
    pass silently."""

    model: str = Field(min_length=1, max_length=100, examples=[MODEL_BASE, f"{MODEL_BASE}-review"])
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=1, ge=1, le=1, description="bepro returns one choice")
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    stop: str | Annotated[list[str], Field(max_length=MAX_STOP_SEQUENCES)] | None = None
    seed: int | None = None
    user: str | None = Field(default=None, max_length=256)
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    moderation: dict[str, Any] | None = None
    safety_identifier: str | None = None

    def token_limit(self) -> int | None:
        """`max_completion_tokens`, or the older `max_tokens` it replaces."""
        return self.max_completion_tokens or self.max_tokens

    def stop_sequences(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop or [])


class AskBody(_Strict):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    action: str | None = Field(default=None, description="inferred from the question when omitted")
    code: Code | None = Field(default=None, description="code the question is about (≤ 200 KB)")


class ReviewBody(_Strict):
    code: Code
    filename: str = Field(
        default="snippet.py", max_length=255, pattern=r"^[\w-][\w.-]*(/[\w-][\w.-]*)*\.pyi?$"
    )
    limit: int = Field(
        default=REVIEW_LIMIT, ge=1, le=MAX_REVIEW_LIMIT, description="findings sent, by priority"
    )
    select: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=[], max_length=50, description="only these rule ids or codes (e.g. timeouts)"
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "bepro"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def estimate(cls, prompt: str, completion: str) -> Usage:
        prompt_tokens, completion_tokens = estimate_tokens(prompt), estimate_tokens(completion)
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    degraded: str | None = None  # set when the local index stood in for the vector store


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer
    def _present_fields(self) -> dict[str, str]:
        """As OpenAI sends it: the role in the first chunk only, no content in the last."""
        fields = {"role": self.role, "content": self.content}
        return {name: value for name, value in fields.items() if value is not None}


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class Omitted(BaseModel):
    """The findings a review did not send, counted by rule, and how to get them."""

    findings: int
    by_rule: dict[str, int]
    how_to_get: str


class ReviewResponse(BaseModel):
    findings: list[Finding]
    issues: list[FileIssue]
    summary: dict[str, Any]  # counts every finding, sent or not
    omitted: Omitted | None = None

    @classmethod
    def capped(cls, result: ReviewResult, limit: int) -> ReviewResponse:
        """The first `limit` findings in priority order; the rest as counts by rule."""
        shown = result.capped(limit)
        omitted = None
        if shown.omitted:
            by_rule = shown.omitted_by_rule
            most = max(by_rule, key=by_rule.__getitem__)
            omitted = Omitted(
                findings=shown.omitted,
                by_rule=by_rule,
                how_to_get=f"send `select` with a rule id (e.g. [{most!r}]) for one rule's "
                f"findings, or a `limit` up to {MAX_REVIEW_LIMIT}; review code in parts for more",
            )
        return cls(
            findings=shown.findings, issues=result.issues, summary=result.summary(), omitted=omitted
        )


class Status(BaseModel):
    status: Literal["ok", "ready", "starting", "failed", "degraded", "draining"]
    detail: str = ""
