"""Sessions read through (redis-py stood in for by an in-memory module)."""

import sys
import types
from typing import Any


class MemoryRedis:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes, ex: int | None = None) -> None:
        assert ex is None or ex > 0
        self.data[key] = value


def from_url(url: str, **options: Any) -> MemoryRedis:
    return MemoryRedis()


sys.modules["redis"] = types.SimpleNamespace(from_url=from_url)  # type: ignore[assignment]

import sessions  # noqa: E402 - after the stand-in is installed


def check() -> None:
    loads: list[str] = []

    def load(token: str) -> dict[str, str]:
        loads.append(token)
        return {"user": "ada"}

    assert sessions.session("t1", load) == {"user": "ada"}
    assert sessions.session("t1", load) == {"user": "ada"}
    assert loads == ["t1"]


if __name__ == "__main__":
    check()
