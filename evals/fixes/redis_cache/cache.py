"""A read-through profile cache on redis."""

import json

import redis

CLIENT = redis.Redis(host="cache.internal", port=6379, db=0)
SESSIONS = redis.from_url("redis://sessions.internal/1")


def profile(user_id: int, load) -> dict:
    key = f"profile:{user_id}"
    cached = CLIENT.get(key)
    if cached is not None:
        return json.loads(cached)
    value = load(user_id)
    CLIENT.set(key, json.dumps(value), ex=300)
    return value


def session_user(token: str) -> str | None:
    raw = SESSIONS.get(f"session:{token}")
    return raw.decode() if raw else None
