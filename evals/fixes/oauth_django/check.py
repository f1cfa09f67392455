"""The provider is registered as before and the groups call is unchanged (authlib's Django
integration is replaced by a stand-in that records what it was given)."""

import sys
import types
from typing import Any


class Response:
    def json(self) -> list[dict[str, str]]:
        return [{"id": "staff"}, {"id": "library"}]


class Client:
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.calls: list[tuple[str, dict[str, str]]] = []

    def get(self, url: str, token: dict[str, str]) -> Response:
        self.calls.append((url, token))
        return Response()


class OAuth:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}

    def register(self, name: str, **options: Any) -> None:
        self.clients[name] = Client(options)

    def create_client(self, name: str) -> Client:
        return self.clients[name]


django_client = types.ModuleType("authlib.integrations.django_client")
django_client.OAuth = OAuth  # type: ignore[attr-defined]
for name in ("authlib", "authlib.integrations"):
    sys.modules[name] = types.ModuleType(name)
sys.modules[django_client.__name__] = django_client

import oidc  # noqa: E402 - after the stand-in is in place


def check() -> None:
    campus = oidc.oauth.create_client("campus")
    assert campus.options["client_id"] == "intranet"
    assert campus.options["server_metadata_url"].startswith("https://auth.campus.test/")
    timeout = campus.options.get("client_kwargs", {}).get("default_timeout")
    assert timeout is None or 0 < timeout <= 30
    assert oidc.groups_of({"access_token": "t"}) == ["staff", "library"]
    assert campus.calls == [("https://groups.campus.test/me/groups", {"access_token": "t"})]


if __name__ == "__main__":
    check()
