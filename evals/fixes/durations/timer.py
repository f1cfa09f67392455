"""Timing helpers that measure durations with the wall clock."""

import time
from collections.abc import Callable


def timed(work: Callable[[], int]) -> tuple[int, float]:
    started = time.time()
    result = work()
    elapsed = time.time() - started
    return result, elapsed


def slowest(jobs: list[Callable[[], int]]) -> float:
    worst = 0.0
    for job in jobs:
        begin = time.time()
        job()
        end = time.time()
        worst = max(worst, end - begin)
    return worst
