"""Fires follow-up work in the background after a request."""

import asyncio

DONE: list[str] = []


async def follow_up(name: str) -> None:
    await asyncio.sleep(0)
    DONE.append(name)


async def handle(order: str) -> str:
    loop = asyncio.get_running_loop()
    loop.create_task(follow_up(f"email:{order}"))
    asyncio.create_task(follow_up(f"invoice:{order}"))
    return "accepted"
