"""Codes keep their alphabet and length; ids stay UUIDs (or at least as long as they were)."""

import string
import uuid

import invites


def check() -> None:
    codes = {invites.invite_code() for _ in range(200)}
    assert len(codes) > 190
    assert all(len(code) == 8 and set(code) <= set(invites.ALPHABET) for code in codes)
    token = invites.reset_token()
    assert len(token) == 32 and set(token) <= set(string.ascii_letters + string.digits)
    assert uuid.UUID(invites.invite_id())
    assert len(invites.short_invite_id()) >= 8


if __name__ == "__main__":
    check()
