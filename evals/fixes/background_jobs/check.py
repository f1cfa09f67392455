"""The request is accepted and both follow-ups run."""

import asyncio

import jobs


async def scenario() -> None:
    assert await jobs.handle("o1") == "accepted"
    await asyncio.sleep(0.01)


def check() -> None:
    asyncio.run(scenario())
    assert sorted(jobs.DONE) == ["email:o1", "invoice:o1"]


if __name__ == "__main__":
    check()
