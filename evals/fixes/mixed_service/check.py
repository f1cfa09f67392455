"""The job still returns the orders with a timestamp and a duration."""

from datetime import datetime
from typing import Any

import service


class FakeResponse:
    def json(self) -> list[dict[str, Any]]:
        return [{"id": 1}, {"id": 2}]


def check() -> None:
    seen: list[dict[str, Any]] = []

    def fake_get(url: str, **kwargs: Any) -> FakeResponse:
        seen.append({"url": url, **kwargs})
        return FakeResponse()

    service.requests.get = fake_get
    result = service.sync_orders(3)
    assert result["orders"] == [{"id": 1}, {"id": 2}]
    assert datetime.fromisoformat(result["synced_at"]).year >= 2024
    assert 0 <= result["seconds"] < 5
    assert seen[0]["params"] == {"page": 3}


if __name__ == "__main__":
    check()
