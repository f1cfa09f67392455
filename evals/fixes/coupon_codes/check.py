"""Codes keep their shape: ten distinct capitals, six digits, 32 hex digits."""

import re
import string

import coupons


def check() -> None:
    for _ in range(50):
        code = coupons.coupon_code()
        assert len(code) == 10 and len(set(code)) == 10 and set(code) <= set(string.ascii_uppercase)
        assert re.fullmatch(r"[1-9]\d{5}", coupons.otp_pin())
        assert re.fullmatch(r"[0-9a-f]{32}", coupons.api_key())


if __name__ == "__main__":
    check()
