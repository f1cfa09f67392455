"""A polling worker: waits between polls, and fires an audit task per processed job."""

import asyncio
import time

AUDITED: list[str] = []


async def audit(job: str) -> None:
    await asyncio.sleep(0)
    AUDITED.append(job)


async def work(jobs: list[str]) -> list[str]:
    done = []
    for job in jobs:
        time.sleep(0.01)  # let the database breathe between jobs
        done.append(job.upper())
        asyncio.create_task(audit(job))
    await asyncio.sleep(0.05)
    return done
