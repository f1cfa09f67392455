"""Tokens whose expiry is parsed from naive ISO strings: a UTC-aware `now` cannot be compared with
them, so the UTC codemod must be rejected here by the test (a person changes the parsing too)."""

from datetime import datetime


def parse_expiry(text: str) -> datetime:
    return datetime.fromisoformat(text)


def is_expired(expiry_text: str) -> bool:
    return datetime.utcnow() > parse_expiry(expiry_text)
