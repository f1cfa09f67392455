"""`bepro serve`: an OpenAI-compatible HTTP API over bepro's engine (FastAPI + uvicorn).

    GET  /v1/models            `bepro` (action inferred) and `bepro-<action>` for each action
    POST /v1/chat/completions  answers the conversation's last user message; `stream: true` sends
                               server-sent `chat.completion.chunk` events ending with [DONE]
    POST /v1/ask               question, action?, code? -> AskResult
    POST /v1/review            code, filename -> findings, file issues and a summary
    GET  /healthz  /readyz     the process is alive / the index is open and answers can be served
    GET  /metrics              Prometheus metrics (see surfaces/observability.py)

Answers come from bepro.Pack (bepro/pack.py): the offline engine, upgraded to the LLM when one is
configured (OPENAI_BASE_URL or OPENAI_API_KEY, plus BEPRO_LLM_MODEL or [tool.bepro.llm]); every
LLM failure falls back to the offline answer. One circuit breaker per upstream is shared by the
whole process. A streamed completion is computed whole, then sent paragraph by paragraph. No lock
is held while the LLM writes: retrieval runs at most one query per core (the pack's bound,
released before the LLM call), and the admission slots below bound answer threads, not a lock.

The index opens (and is built or rebuilt when missing, stale or corrupt) in a background thread:
/healthz answers at once, /readyz and the answering routes return 503 with Retry-After until it
is open; a failure is retried with growing, jittered delays, so the server recovers by itself.

Limits ([tool.bepro.server]): answers run on `max-concurrency` threads with `max-queue` requests
waiting; beyond that a request is shed at once with 503 and Retry-After (surfaces/admission.py).
Each request has `request-timeout` seconds: the LLM gets LLM_SHARE of what remains when its turn
comes, so a slow or failing LLM still leaves time for the offline answer; a request still
unanswered at its deadline gets 504. Bodies are capped at MAX_BODY_BYTES, code at 200 KB,
questions at 4,000 characters; request models reject unknown fields. The API takes code as text
and never a path: the server reviews what it is sent, never files on its own disk.

Security (surfaces/access.py): a bearer token (BEPRO_API_TOKEN) guards every route but the
probes, and is required to listen beyond loopback; CORS is off unless `cors-origins` is set.
Logs are JSON lines with a request id and a trace id, and never hold a prompt, an answer, code or
a token: only routes, statuses, durations, sizes and counts.

Workers (`--workers N`): each is a separate process built by `create_server_app`, with its own
copy of the opened index, which it only reads (a missing or stale index is built once, under the
index's file lock). Nothing a client depends on lives in one process, so any load balancer can
spread requests over workers and machines.

Token usage is an estimate, not a tokenizer's count: ceil(characters / 4), the usual rule of
thumb for English text (bepro runs no language model, so there are no real tokens to count).
"""

from __future__ import annotations

import gc
import logging
import math
import os
import random
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_serializer
from starlette.exceptions import HTTPException

from bepro import __version__
from bepro.agent.answer import Outcome
from bepro.agent.ask import MAX_QUESTION_CHARS, AskResult
from bepro.catalogue.model import Catalogue
from bepro.config import BeproSettings, LLMSettings, Paths
from bepro.errors import BeproError, UsageError
from bepro.pack import Pack, check_code_size
from bepro.review.finding import FileIssue, Finding
from bepro.surfaces import observability
from bepro.surfaces.access import BearerAuth, api_token
from bepro.surfaces.admission import Admission, DeadlineError, OverloadedError, ShedWhenFull
from bepro.surfaces.answering import Answer, Question, answer, parse_message, split_blocks

if TYPE_CHECKING:
    from bepro.llm.client import LLMConfig

log = logging.getLogger(__name__)

