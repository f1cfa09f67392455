"""Webhook and sign-on payloads verified against an HMAC of their body."""

import hashlib
import hmac


def verify_delivery(secret: str, timestamp: str, token: str, signature: str) -> bool:
    expected = hmac.new(secret.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return signature == expected


def reject_forged(secret: bytes, payload: bytes, signature: str) -> None:
    digest = hmac.new(secret, payload, digestmod=hashlib.sha256)
    if digest.hexdigest() != signature:
        raise PermissionError("invalid payload")
