"""Every error `bepro serve` sends, in OpenAI's shape ({"error": {message, type, param, code}}),
so the openai SDK and chat UIs show the message; the exception handlers that produce it."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from bepro.errors import BeproError

RETRY_AFTER_S = 5  # while the index opens
SHED_RETRY_AFTER_S = 1  # a full queue drains within about a second
AT_CAPACITY = "the server is at capacity; retry shortly"
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
    retry_after = SHED_RETRY_AFTER_S if code == "overloaded" else RETRY_AFTER_S
    headers = {"Retry-After": str(retry_after)} if status == 503 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def on_api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)  # noqa: S101 - registered for this type only
    return error_response(error.status, error.message, error.code, error.param)


async def on_bepro_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BeproError)  # noqa: S101 - registered for this type only
    message = f"{error.message} ({error.hint})" if error.hint else error.message
    return error_response(422, message, error.code)


async def on_invalid_request(_: Request, error: Exception) -> JSONResponse:
    """The first problem, named by its field: `messages: List should have at most 100 items`."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    problems = error.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return error_response(422, "the request body is not valid JSON", "invalid_json")
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    if first.get("type") == "extra_forbidden" and where in PATH_FIELDS:
        message = f"{where}: the server reviews code it is sent, never files on its own disk"
        return error_response(
            422, f"{message}; send the code as text in `code`", "path_refused", where
        )
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    message = f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"
    return error_response(422, message, "invalid_request", where or None)


async def on_http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    if error.status_code == 400:  # a body that is not UTF-8 JSON: as invalid JSON, a 422
        return error_response(422, "the request body is not valid UTF-8 JSON", "invalid_json")
    return error_response(error.status_code, str(error.detail), f"http_{error.status_code}")
