"""An async client for the search service."""

import httpx


def make_client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=None)


async def search(client: httpx.AsyncClient, query: str) -> list[str]:
    response = await client.get("https://search.example.test/q", params={"q": query})
    return response.json()["hits"]
