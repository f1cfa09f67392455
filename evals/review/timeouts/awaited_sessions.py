"""A module that imports only requests' exceptions, calling a client held under a session's name:
an awaited call, or one opened with `async with`, is an asyncio client's (aiohttp, httpx), not a
requests session; the plain call beside them may be one."""

from __future__ import annotations

from requests.exceptions import RequestException


class Speakers:
    def __init__(self, http_session: object, legacy_session: object) -> None:
        self.http_session = http_session
        self.legacy_session = legacy_session

    async def status(self, address: str) -> str:
        async with self.http_session.get(f"http://{address}:1400/status") as response:
            return await response.text()

    async def ping(self, address: str) -> int:
        response = await self.http_session.get(f"http://{address}:1400/ping")
        return response.status

    def legacy_status(self, address: str) -> str:
        try:
            return self.legacy_session.get(f"http://{address}:1400/status").text  # expect: timeouts
        except RequestException:
            return ""
