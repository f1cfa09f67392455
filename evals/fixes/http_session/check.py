"""Inventory still calls the same URLs with the same bodies (the session is replaced by a fake)."""

from typing import Any

import client


class FakeResponse:
    status_code = 201

    def json(self) -> dict[str, Any]:
        return {"count": 3}


class FakeSession:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def get(self, url: str, **kwargs: Any) -> FakeResponse:
        self.calls.append(("GET", url, kwargs))
        return FakeResponse()

    def post(self, url: str, **kwargs: Any) -> FakeResponse:
        self.calls.append(("POST", url, kwargs))
        return FakeResponse()


def check() -> None:
    inventory = client.Inventory("http://inventory.test")
    fake = FakeSession()
    inventory.session = fake
    assert inventory.stock("A1") == 3
    assert inventory.reserve("A1", 2) is True
    assert [(method, url) for method, url, _ in fake.calls] == [
        ("GET", "http://inventory.test/stock/A1"),
        ("POST", "http://inventory.test/reserve"),
    ]
    assert fake.calls[1][2]["json"] == {"sku": "A1", "count": 2}


if __name__ == "__main__":
    check()
