"""Every error `bepro serve` sends, in OpenAI's shape ({"error": {message, type, param, code}}),
so the openai SDK and chat UIs show the message; the exception handlers that produce it.

OpenAI's routes answer an invalid request with 400, as OpenAI does (the SDK raises
BadRequestError); bepro's own routes with 422. Messages never carry a BeproError's hint: hints
are advice for the command line (a flag, an environment variable), not for an API client.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from bepro.errors import BeproError, IndexUnavailableError
from bepro.surfaces.server.wire import OPENAI_ROUTES
from bepro.surfaces.wording import error_text

RETRY_AFTER_S = 5  # while the index opens
SHED_RETRY_AFTER_S = 1  # a full queue drains within about a second
AT_ONCE = frozenset({"overloaded", "shutting_down"})  # retried after SHED_RETRY_AFTER_S
AT_CAPACITY = "the server is at capacity; retry shortly"
MAX_BODY_BYTES = 2_000_000  # a 200 KB code block inside a long conversation still fits
TOO_LARGE = f"the request body is over the server's limit of {MAX_BODY_BYTES:,} bytes"
PATH_FIELDS = frozenset({"file", "files", "path", "paths", "filepath", "directory"})


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


def error_response(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = ErrorResponse(error=ErrorDetail(message=message, type=kind, param=param, code=code))
    retry_after = SHED_RETRY_AFTER_S if code in AT_ONCE else RETRY_AFTER_S
    headers = {"Retry-After": str(retry_after)} if status == 503 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def on_api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)  # noqa: S101 - registered for this type only
    return error_response(error.status, error.message, error.code, error.param)


def invalid_status(request: Request) -> int:
    """The status of an invalid request: OpenAI's 400 on its routes, 422 on bepro's own."""
    return 400 if request.url.path in OPENAI_ROUTES else 422


async def on_bepro_error(request: Request, error: Exception) -> JSONResponse:
    """The client's mistake is a 400 or 422; an index that cannot answer (a vector store down
    with no local vectors to stand in) is the server's, a 503 a client retries."""
    assert isinstance(error, BeproError)  # noqa: S101 - registered for this type only
    if isinstance(error, IndexUnavailableError):
        return error_response(503, error_text(error, "api"), "index_unavailable")
    return error_response(invalid_status(request), error_text(error, "api"), error.code)


async def on_invalid_request(request: Request, error: Exception) -> JSONResponse:
    """Unknown fields, all named (`Unrecognized request argument supplied: temprature`); else
    the first problem, named by its field: `messages: List should have at most 100 items`."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    status = invalid_status(request)
    problems = error.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return error_response(status, "the request body is not valid JSON", "invalid_json")
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    if first.get("type") == "extra_forbidden" and where in PATH_FIELDS:
        message = f"{where}: the server reviews code it is sent, never files on its own disk"
        return error_response(
            status, f"{message}; send the code as text in `code`", "path_refused", where
        )
    unknown = [
        p["loc"][-1] for p in problems if p["type"] == "extra_forbidden" and len(p["loc"]) == 2
    ]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        message = f"Unrecognized request argument{plural} supplied: {', '.join(map(str, unknown))}"
        return error_response(status, message, "unknown_parameter", str(unknown[0]))
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    message = f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"
    return error_response(status, message, "invalid_request", where or None)


async def on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    if error.status_code == 400:  # a body that is not UTF-8 JSON: as invalid JSON
        message = "the request body is not valid UTF-8 JSON"
        return error_response(invalid_status(request), message, "invalid_json")
    if error.status_code == 413:
        return error_response(413, TOO_LARGE, "request_too_large")
    return error_response(error.status_code, str(error.detail), f"http_{error.status_code}")
