"""Polls a status function until it reports done."""

import time


async def wait_done(status, pause: float = 0.01) -> int:
    polls = 0
    while not status():
        polls += 1
        time.sleep(pause)  # the status endpoint rate-limits us
    return polls
