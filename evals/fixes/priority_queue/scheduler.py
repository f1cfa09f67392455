"""Schedules jobs by priority on an asyncio priority queue."""

import asyncio


async def run_in_priority(jobs: list[tuple[int, str]]) -> list[str]:
    queue: asyncio.PriorityQueue = asyncio.PriorityQueue(maxsize=0)
    for job in jobs:
        await queue.put(job)
    order = []
    while not queue.empty():
        _, name = await queue.get()
        order.append(name)
    return order
