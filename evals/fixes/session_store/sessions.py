"""Session data, read through redis."""

import pickle

import redis

store = redis.from_url("redis://sessions.internal/0", socket_timeout=2.0)


def session(token: str, load) -> dict:
    raw = store.get(token)
    if raw is None:
        data = load(token)
        store.set(token, pickle.dumps(data))
        return data
    return pickle.loads(raw)
