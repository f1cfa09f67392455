"""JWT signing keys written in the source, directly or as a module constant; keys read from the
environment or a settings object are not flagged."""

import os
from datetime import UTC, datetime, timedelta

import jwt

SESSION_SIGNING_KEY = "b7f0c1e2-session-signing"
ISSUER = "accounts.internal"
REFRESH_KEY = os.environ["REFRESH_SIGNING_KEY"]


def access_token(user_id: str) -> str:
    claims = {"sub": user_id, "iss": ISSUER, "exp": datetime.now(UTC) + timedelta(minutes=15)}
    return jwt.encode(claims, SESSION_SIGNING_KEY, algorithm="HS256")  # expect: secrets


def partner_token(partner_id: str) -> str:
    return jwt.encode({"sub": partner_id}, key="partner-hmac-2024", algorithm="HS256")  # expect: secrets


def refresh_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, REFRESH_KEY, algorithm="HS256")


def service_token(settings: object) -> str:
    return jwt.encode({"sub": "svc"}, settings.signing_key, algorithm="HS256")  # type: ignore[attr-defined]
