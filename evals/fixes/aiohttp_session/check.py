"""The pages come back from a real aiohttp server on loopback."""

import asyncio

from aiohttp import web

import fetcher


async def scenario() -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=f"page {request.match_info['n']}")

    app = web.Application()
    app.router.add_get("/p/{n}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        urls = [f"http://127.0.0.1:{port}/p/{n}" for n in (1, 2)]
        assert await fetcher.fetch_all(urls) == ["page 1", "page 2"]
    finally:
        await runner.cleanup()


def check() -> None:
    asyncio.run(scenario())


if __name__ == "__main__":
    check()
