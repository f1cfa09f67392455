"""OpenAI's Responses API (`POST /v1/responses`, plain and streamed) for the clients that speak
it (LangChain's `use_responses_api=True`, the Agents SDK, ...): the last user message of `input`
is answered as a chat completion's is, and sent as one `output_text` of one assistant message.

`max_output_tokens` cuts the answer (`status: "incomplete"`, reason `max_output_tokens`). What
bepro cannot do is a 400, never silently ignored: JSON `text.format`, a forced tool call, and the
features that need OpenAI's storage (`previous_response_id`, `conversation`, `background`, stored
`prompt` templates). The other parameters are validated and ignored, as for chat completions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi.responses import Response as HttpResponse
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from bepro.surfaces.answering import split_blocks
from bepro.surfaces.server.completion import cut
from bepro.surfaces.server.errors import ApiError
from bepro.surfaces.server.routes import (
    OPENAI_ERRORS,
    RuntimeDep,
    answer_message,
    degraded_headers,
    refuse_other_shapes,
    usage_of,
)
from bepro.surfaces.server.streaming import event_stream
from bepro.surfaces.server.wire import MAX_MESSAGES, RESPONSES_ROUTE

Status = Literal["in_progress", "completed", "incomplete"]
STORED_ONLY = ("previous_response_id", "conversation", "background", "prompt")
router = APIRouter()


class InputPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class InputItem(BaseModel):
    """A message of `input`; other items (tool outputs, reasoning, ...) carry no question."""

    model_config = ConfigDict(extra="ignore")
    type: str = "message"
    role: str | None = None
    content: str | list[InputPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.text and "text" in p.type)
        return self.content or ""


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text", "json_object", "json_schema"]


class TextConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    format: TextFormat | None = None


class ResponseRequest(BaseModel):
    """The openai SDK's `response_create_params.py`; unknown top-level fields are a 400."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=100)
    input: str | Annotated[list[InputItem], Field(min_length=1, max_length=MAX_MESSAGES)]
    instructions: str | None = None
    stream: bool | None = False
    max_output_tokens: int | None = Field(default=None, ge=1)
    text: TextConfig | None = None
    tool_choice: str | dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    previous_response_id: str | None = None
    conversation: str | dict[str, Any] | None = None
    background: bool | None = None
    prompt: dict[str, Any] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    truncation: Literal["auto", "disabled"] | None = None
    parallel_tool_calls: bool | None = None
    max_tool_calls: int | None = Field(default=None, ge=1)
    include: list[str] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    reasoning: dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    moderation: dict[str, Any] | None = None
    safety_identifier: str | None = None
    user: str | None = Field(default=None, max_length=256)
    access_programs: dict[str, Any] | None = None
    background_options: dict[str, Any] | None = None
    context_management: list[dict[str, Any]] | None = None
    image: dict[str, Any] | None = None

    def items(self) -> list[InputItem]:
        if isinstance(self.input, str):
            return [InputItem(role="user", content=self.input)]
        return self.input


class OutputText(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = []


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    status: Status
    role: Literal["assistant"] = "assistant"
    content: list[OutputText]


class ResponseUsage(BaseModel):
    input_tokens: int
    input_tokens_details: dict[str, int] = {"cached_tokens": 0}
    output_tokens: int
    output_tokens_details: dict[str, int] = {"reasoning_tokens": 0}
    total_tokens: int


class IncompleteDetails(BaseModel):
    reason: Literal["max_output_tokens"] = "max_output_tokens"


class Response(BaseModel):
    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Status
    incomplete_details: IncompleteDetails | None = None
    error: None = None
    model: str
    output: list[OutputMessage]
    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = False
    tool_choice: str = "none"
    tools: list[Any] = []
    usage: ResponseUsage | None = None
    degraded: str | None = None  # set when the local index stood in for the vector store


@router.post(
    RESPONSES_ROUTE,
    tags=["openai"],
    response_model=Response,
    responses={
        **OPENAI_ERRORS,
        200: {"content": {"text/event-stream": {}}},
    },
)
async def create_response(
    body: ResponseRequest, runtime: RuntimeDep, outgoing: HttpResponse
) -> Response | StreamingResponse:
    """Answer the last user message of `input`; its ```python blocks are reviewed first."""
    action = runtime.action_for(body.model)
    _refuse_unsupported(body)
    message = _last_user_text(body.items())
    reply = await answer_message(runtime, RESPONSES_ROUTE, message, action, bool(body.stream))
    text, finish = cut(reply.text, [], body.max_output_tokens)
    prompt = "\n".join([body.instructions or "", *(item.text() for item in body.items())])
    usage = usage_of(prompt, reply, text)
    status: Status = "incomplete" if finish == "length" else "completed"
    response = Response(
        id=f"resp_{uuid.uuid4().hex}",
        created_at=int(time.time()),
        status=status,
        incomplete_details=IncompleteDetails() if status == "incomplete" else None,
        model=body.model,
        output=[
            OutputMessage(
                id=f"msg_{uuid.uuid4().hex}", status=status, content=[OutputText(text=text)]
            )
        ],
        instructions=body.instructions,
        max_output_tokens=body.max_output_tokens,
        usage=ResponseUsage(
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        ),
        degraded=reply.result.degraded,
    )
    if body.stream:
        return event_stream(_events(response), degraded_headers(reply.result))
    outgoing.headers.update(degraded_headers(reply.result))
    return response


def _refuse_unsupported(body: ResponseRequest) -> None:
    given = [name for name in STORED_ONLY if getattr(body, name) not in (None, False)]
    if given:
        raise ApiError(
            400,
            f"{given[0]} needs responses stored by the server, and bepro stores none; "
            "send the whole conversation in `input`",
            "unsupported_parameter",
            given[0],
        )
    text_format = body.text.format if body.text and body.text.format else None
    refuse_other_shapes(
        text_format.type if text_format else "text", "text.format", body.tool_choice
    )


def _last_user_text(items: list[InputItem]) -> str:
    for item in reversed(items):
        if item.type == "message" and item.role == "user":
            return item.text()
    raise ApiError(400, "the input has no user message to answer", "no_user_message", "input")


def _events(response: Response) -> Iterator[str]:
    """The Responses API's server-sent events: created, the message and its text delta by
    paragraph, then completed (or incomplete, when cut by max_output_tokens)."""
    message = response.output[0]
    whole = message.content[0]
    started = response.model_copy(
        update={"status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    )
    at = {"item_id": message.id, "output_index": 0, "content_index": 0}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": started}),
        ("response.in_progress", {"response": started}),
        (
            "response.output_item.added",
            {
                "output_index": 0,
                "item": message.model_copy(update={"status": "in_progress", "content": []}),
            },
        ),
        ("response.content_part.added", {**at, "part": OutputText(text="")}),
        *(
            ("response.output_text.delta", {**at, "delta": piece, "logprobs": []})
            for piece in split_blocks(whole.text)
        ),
        ("response.output_text.done", {**at, "text": whole.text, "logprobs": []}),
        ("response.content_part.done", {**at, "part": whole}),
        ("response.output_item.done", {"output_index": 0, "item": message}),
        (f"response.{response.status}", {"response": response}),
    ]
    for number, (kind, fields) in enumerate(events):
        data = to_json({"type": kind, "sequence_number": number, **fields}).decode()
        yield f"event: {kind}\ndata: {data}\n\n"
