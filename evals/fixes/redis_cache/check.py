"""The cache reads through and the clients keep their address (redis-py is stood in for by an
in-memory module: no redis server runs in the eval, and the module only needs get/set)."""

import sys
import types
from typing import Any

CREATED: list[dict[str, Any]] = []


class MemoryRedis:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CREATED.append({"args": args, **kwargs})
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        self.data[key] = value.encode()


def from_url(url: str, **kwargs: Any) -> MemoryRedis:
    return MemoryRedis(url=url, **kwargs)


sys.modules["redis"] = types.SimpleNamespace(Redis=MemoryRedis, from_url=from_url)  # type: ignore[assignment]

import cache  # noqa: E402 - after the stand-in is installed


def check() -> None:
    loads: list[int] = []

    def load(user_id: int) -> dict[str, Any]:
        loads.append(user_id)
        return {"id": user_id}

    assert cache.profile(1, load) == {"id": 1}
    assert cache.profile(1, load) == {"id": 1}
    assert loads == [1]
    cache.SESSIONS.data["session:t"] = b"ada"
    assert cache.session_user("t") == "ada"
    assert CREATED[0]["host"] == "cache.internal" and CREATED[1]["url"].startswith("redis://")
    for options in CREATED:
        timeout = options.get("socket_timeout")
        assert timeout is None or 0 < timeout <= 30


if __name__ == "__main__":
    check()
