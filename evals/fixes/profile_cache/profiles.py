"""Profiles, read through a redis cache."""

import json

import redis

from tenacity import Retrying

cache = redis.Redis(host="cache.internal", socket_timeout=1.0)


def profile(user_id: int, load) -> dict:
    key = f"profile:{user_id}"
    cached = cache.get(key)
    if cached is not None:
        return json.loads(cached)
    value = load(user_id)
    cache.set(key, json.dumps(value))
    return value


def with_retries(action):
    for attempt in Retrying(reraise=True):
        with attempt:
            return action()
    return None
