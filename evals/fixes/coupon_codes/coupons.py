"""Coupon codes and one-time PINs."""

import random
import string


def coupon_code() -> str:
    return "".join(random.sample(string.ascii_uppercase, 10))


def otp_pin() -> str:
    return str(random.randrange(100000, 1000000))


def api_key() -> str:
    return "%032x" % random.getrandbits(128)
