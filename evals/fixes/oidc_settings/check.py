"""The settings keep every endpoint and option; a timeout, where one is set, bounds the wait."""

import os

os.environ.update(
    OIDC_RP_CLIENT_ID="reports",
    OIDC_OP_AUTHORIZATION_ENDPOINT="https://idp.example.org/authorize",
    OIDC_OP_TOKEN_ENDPOINT="https://idp.example.org/token",
    OIDC_OP_USER_ENDPOINT="https://idp.example.org/userinfo",
)

import settings  # noqa: E402 - reads the environment set above


def check() -> None:
    endpoints = (
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        settings.OIDC_OP_TOKEN_ENDPOINT,
        settings.OIDC_OP_USER_ENDPOINT,
    )
    assert [url.rsplit("/", 1)[1] for url in endpoints] == ["authorize", "token", "userinfo"]
    assert settings.OIDC_RP_CLIENT_ID == "reports"
    assert settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS == 900
    timeout = getattr(settings, "OIDC_TIMEOUT", None)
    assert timeout is None or 0 < timeout <= 60


if __name__ == "__main__":
    check()