MODEL_BASE = "bepro"
MAX_MESSAGES = 100
MAX_BODY_BYTES = 2_000_000  # a 200 KB code block inside a long conversation still fits
RETRY_AFTER_S = 5  # while the index opens
SHED_RETRY_AFTER_S = 1  # a full queue drains within about a second
AT_CAPACITY = "the server is at capacity; retry shortly"
CHAT_ROUTE, ASK_ROUTE, REVIEW_ROUTE = "/v1/chat/completions", "/v1/ask", "/v1/review"
ANSWER_ROUTES = frozenset({CHAT_ROUTE, ASK_ROUTE, REVIEW_ROUTE})  # admission-controlled
CHARS_PER_TOKEN = 4
KEEP_ALIVE_S = 5
GRACEFUL_SHUTDOWN_S = 10  # in-flight requests get this long to finish on SIGTERM
# uvicorn's own guard, far above the queue: bepro's limiter sheds first, with Retry-After.
MAX_CONNECTIONS = 2048
LLM_SHARE = 0.75  # of a request's remaining time; the rest is kept for the offline fallback
MIN_LLM_S = 0.5  # below this, the LLM is not tried at all
INDEX_RETRY_FIRST_S = 1.0
INDEX_RETRY_MAX_S = 30.0
PATH_FIELDS = frozenset({"file", "files", "path", "paths", "filepath", "directory"})
T = TypeVar("T")


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


class ChatCompletionRequest(_Strict):
    """OpenAI's request body. Every documented field is accepted; those that do not apply to a
    deterministic engine (sampling, penalties, tools, ...) are validated and ignored. Unknown
    top-level fields are rejected, so a typo does not pass silently."""

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
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = Field(default=None, max_length=256)
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    response_format: dict[str, Any] | None = None
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
    safety_identifier: str | None = None


class AskBody(_Strict):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    action: str | None = Field(default=None, description="inferred from the question when omitted")
    code: Code | None = Field(default=None, description="code the question is about (≤ 200 KB)")


class ReviewBody(_Strict):
    code: Code
    filename: str = Field(
        default="snippet.py", max_length=255, pattern=r"^[\w-][\w.-]*(/[\w-][\w.-]*)*\.pyi?$"
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
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


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
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ReviewResponse(BaseModel):
    findings: list[Finding]
    issues: list[FileIssue]
    summary: dict[str, Any]


class Status(BaseModel):
    status: Literal["ok", "ready", "starting", "failed"]
    detail: str = ""


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape, so the openai SDK and chat UIs show the message."""

    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class _Runtime:
    """The pack (ready once its index is open), the limits around it, and the configured LLM."""

    def __init__(self, paths: Paths, catalogue: Catalogue, settings: BeproSettings) -> None:
        from bepro.llm.client import resolve_llm_config

        self.pack = Pack(paths, catalogue, settings, reporter=_LogReporter())
        self.catalogue = catalogue
        self.settings = settings
        self.llm: LLMConfig | None = resolve_llm_config(settings.llm)
        self.created = int(time.time())
        self.ready = False
        self.failure: str | None = None
        self.admission: Admission | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        limits = self.settings.server
        self.admission = Admission(limits.max_concurrency, limits.max_queue)
        threading.Thread(target=self._open_index, name="bepro-open-index", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if self.admission is not None:
            self.admission.close()

    def _open_index(self) -> None:
        """Open (or build) the index; on failure, retry with growing, jittered delays."""
        delay = INDEX_RETRY_FIRST_S
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.pack.open_index()  # at most one query per core once open
            except BeproError as error:
                self.failure = error.one_line()
                log.error("index unavailable", extra={"error_code": error.code})
            except Exception as error:
                self.failure = f"internal error opening the index ({type(error).__name__})"
                log.exception("index failed to open")
            else:
                self.ready = True
                self.failure = None
                # The index, the model and the imports are a few hundred MB of objects that
                # live as long as the process; the cyclic GC rescanned them in every full
                # collection (p99 spikes under load). Frozen, they are skipped.
                gc.freeze()
                log.info("index open", extra={"duration_ms": _elapsed_ms(started)})
                return
            self._stopping.wait(random.uniform(delay / 2, delay))  # noqa: S311 - jitter only
            delay = min(delay * 2, INDEX_RETRY_MAX_S)

    def ready_pack(self) -> Pack:
        if self.ready:
            return self.pack
        if self.failure is not None:
            raise ApiError(503, f"{self.failure}; retrying", "index_unavailable")
        raise ApiError(503, "the index is still opening; retry shortly", "starting")

    async def run(self, route: str, work: Callable[[float], T]) -> T:
        """`work(deadline)` on an answer thread, within the request's deadline (a monotonic
        time); 503 when the queue is full, 504 when the deadline passes."""
        if self.admission is None:
            raise ApiError(503, "the server is starting; retry shortly", "starting")
        seconds = self.settings.server.request_timeout
        deadline = time.monotonic() + seconds
        try:
            return await self.admission.run(lambda: work(deadline), seconds)
        except OverloadedError:
            observability.SHED.labels(route).inc()
            raise ApiError(503, AT_CAPACITY, "overloaded") from None
        except DeadlineError:
            raise ApiError(
                504, f"no answer within the server's {seconds:g} s deadline", "deadline_exceeded"
            ) from None

    def llm_budget(self, deadline: float) -> LLMSettings | None:
        """The LLM settings for one answer, its deadline cut to a share of the time left; None
        (answer offline) without an LLM or when too little time is left to try one."""
        seconds = (deadline - time.monotonic()) * LLM_SHARE
        if self.llm is None or seconds < MIN_LLM_S:
            return None
        llm = self.settings.llm
        return llm.model_copy(update={"deadline": min(llm.deadline, seconds)})

    def record_llm(self, result: AskResult, llm_failed: bool) -> None:
        """Count an answer that went to the LLM, and refresh the breaker's gauge."""
        if llm_failed or result.mode == "llm":
            observability.LLM_ANSWERS.labels("fallback" if llm_failed else "llm").inc()
        self.refresh_breaker()

    def refresh_breaker(self) -> None:
        if self.llm is None:
            return
        from bepro.llm.client import breaker_for

        state = breaker_for(self.llm).state
        observability.BREAKER.set(observability.BREAKER_STATES[state])

    def action_for(self, model: str) -> str | None:
        if model == MODEL_BASE:
            return None
        action = model.removeprefix(f"{MODEL_BASE}-")
        if action != model and action in self.catalogue.action_names:
            return action
        raise ApiError(
            404,
            f"the model {model!r} does not exist; use {MODEL_BASE!r} or {MODEL_BASE}-<action> "
            "(GET /v1/models lists them)",
            "model_not_found",
            "model",
        )


