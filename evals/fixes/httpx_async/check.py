"""Searches reach the same URL and return the same hits (httpx's MockTransport)."""

import asyncio

import httpx

import client


def check() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["q"] == "shoes"
        return httpx.Response(200, json={"hits": ["a", "b"]})

    async def scenario() -> list[str]:
        async with client.make_client(httpx.MockTransport(answer)) as http:
            return await client.search(http, "shoes")

    assert asyncio.run(scenario()) == ["a", "b"]


if __name__ == "__main__":
    check()
