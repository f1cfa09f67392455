"""The client still reaches the same URLs and reads the count (httpx's own MockTransport)."""

import httpx

import client


def check() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"count": 12})

    with client.make_client(httpx.MockTransport(answer)) as http:
        assert client.stock(http, "A-1") == 12
    assert seen == ["https://inventory.example.test/stock/A-1"]


if __name__ == "__main__":
    check()