class _LogReporter:
    """What the index says while it opens (building, rebuilding a corrupt one) goes to the log."""

    def notice(self, message: str) -> None:
        log.warning("index: %s", message)

    def progress(self, done: int, total: int) -> None:
        return None


def _runtime(request: Request) -> _Runtime:
    runtime: _Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[_Runtime, Depends(_runtime)]
router = APIRouter()
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 404, 413, 422, 503, 504)
}


@router.get("/healthz", tags=["operations"])
async def healthz() -> Status:
    """The process is alive (the index may still be opening)."""
    return Status(status="ok")


@router.get(
    "/readyz", tags=["operations"], response_model=Status, responses={503: {"model": Status}}
)
async def readyz(runtime: RuntimeDep) -> Status | JSONResponse:
    """200 once the catalogue is loaded and the index is open; 503 before, or if it failed."""
    if runtime.ready:
        return Status(status="ready", detail=f"{len(runtime.catalogue.rules)} rules, index open")
    status = Status(status="failed", detail=runtime.failure) if runtime.failure else None
    status = status or Status(status="starting", detail="the index is opening")
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return JSONResponse(status.model_dump(), status_code=503, headers=headers)


@router.get("/v1/models", tags=["openai"])
async def list_models(runtime: RuntimeDep) -> ModelList:
    """`bepro` infers the action from the question; `bepro-<action>` fixes it."""
    names = [MODEL_BASE, *(f"{MODEL_BASE}-{a}" for a in runtime.catalogue.action_names)]
    return ModelList(data=[ModelCard(id=name, created=runtime.created) for name in names])


