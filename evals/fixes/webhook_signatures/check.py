"""A genuine signature passes and a forged one is refused, before and after the rewrite."""

import hashlib
import hmac

from webhooks import reject_forged, verify_delivery

SECRET = "whsec-test"


def _signed(timestamp: str, token: str) -> str:
    return hmac.new(SECRET.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def check() -> None:
    good = _signed("1700000000", "tok")
    assert verify_delivery(SECRET, "1700000000", "tok", good)
    assert not verify_delivery(SECRET, "1700000000", "tok", good[:-1] + "0")
    payload = b'{"user": 7}'
    reject_forged(b"sso", payload, hmac.new(b"sso", payload, hashlib.sha256).hexdigest())
    try:
        reject_forged(b"sso", payload, "0" * 64)
    except PermissionError:
        pass
    else:
        raise AssertionError("a forged signature was accepted")


if __name__ == "__main__":
    check()
