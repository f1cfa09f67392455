"""aiohttp with certificate checks turned off: a shared connector, or one call, with ssl=False
(or the older verify_ssl=False). A plain http URL has no certificate to check; a context with a
private CA keeps the checks."""

import ssl

import aiohttp

API = "https://api.example-music.com/v1"


def shared_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))  # expect: crypto


async def exchange_code(session: aiohttp.ClientSession, code: str, secret: str) -> dict:
    async with session.post(f"{API}/oauth/token", data={"code": code, "secret": secret}, ssl=False) as response:  # expect: crypto
        return await response.json()


async def legacy_profile(session: aiohttp.ClientSession, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(f"{API}/me", headers=headers, verify_ssl=False) as response:  # expect: crypto
        return await response.json()


async def speaker_status(session: aiohttp.ClientSession, address: str) -> str:
    async with session.get(f"http://{address}:1400/status", ssl=False) as response:
        return await response.text()


async def internal_status(session: aiohttp.ClientSession, ca_file: str) -> str:
    context = ssl.create_default_context(cafile=ca_file)
    async with session.get(f"{API}/status", ssl=context) as response:
        return await response.text()


async def artwork(session: aiohttp.ClientSession, endpoint: str) -> dict:
    url = f"http://artwork.example.com/v3/{endpoint}"  # plain http: nothing to verify
    async with session.get(url, ssl=False) as response:
        return await response.json()
