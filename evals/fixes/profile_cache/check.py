"""The cache reads through, and a retried action still returns (redis-py stood in for in memory)."""

import sys
import types
from typing import Any

SETS: list[dict[str, Any]] = []


class MemoryRedis:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        SETS.append({"key": key, "ex": ex})
        self.data[key] = value


sys.modules["redis"] = types.SimpleNamespace(Redis=MemoryRedis)  # type: ignore[assignment]

import profiles  # noqa: E402 - after the stand-in is installed


def check() -> None:
    loads: list[int] = []

    def load(user_id: int) -> dict[str, int]:
        loads.append(user_id)
        return {"id": user_id}

    assert profiles.profile(3, load) == {"id": 3}
    assert profiles.profile(3, load) == {"id": 3}
    assert loads == [3]
    assert SETS[0]["ex"] is None or SETS[0]["ex"] > 0
    assert profiles.with_retries(lambda: 7) == 7


if __name__ == "__main__":
    check()
