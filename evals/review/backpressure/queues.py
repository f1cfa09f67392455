"""Queues in service code: unbounded ones are flagged, bounded ones are not."""

import asyncio
import queue
from asyncio import Queue
from queue import LifoQueue as Stack

jobs = asyncio.Queue()  # expect: backpressure
events = Queue(maxsize=0)  # expect: backpressure
work = queue.Queue()  # expect: backpressure
undo = Stack()  # expect: backpressure

bounded_jobs = asyncio.Queue(maxsize=1000)
bounded_work = queue.Queue(500)
bounded_undo = Stack(maxsize=64)


def make_queue(limit: int) -> asyncio.Queue[int]:
    return asyncio.Queue(maxsize=limit)


def from_settings(**options: int) -> asyncio.Queue[int]:
    return asyncio.Queue(**options)
