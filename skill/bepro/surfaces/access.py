"""Who may call `bepro serve`: a bearer token, required whenever it listens beyond loopback.

The token comes from BEPRO_API_TOKEN only (never a file in the repository). With a token set,
every route but the probes (/healthz, /readyz) needs `Authorization: Bearer <token>`, compared
in constant time; the openai SDK sends its api_key that way. Without one, the server listens on
loopback addresses only and refuses to start anywhere else.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import socket

from starlette.types import ASGIApp, Receive, Scope, Send

from bepro.errors import UsageError

TOKEN_ENV = "BEPRO_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
MIN_TOKEN_CHARS = 16
OPEN_ROUTES = frozenset({"/healthz", "/readyz"})  # load balancer probes carry no credentials
_UNAUTHORIZED = json.dumps(
    {
        "error": {
            "message": f"a valid bearer token is required (Authorization: Bearer ${TOKEN_ENV})",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
).encode()


def api_token() -> str | None:
    """The configured token, or None; a token too short to resist guessing is a usage error."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        raise UsageError(
            f"{TOKEN_ENV} has {len(token)} characters; at least {MIN_TOKEN_CHARS} are needed",
            f"generate one: {TOKEN_ENV}=\"$(python -c 'import secrets; print(secrets.token_urlsafe(32))')\"",
        )
    return token


def is_loopback(host: str) -> bool:
    """Whether every address `host` resolves to is a loopback one (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False  # `listen` reports the unresolvable name
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def check_exposure(host: str, token: str | None) -> None:
    """Refuse, before binding, to serve beyond this machine without a token."""
    if token is None and not is_loopback(host):
        raise UsageError(
            f"--host {host} is reachable from other machines and {TOKEN_ENV} is not set",
            f"set {TOKEN_ENV} to a secret of {MIN_TOKEN_CHARS}+ characters, or use --host 127.0.0.1",
        )


class BearerAuth:
    """ASGI middleware: 401 with WWW-Authenticate unless the request carries the token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_ROUTES or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                    (b"www-authenticate", b'Bearer realm="bepro"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAUTHORIZED})

    def _allowed(self, scope: Scope) -> bool:
        scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token)