@router.post(
    CHAT_ROUTE,
    tags=["openai"],
    response_model=ChatCompletion,
    responses={**_ERRORS, 200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatCompletionRequest, runtime: RuntimeDep
) -> ChatCompletion | StreamingResponse:
    """Answer the last user message; its ```python blocks are reviewed first."""
    action = runtime.action_for(body.model)
    question = parse_message(_last_user_text(body.messages), action)
    pack = runtime.ready_pack()

    def work(deadline: float) -> Answer:
        return answer(question, pack, runtime.llm_budget(deadline))

    reply = await runtime.run(CHAT_ROUTE, work)
    runtime.record_llm(reply.result, reply.llm_failed)
    prompt = "\n".join(message.text() for message in body.messages)
    usage = _usage(prompt, reply)
    _log_answer("chat completion", question, reply.result, reply.finding_count, bool(body.stream))
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        with_usage = body.stream_options is not None and body.stream_options.include_usage
        events = _sse(completion_id, body.model, reply.text, usage if with_usage else None)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=reply.text))],
        usage=usage,
    )


@router.post(ASK_ROUTE, tags=["bepro"], responses=_ERRORS, response_model_exclude_none=True)
async def ask_route(body: AskBody, runtime: RuntimeDep) -> AskResult:
    """The rules that apply to a question, in priority order, with citations (as `bepro ask`)."""
    pack = runtime.ready_pack()

    def work(deadline: float) -> Outcome:
        llm = runtime.llm_budget(deadline)
        return pack.answer(body.question, action=body.action, code=body.code, llm=llm)

    outcome = await runtime.run(ASK_ROUTE, work)
    runtime.record_llm(outcome.result, outcome.llm_failed)
    question = Question(body.question, body.action)
    code_bytes = len((body.code or "").encode())
    _log_answer("ask", question, outcome.result, 0, False, code_bytes=code_bytes)
    return outcome.result


@router.post(REVIEW_ROUTE, tags=["bepro"], responses=_ERRORS)
async def review_route(body: ReviewBody, runtime: RuntimeDep) -> ReviewResponse:
    """Findings in the code, each citing a rule, ordered by priority (as `bepro review`)."""
    pack = runtime.ready_pack()
    result = await runtime.run(
        REVIEW_ROUTE, lambda _: pack.review(code=body.code, filename=body.filename)
    )
    log.info(
        "review",
        extra={"code_bytes": len(body.code.encode()), "findings": len(result.findings),
               "issues": len(result.issues)},
    )  # fmt: skip
    return ReviewResponse(findings=result.findings, issues=result.issues, summary=result.summary())


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics, in the text exposition format."""
    runtime.refresh_breaker()
    body, content_type = observability.metrics_text()
    return Response(body, media_type=content_type)


def _usage(prompt: str, reply: Answer) -> Usage:
    """The LLM's own count when it answered; otherwise an estimate."""
    counted = reply.result.usage
    if counted is None:
        return Usage.estimate(prompt, reply.text)
    return Usage.model_validate(counted)


def _last_user_text(messages: list[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.text()
    raise ApiError(
        422, "the conversation has no user message to answer", "no_user_message", "messages"
    )


def _sse(completion_id: str, model: str, text: str, usage: Usage | None) -> Iterator[str]:
    """OpenAI's streaming format: a role chunk, content chunks, a stop chunk, usage, [DONE]."""
    created = int(time.time())

    def event(choices: list[ChunkChoice], usage: Usage | None = None) -> str:
        chunk = ChatCompletionChunk(
            id=completion_id, created=created, model=model, choices=choices, usage=usage
        )
        return f"data: {chunk.model_dump_json()}\n\n"

    yield event([ChunkChoice(delta=Delta(role="assistant", content=""))])
    for block in split_blocks(text):
        yield event([ChunkChoice(delta=Delta(content=block))])
    yield event([ChunkChoice(delta=Delta(), finish_reason="stop")])
    if usage is not None:
        yield event([], usage)
    yield "data: [DONE]\n\n"


def _log_answer(
    event: str,
    question: Question,
    result: AskResult,
    findings: int,
    stream: bool,
    code_bytes: int | None = None,
) -> None:
    """Sizes and counts only: never the question, the code or the answer."""
    if code_bytes is None:
        code_bytes = sum(len(s.code.encode()) for s in question.snippets)
    log.info(
        event,
        extra={
            "action": result.action,
            "mode": result.mode,
            "action_inferred": result.action_inferred,
            "question_chars": len(question.text),
            "code_bytes": code_bytes,
            "rules": result.rules,
            "findings": findings,
            "abstained": result.abstained,
            "stream": stream,
        },
    )


def _error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = ErrorResponse(error=ErrorDetail(message=message, type=kind, param=param, code=code))
    retry_after = SHED_RETRY_AFTER_S if code == "overloaded" else RETRY_AFTER_S
    headers = {"Retry-After": str(retry_after)} if status == 503 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _on_api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)  # noqa: S101 - registered for this type only
    return _error(error.status, error.message, error.code, error.param)


async def _on_bepro_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BeproError)  # noqa: S101 - registered for this type only
    message = f"{error.message} ({error.hint})" if error.hint else error.message
    return _error(422, message, error.code)


