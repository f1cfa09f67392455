"""The clients are built with the same provider settings (authlib is replaced by stand-ins that
record what they were given); a default timeout, when one is set, is a few seconds."""

import os
import sys
import types
from typing import Any

registered: dict[str, dict[str, Any]] = {}


class OAuth:
    def register(self, name: str, **options: Any) -> None:
        registered[name] = options


class OAuth2Session:
    def __init__(self, **options: Any) -> None:
        self.options = options


def _install_stand_ins() -> None:
    flask_client = types.ModuleType("authlib.integrations.flask_client")
    flask_client.OAuth = OAuth  # type: ignore[attr-defined]
    requests_client = types.ModuleType("authlib.integrations.requests_client")
    requests_client.OAuth2Session = OAuth2Session  # type: ignore[attr-defined]
    for name in ("authlib", "authlib.integrations"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules[flask_client.__name__] = flask_client
    sys.modules[requests_client.__name__] = requests_client


_install_stand_ins()
os.environ["CORP_CLIENT_SECRET"] = "from-the-vault"

import sso  # noqa: E402 - after the stand-ins and the environment are in place


def _bounded(timeout: object) -> bool:
    return timeout is None or isinstance(timeout, int | float) and 0 < timeout <= 30


def check() -> None:
    corp = registered["corp"]
    assert corp["server_metadata_url"] == "https://id.corp.test/.well-known/openid-configuration"
    assert corp["client_secret"] == "from-the-vault"
    assert corp["client_kwargs"]["scope"] == "openid email"
    assert _bounded(corp["client_kwargs"].get("default_timeout"))
    admin = sso.admin_client("https://id.corp.test/token")
    assert isinstance(admin, OAuth2Session)
    assert admin.options["token_endpoint"] == "https://id.corp.test/token"
    assert _bounded(admin.options.get("default_timeout"))


if __name__ == "__main__":
    check()
