"""Sends notifications in the background and appends each to an outbox file."""

import asyncio

SENT: list[str] = []


async def send(message: str) -> None:
    await asyncio.sleep(0)
    SENT.append(message)


async def notify(outbox: str, message: str) -> None:
    asyncio.ensure_future(send(message))
    with open(outbox, "a") as log:
        log.write(message + "\n")


async def notify_all(outbox: str, messages: list[str]) -> None:
    for message in messages:
        loop = asyncio.get_running_loop()
        loop.create_task(send(message))
    with open(outbox, "w") as log:
        log.write("\n".join(messages))
    await asyncio.sleep(0.01)