async def _on_invalid_request(_: Request, error: Exception) -> JSONResponse:
    """The first problem, named by its field: `messages: List should have at most 100 items`."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    problems = error.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return _error(422, "the request body is not valid JSON", "invalid_json")
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    if first.get("type") == "extra_forbidden" and where in PATH_FIELDS:
        message = f"{where}: the server reviews code it is sent, never files on its own disk"
        return _error(422, f"{message}; send the code as text in `code`", "path_refused", where)
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    message = f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"
    return _error(422, message, "invalid_request", where or None)


async def _on_http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    if error.status_code == 400:  # a body that is not UTF-8 JSON: as invalid JSON, a 422
        return _error(422, "the request body is not valid UTF-8 JSON", "invalid_json")
    return _error(error.status_code, str(error.detail), f"http_{error.status_code}")


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def create_app(
    paths: Paths, catalogue: Catalogue, settings: BeproSettings | None = None
) -> FastAPI:
    """The API over one pack; the index opens in the background when the app starts."""
    settings = settings or BeproSettings()
    runtime = _Runtime(paths, catalogue, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        yield
        runtime.stop()

    app = FastAPI(
        title="bepro",
        version=__version__,
        summary="Principal-level backend guidance for Python, OpenAI-compatible, offline.",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.runtime = runtime
    app.include_router(router)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(BeproError, _on_bepro_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.add_exception_handler(HTTPException, _on_http_error)
    _add_middleware(app, settings)
    return app


def _shed(route: str) -> JSONResponse:
    observability.SHED.labels(route).inc()
    return _error(503, AT_CAPACITY, "overloaded")


def _add_middleware(app: FastAPI, settings: BeproSettings) -> None:
    """Outermost last: telemetry sees every request, CORS answers preflights before auth, and
    auth runs before a full queue sheds."""
    runtime: _Runtime = app.state.runtime
    app.add_middleware(
        ShedWhenFull, admission=lambda: runtime.admission, routes=ANSWER_ROUTES, refusal=_shed
    )
    token = api_token()
    if token is not None:
        app.add_middleware(BearerAuth, token=token)
    origins = settings.server.cors_origins
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "traceparent"],
        )
    routes = frozenset(getattr(route, "path", "") for route in [*app.routes, *router.routes])
    app.add_middleware(observability.Telemetry, routes=routes, tracer=observability.tracer())


def create_server_app() -> FastAPI:
    """The app of one `bepro serve` worker, built from the environment and pyproject.toml
    (uvicorn imports it by name in each worker process)."""
    from bepro.catalogue.parse import load_catalogue
    from bepro.config import load_settings, resolve_paths

    _log_to_json()
    settings = load_settings()
    paths = resolve_paths(settings)
    return create_app(paths, load_catalogue(paths.skill), settings)


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


def _log_to_json() -> None:
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
    stop accepting, let in-flight requests finish (up to GRACEFUL_SHUTDOWN_S), then exit."""
    import uvicorn

    config = uvicorn.Config(
        f"{__name__}:create_server_app",
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

    _log_to_json()
    metrics_dir = tempfile.mkdtemp(prefix="bepro-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # the workers inherit it
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
