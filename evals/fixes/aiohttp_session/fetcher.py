"""Fetches pages concurrently with aiohttp."""

import asyncio

import aiohttp


async def fetch_all(urls: list[str]) -> list[str]:
    async with aiohttp.ClientSession(timeout=None) as session:
        return list(await asyncio.gather(*(_fetch(session, url) for url in urls)))


async def _fetch(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url, timeout=None) as response:
        response.raise_for_status()
        return await response.text()
