"""Identifier and token generation for the accounts and jobs services (entity ids, invites, resets, API keys)."""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

INVITE_ALPHABET = string.ascii_uppercase + string.digits
REPLICA_HOSTS = ["replica-a.db.internal", "replica-b.db.internal", "replica-c.db.internal"]
RESET_TOKEN_TTL = timedelta(minutes=30)


def uuid7() -> uuid.UUID:
    """RFC 9562 UUIDv7: 48-bit Unix ms timestamp, version, variant, random bits from os.urandom."""
    ts_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ts_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def new_order_id() -> str:
    return f"ord_{uuid7().hex}"


def new_share_link_id() -> str:
    return f"shr_{uuid.uuid4().hex}"


def new_job_id() -> int:
    return random.randint(0, 10**9)  # expect: id-generation


def new_trace_sample_decision(rate: float = 0.05) -> bool:
    return random.random() < rate


def new_device_id() -> str:
    return str(uuid.uuid1())  # expect: id-generation


def new_import_batch_id() -> str:
    return f"imp_{int(time.time() * 1000)}"  # expect: id-generation


def new_public_ref() -> str:
    return str(uuid.uuid4())[:8]  # expect: id-generation


def new_invite_code() -> str:
    return "".join(random.sample(INVITE_ALPHABET, 8))  # expect: id-generation


def new_invite_code_secure() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))


def new_reset_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(24))  # expect: id-generation


def new_email_verification_code() -> str:
    return f"{random.randint(0, 999_999):06d}"  # expect: id-generation


def new_sms_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_session_id() -> str:
    return "%032x" % random.getrandbits(128)  # expect: id-generation


def new_api_key() -> tuple[str, str]:
    raw = hashlib.sha256(str(random.random()).encode()).hexdigest()  # expect: id-generation
    return f"bp_live_{raw}", hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str
    key_hash: str
    created_at_ms: int


def issue_api_key() -> IssuedKey:
    raw = secrets.token_urlsafe(32)
    return IssuedKey(plaintext=f"bp_live_{raw}", key_hash=hashlib.sha256(raw.encode()).hexdigest(), created_at_ms=int(time.time() * 1000))


def pick_read_replica() -> str:
    return random.choice(REPLICA_HOSTS)


def backoff_delay(attempt: int, base: float = 0.1, cap: float = 2.0) -> float:
    return random.uniform(0, min(cap, base * 2**attempt))


def sample_for_audit(events: list[dict], k: int = 20) -> list[dict]:
    return random.sample(events, min(k, len(events)))


def create_invoice(session: Session, customer_id: int, amount_cents: int) -> int:
    invoice_id = session.execute(text("SELECT max(id) + 1 FROM invoices")).scalar_one()  # expect: id-generation
    session.execute(text("INSERT INTO invoices (id, customer_id, amount_cents) VALUES (:i, :c, :a)"), {"i": invoice_id, "c": customer_id, "a": amount_cents})
    return invoice_id


def create_credit_note(session: Session, customer_id: int, amount_cents: int) -> str:
    note_id = uuid7()
    session.execute(text("INSERT INTO credit_notes (id, customer_id, amount_cents) VALUES (:i, :c, :a)"), {"i": note_id, "c": customer_id, "a": amount_cents})
    return f"cn_{note_id.hex}"


def next_invoice_number(session: Session) -> int:
    return session.execute(text("SELECT nextval('invoice_number_seq')")).scalar_one()


def verify_reset_token(session: Session, user_id: int, presented: str) -> bool:
    row = session.execute(text("SELECT token_hash, expires_at FROM password_resets WHERE user_id = :u"), {"u": user_id}).one_or_none()
    if row is None or row.expires_at < datetime.now(UTC):
        return False
    return hmac.compare_digest(row.token_hash, hashlib.sha256(presented.encode()).hexdigest())


def verify_unsubscribe_token(session: Session, subscriber_id: int, presented: str) -> bool:
    stored = session.execute(text("SELECT unsubscribe_token FROM subscribers WHERE id = :s"), {"s": subscriber_id}).scalar_one_or_none()
    return stored is not None and presented == stored  # expect: id-generation


def store_reset_token(session: Session, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    session.execute(
        text("INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES (:u, :h, :e)"),
        {"u": user_id, "h": hashlib.sha256(token.encode()).hexdigest(), "e": datetime.now(UTC) + RESET_TOKEN_TTL},
    )
    return token


def shuffle_for_ab_test(variants: list[str], user_bucket_seed: int) -> list[str]:
    rng = random.Random(user_bucket_seed)
    out = list(variants)
    rng.shuffle(out)
    return out
