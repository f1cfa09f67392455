"""The FastAPI app of `bepro serve`: routes, error handlers and middleware over one runtime.

Limits ([tool.bepro.server]): answers run on `max-concurrency` threads with `max-queue` requests
waiting; beyond that a request is shed at once with 503 and Retry-After (surfaces/admission.py).
Bodies are capped at MAX_BODY_BYTES (a 413 in OpenAI's error shape).

Security (surfaces/access.py): a bearer token (BEPRO_API_TOKEN) guards every route but the
probes, and is required to listen beyond loopback; CORS is off unless `cors-origins` is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bepro import __version__
from bepro.catalogue.model import Catalogue
from bepro.config import BeproSettings, Paths
from bepro.errors import BeproError
from bepro.surfaces import observability
from bepro.surfaces.access import BearerAuth, api_token
from bepro.surfaces.admission import ShedWhenFull
from bepro.surfaces.server import responses
from bepro.surfaces.server.drain import Drain, DrainGate
from bepro.surfaces.server.errors import (
    AT_CAPACITY,
    MAX_BODY_BYTES,
    TOO_LARGE,
    ApiError,
    error_response,
    on_api_error,
    on_bepro_error,
    on_http_error,
    on_invalid_request,
)
from bepro.surfaces.server.process import log_to_json
from bepro.surfaces.server.routes import ANSWER_ROUTES, router
from bepro.surfaces.server.runtime import Runtime


def create_app(
    paths: Paths, catalogue: Catalogue, settings: BeproSettings | None = None
) -> FastAPI:
    """The API over one pack; the index opens in the background when the app starts."""
    settings = settings or BeproSettings()
    runtime = Runtime(paths, catalogue, settings)
    drain = Drain()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        drain.install()  # after uvicorn's own handlers, which it calls when drained
        yield
        runtime.stop()

    app = FastAPI(
        title="bepro",
        version=__version__,
        summary="Principal-level backend guidance for Python, OpenAI-compatible, offline.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(router)
    app.include_router(responses.router)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(BeproError, on_bepro_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(HTTPException, on_http_error)
    _add_middleware(app, settings, drain)
    return app


class BodyLimit:
    """Bodies over `limit` bytes get 413 in OpenAI's error shape (Starlette's own limiter answers
    in plain text): refused on their Content-Length before a byte is read, or as soon as a body
    sent without one passes the limit (on_http_error turns the exception into the answer)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await error_response(413, TOO_LARGE, "request_too_large")(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted, send)


def _shed(route: str) -> JSONResponse:
    observability.SHED.labels(route).inc()
    return error_response(503, AT_CAPACITY, "overloaded")


def _add_middleware(app: FastAPI, settings: BeproSettings, drain: Drain) -> None:
    """Outermost last: telemetry sees every request, a draining server refuses before anything
    else runs, CORS answers preflights before auth, and auth runs before a full queue sheds."""
    runtime: Runtime = app.state.runtime
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
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
    app.add_middleware(DrainGate, drain=drain)
    routes = frozenset(getattr(route, "path", "") for route in [*app.routes, *router.routes])
    app.add_middleware(observability.Telemetry, routes=routes, tracer=observability.tracer())


def create_server_app() -> FastAPI:
    """The app of one `bepro serve` worker, built from the environment and pyproject.toml
    (uvicorn imports it by name in each worker process)."""
    from bepro.catalogue.load import load_catalogue
    from bepro.config import load_settings, resolve_paths

    log_to_json()
    settings = load_settings()
    paths = resolve_paths(settings)
    return create_app(paths, load_catalogue(paths.skill), settings)
