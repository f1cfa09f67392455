"""requests sessions built elsewhere and held under a session's name (`self._http`, `request.http`)
have no default timeout either; a session or a mapping called `session` often is no client."""

from __future__ import annotations

from typing import Protocol

import requests
from flask import session
from forcediphttpsadapter.adapters import ForcedIPHTTPSAdapter


class Request(Protocol):
    http: requests.Session
    session: dict[str, str]


class BreachedPasswords:
    def __init__(self, http: requests.Session) -> None:
        self._http = http

    def count(self, prefix: str) -> int:
        response = self._http.get(f"https://api.pwnedpasswords.com/range/{prefix}")  # expect: timeouts
        response.raise_for_status()
        return len(response.text.splitlines())


def helpdesk_token(request: Request, client_id: str, secret: str) -> str:
    response = request.http.post(  # expect: timeouts
        "https://api.helpdesk.example/v2/oauth2/token",
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return str(response.json()["access_token"])


def purge(url: str, pinned_ip: str) -> None:
    # the adapter pins an address; it sets no timeout
    pinned = requests.Session()
    pinned.mount("https://", ForcedIPHTTPSAdapter(dest_ip=pinned_ip))
    pinned.post(url, headers={"Fastly-Soft-Purge": "1"})  # expect: timeouts


def signed_in_user(request: Request) -> str | None:
    return request.session.get("user_id")  # Django's session: a mapping


def cart_id() -> str | None:
    return session.get("cart_id")  # Flask's session: a mapping


def settings_value(http_settings: dict[str, str]) -> str | None:
    return http_settings.get("proxy")  # a dict under an http name, read with a key


class ZoneClient:
    def __init__(self, http: requests.Session, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    def zone(self, name: str) -> dict[str, str]:
        return self.http.get(url=f"{self.base_url}/zones/{name}").json()  # expect: timeouts


def prune_toolkits(session, stale: list[object]) -> None:
    for toolkit in stale:
        session.query(type(toolkit)).filter_by(id=1).delete()
        session.delete(toolkit)  # a database session: queried and committed here
    session.commit()


class Throttle:
    http_failures: dict[str, int] = {}  # failures per host, read with .get(host)

    def failed_before(self, host: str) -> bool:
        return bool(self.http_failures.get(host))
