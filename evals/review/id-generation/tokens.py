"""Identifiers, tokens and codes drawn from `random`, next to jitter and sampling that are fine.
A secret so drawn (a token, a key, a one-time or coupon code) is predictable: a crypto defect."""

import random
import secrets
import string
import time
import uuid
from dataclasses import dataclass

ALPHABET = string.ascii_letters + string.digits
rng = random.Random()


def make_reset_token() -> str:
    return "".join(random.choices(ALPHABET, k=32))  # expect: crypto


def send_login_code(user: "User") -> None:
    user.otp_code = random.randint(100000, 999999)  # expect: crypto


def new_order_reference() -> dict:
    return {"reference": f"ORD-{random.randrange(10**8):08d}", "status": "new"}  # expect: id-generation


def api_key_for(name: str) -> str:
    key = "%032x" % random.getrandbits(128)  # expect: crypto
    return f"{name}_{key}"


def invite(email: str) -> "Invite":
    return Invite(email=email, invite_id=rng.randint(0, 999_999))  # expect: id-generation


@dataclass
class Invite:
    email: str
    invite_id: int


@dataclass
class User:
    otp_code: int = 0


# ---- clean look-alikes


def backoff_sleep(attempt: int) -> None:
    delay = random.uniform(0, min(2.0, 0.1 * 2**attempt))
    time.sleep(delay)


def jittered_sleep() -> None:
    time.sleep(random.random() * 0.5)


def should_sample(rate: float) -> bool:
    return random.random() < rate


def pick_replica(replicas: list[str]) -> str:
    return random.choice(replicas)


def make_token() -> str:
    return secrets.token_urlsafe(32)


def new_id() -> str:
    return str(uuid.uuid4())


def shuffled_keys(keys: list[str]) -> list[str]:
    order_key = random.random()
    return sorted(keys, key=lambda _: order_key)


def status_code_for_chaos() -> int:
    status_code = random.choice([500, 502, 503])
    return status_code


def new_trace_id() -> int:
    trace_id = random.getrandbits(128)
    return trace_id


def pick_shard_key(shards: dict[str, str]) -> str:
    shard_key = random.choice(list(shards))
    return shard_key


def coupon_code() -> str:
    code = "SAVE-" + "".join(random.sample(string.ascii_uppercase, 6))  # expect: crypto
    return code


def new_order_id() -> int:
    order_id = random.randint(10**5, 10**6 - 1)  # expect: id-generation
    return order_id


def fake_order_id() -> int:
    fake_order_id = random.randint(1, 99)
    return fake_order_id
