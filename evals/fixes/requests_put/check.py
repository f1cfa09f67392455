"""The same requests are sent (requests' functions stood in for)."""

from typing import Any

import inventory

SENT: list[tuple[str, str, dict[str, Any]]] = []


class Response:
    status_code = 204
    ok = True


def fake(method: str):
    def send(url: str, **options: Any) -> Response:
        SENT.append((method, url, options))
        return Response()

    return send


def check() -> None:
    inventory.requests.put = fake("PUT")  # type: ignore[assignment]
    inventory.requests.delete = fake("DELETE")  # type: ignore[assignment]
    assert inventory.set_stock("A1", 3) == 204
    assert inventory.remove("A1")
    assert [(m, u) for m, u, _ in SENT] == [
        ("PUT", "https://stock.example.test/stock/A1"),
        ("DELETE", "https://stock.example.test/stock/A1"),
    ]
    assert SENT[0][2]["json"] == {"count": 3}


if __name__ == "__main__":
    check()
