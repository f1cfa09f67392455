"""An ingest pipeline: a producer reads events, consumers write them in batches."""

import asyncio


async def produce(queue: asyncio.Queue, events: list[dict]) -> None:
    for event in events:
        await queue.put(event)
    await queue.put(None)


async def consume(queue: asyncio.Queue, sink: list[dict]) -> None:
    while (event := await queue.get()) is not None:
        sink.append(event)


async def ingest(events: list[dict]) -> list[dict]:
    queue: asyncio.Queue = asyncio.Queue()
    sink: list[dict] = []
    await asyncio.gather(produce(queue, events), consume(queue, sink))
    return sink


async def ingest_lifo(events: list[dict]) -> list[dict]:
    stack: asyncio.LifoQueue = asyncio.LifoQueue(0)
    for event in events:
        await stack.put(event)
    return [stack.get_nowait() for _ in events]
