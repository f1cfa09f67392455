"""Webhook and single-sign-on signatures checked with `==`: the comparison stops at the first
differing byte, so response times tell a forger how much of a signature is right. A constant-time
comparison, or an equality that is not about a signature, is fine."""

import hashlib
import hmac


def verify_mail_webhook(api_key: str, timestamp: str, token: str, signature: str) -> bool:
    expected_signature = hmac.new(
        api_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return signature == expected_signature  # expect: crypto


def check_sso_payload(secret: bytes, payload: bytes, signature: str) -> None:
    digest = hmac.new(secret, payload, digestmod=hashlib.sha256)
    if digest.hexdigest() != signature:  # expect: crypto
        raise PermissionError("invalid payload")


def verify_constant_time(secret: bytes, body: bytes, received: str) -> bool:
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def same_event_kind(secret: bytes, body: bytes, kind: str, wanted_kind: str) -> bool:
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return kind == wanted_kind and hmac.compare_digest(signature, signature)
