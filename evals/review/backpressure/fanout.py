"""gather over one task per item of an input is flagged; gathers bounded by a semaphore, over a
fixed handful, or telling each registered handler something are not."""

import asyncio

import httpx

FANOUT = 20


async def fetch_all(client: httpx.AsyncClient, urls: list[str]) -> list[httpx.Response]:
    return await asyncio.gather(*[client.get(url) for url in urls])  # expect: backpressure


async def warm_caches(keys: list[str]) -> None:
    await asyncio.gather(*(warm(key) for key in keys))  # expect: backpressure


async def warm(key: str) -> None:
    await asyncio.sleep(0)


async def fetch_bounded(client: httpx.AsyncClient, urls: list[str]) -> list[httpx.Response]:
    limit = asyncio.Semaphore(FANOUT)

    async def one(url: str) -> httpx.Response:
        async with limit:
            return await client.get(url)

    return await asyncio.gather(*[one(url) for url in urls])


async def fetch_pair(client: httpx.AsyncClient) -> list[httpx.Response]:
    return await asyncio.gather(*[client.get(url) for url in ("/a", "/b")])


async def shards(client: httpx.AsyncClient) -> list[httpx.Response]:
    return await asyncio.gather(*[client.get(f"/shard/{n}") for n in range(4)])


async def notify(handlers: list[object], event: str) -> None:
    await asyncio.gather(*(handler.on_event(event) for handler in handlers))
