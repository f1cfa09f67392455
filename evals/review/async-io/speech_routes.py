"""Async views over speech_client's sync helpers: a helper that makes an HTTP call or a DNS
lookup, called straight from an `async def`, holds the event loop and every request on it."""

import asyncio

from speech_client import cache_key, checked_url, poll_render, synthesize, word_count


async def speak(text: str) -> bytes:
    return synthesize(text)  # expect: async-io


async def fetch_media(url: str) -> str:
    return checked_url(url)  # expect: async-io


async def render(job_id: str) -> None:
    poll_render(job_id)  # expect: async-io


async def speak_in_thread(text: str) -> bytes:
    return await asyncio.to_thread(synthesize, text)


async def describe(text: str) -> dict[str, object]:
    return {"key": cache_key(text), "words": word_count(text)}
