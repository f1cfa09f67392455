"""The client still sends the same requests and parses the same answers (no network: a fake)."""

from typing import Any

import client


class FakeResponse:
    def __init__(self, payload: dict[str, Any]) -> None:
        self._payload = payload

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, Any]:
        return self._payload


def check() -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def fake(method: str):
        def send(url: str, **kwargs: Any) -> FakeResponse:
            calls.append((method, url, kwargs))
            return FakeResponse({"id": 7, "name": "Ada"})

        return send

    client.requests.get = fake("GET")
    client.requests.post = fake("POST")
    assert client.get_user(7) == {"id": 7, "name": "Ada"}
    assert client.create_note("hi") == 7
    assert [(m, u) for m, u, _ in calls] == [
        ("GET", "https://api.example.test/users/7"),
        ("POST", "https://api.example.test/notes"),
    ]
    assert calls[1][2]["json"] == {"text": "hi"}


if __name__ == "__main__":
    check()
