"""The routes of `bepro serve`: OpenAI's /v1/models and /v1/chat/completions, bepro's /v1/ask and
/v1/review, the probes and /metrics. Each answer runs on an answer thread of the runtime.

A chat completion honours `stop` and `max_tokens` / `max_completion_tokens` (completion.py) and
refuses what would change its shape beyond markdown text: a JSON `response_format`, a forced tool
call (400, in OpenAI's error shape)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRouter

from bepro.agent.answer import Outcome
from bepro.agent.ask import AskResult
from bepro.surfaces import observability
from bepro.surfaces.answering import Answer, Question, answer, parse_message
from bepro.surfaces.server.completion import cut
from bepro.surfaces.server.errors import RETRY_AFTER_S, ApiError, ErrorResponse
from bepro.surfaces.server.runtime import Runtime
from bepro.surfaces.server.streaming import event_stream, sse
from bepro.surfaces.server.wire import (
    ASK_ROUTE,
    CHAT_ROUTE,
    RESPONSES_ROUTE,
    REVIEW_ROUTE,
    AskBody,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ModelCard,
    ModelList,
    ReviewBody,
    ReviewResponse,
    Status,
    Usage,
)

log = logging.getLogger("bepro.surfaces.server")  # one logger name for the whole server

DEGRADED_HEADER = "X-Bepro-Degraded"
ANSWER_ROUTES = frozenset(
    {CHAT_ROUTE, RESPONSES_ROUTE, ASK_ROUTE, REVIEW_ROUTE}
)  # admission-controlled


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
router = APIRouter()


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse} for code in codes}


_ERRORS = _errors(401, 404, 413, 422, 503, 504)
OPENAI_ERRORS = _errors(400, 401, 404, 413, 503, 504)  # invalid is 400 there, as OpenAI


@router.get("/healthz", tags=["operations"])
async def healthz() -> Status:
    """The process is alive (the index may still be opening)."""
    return Status(status="ok")


@router.get(
    "/readyz", tags=["operations"], response_model=Status, responses={503: {"model": Status}}
)
async def readyz(runtime: RuntimeDep) -> Status | JSONResponse:
    """200 once the catalogue is loaded and the index is open; 503 before, if it failed, or
    while the vector store (a Chroma server) does not answer (answers are then degraded)."""
    problem = runtime.vector_store_problem
    if runtime.ready and problem is None:
        return Status(status="ready", detail=f"{len(runtime.catalogue.rules)} rules, index open")
    if runtime.ready:
        status = Status(status="degraded", detail=f"{problem}; answering from the local index")
    elif runtime.failure:
        status = Status(status="failed", detail=runtime.failure)
    else:
        status = Status(status="starting", detail="the index is opening")
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return JSONResponse(status.model_dump(), status_code=503, headers=headers)


@router.get("/v1/models", tags=["openai"])
async def list_models(runtime: RuntimeDep) -> ModelList:
    """`bepro` infers the action from the question; `bepro-<action>` fixes it."""
    cards = [ModelCard(id=name, created=runtime.created) for name in runtime.model_names()]
    return ModelList(data=cards)


@router.get("/v1/models/{model_id}", tags=["openai"], responses={404: {"model": ErrorResponse}})
async def retrieve_model(model_id: str, runtime: RuntimeDep) -> ModelCard:
    """One model, as `GET /v1/models` lists it; 404 for an id it does not list."""
    runtime.action_for(model_id)
    return ModelCard(id=model_id, created=runtime.created)


@router.post(
    CHAT_ROUTE,
    tags=["openai"],
    response_model=ChatCompletion,
    responses={**OPENAI_ERRORS, 200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatCompletionRequest, runtime: RuntimeDep, outgoing: Response
) -> ChatCompletion | StreamingResponse:
    """Answer the last user message; its ```python blocks are reviewed first."""
    action = runtime.action_for(body.model)
    response_format = body.response_format.type if body.response_format else "text"
    refuse_other_shapes(response_format, "response_format", body.tool_choice)
    message = _last_user_text(body.messages)
    reply = await answer_message(runtime, CHAT_ROUTE, message, action, bool(body.stream))
    text, finish = cut(reply.text, body.stop_sequences(), body.token_limit())
    usage = usage_of("\n".join(m.text() for m in body.messages), reply, text)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        with_usage = body.stream_options is not None and body.stream_options.include_usage
        return event_stream(
            sse(completion_id, body.model, text, finish, usage if with_usage else None),
            degraded_headers(reply.result),
        )
    outgoing.headers.update(degraded_headers(reply.result))
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=text), finish_reason=finish)],
        usage=usage,
        degraded=reply.result.degraded,
    )


@router.post(ASK_ROUTE, tags=["bepro"], responses=_ERRORS, response_model_exclude_none=True)
async def ask_route(body: AskBody, runtime: RuntimeDep, outgoing: Response) -> AskResult:
    """The rules that apply to a question, in priority order, with citations (as `bepro ask`)."""
    runtime.check_action(body.action)
    pack = runtime.ready_pack()

    def work(deadline: float) -> Outcome:
        llm = runtime.llm_budget(deadline)
        return pack.answer(body.question, action=body.action, code=body.code, llm=llm)

    outcome = await runtime.run(ASK_ROUTE, work)
    runtime.record_llm(outcome.result, outcome.llm_failed)
    question = Question(body.question, body.action)
    code_bytes = len((body.code or "").encode())
    _log_answer("ask", question, outcome.result, 0, False, code_bytes=code_bytes)
    outgoing.headers.update(degraded_headers(outcome.result))
    return outcome.result


@router.post(REVIEW_ROUTE, tags=["bepro"], responses=_ERRORS)
async def review_route(body: ReviewBody, runtime: RuntimeDep) -> ReviewResponse:
    """Findings in the code, each citing a rule, in priority order up to `limit`; the rest
    counted by rule in `omitted` (as `bepro review`)."""
    pack = runtime.ready_pack()
    result = await runtime.run(
        REVIEW_ROUTE,
        lambda _: pack.review(code=body.code, filename=body.filename, select=body.select),
    )
    log.info(
        "review",
        extra={"code_bytes": len(body.code.encode()), "findings": len(result.findings),
               "issues": len(result.issues)},
    )  # fmt: skip
    return ReviewResponse.capped(result, body.limit)


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics, in the text exposition format."""
    runtime.refresh_breaker()
    body, content_type = observability.metrics_text()
    return Response(body, media_type=content_type)


async def answer_message(
    runtime: Runtime, route: str, message: str, action: str | None, stream: bool
) -> Answer:
    """A chat message answered on an answer thread: findings in its code, then the guidance."""
    question = parse_message(message, action)
    pack = runtime.ready_pack()

    def work(deadline: float) -> Answer:
        return answer(question, pack, runtime.llm_budget(deadline))

    reply = await runtime.run(route, work)
    runtime.record_llm(reply.result, reply.llm_failed)
    event = "chat completion" if route == CHAT_ROUTE else "response"
    _log_answer(event, question, reply.result, reply.finding_count, stream)
    return reply


def degraded_headers(result: AskResult) -> dict[str, str]:
    """The header that marks an answer the local index gave while the vector store was down
    (the body says it too, in `degraded`)."""
    return {DEGRADED_HEADER: result.degraded} if result.degraded else {}


def usage_of(prompt: str, reply: Answer, text: str) -> Usage:
    """The LLM's own count when it answered and its answer was sent whole; otherwise an
    estimate of what was sent."""
    counted = reply.result.usage
    if counted is None or text != reply.text:
        return Usage.estimate(prompt, text)
    return Usage.model_validate(counted)


def refuse_other_shapes(
    format_type: str, format_param: str, tool_choice: str | dict[str, Any] | None
) -> None:
    """A client that asks for JSON or a tool call parses the answer as such: markdown would
    fail in its parser, later and less clearly than this 400."""
    if format_type != "text":
        raise ApiError(
            400,
            f"{format_param} {format_type!r} is not supported: bepro answers in markdown text; "
            f'omit {format_param} or send {{"type": "text"}}',
            "unsupported_parameter",
            format_param,
        )
    if tool_choice == "required" or isinstance(tool_choice, dict):
        raise ApiError(
            400,
            "tool_choice forces a tool call, and bepro does not call tools; "
            'omit tool_choice or send "auto" or "none"',
            "unsupported_parameter",
            "tool_choice",
        )


def _last_user_text(messages: list[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.text()
    raise ApiError(
        400, "the conversation has no user message to answer", "no_user_message", "messages"
    )


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
