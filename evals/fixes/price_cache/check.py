"""Prices read through the cache (redis.asyncio stood in for in memory)."""

import asyncio
import sys
import types
from typing import Any


class MemoryRedis:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.data: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def set(self, key: str, value: str, ex: int | None = None) -> None:
        assert ex is None or ex > 0
        self.data[key] = value


package = types.ModuleType("redis")
package.asyncio = types.SimpleNamespace(Redis=MemoryRedis)  # type: ignore[attr-defined]
sys.modules["redis"] = package
sys.modules["redis.asyncio"] = package.asyncio  # type: ignore[assignment]

import prices  # noqa: E402 - after the stand-in is installed


def check() -> None:
    fetched: list[str] = []

    async def fetch(sku: str) -> float:
        fetched.append(sku)
        return 9.5

    async def scenario() -> None:
        assert await prices.price("A", fetch) == 9.5
        assert await prices.price("A", fetch) == 9.5

    asyncio.run(scenario())
    assert fetched == ["A"]


if __name__ == "__main__":
    check()
