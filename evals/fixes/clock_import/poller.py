"""A poller that checks how long a batch took, with `time` imported from the time module."""

from time import sleep, time


def run_batch(items: list[int]) -> tuple[int, float]:
    started = time()
    total = 0
    for item in items:
        total += item
        sleep(0)
    took = time() - started
    return total, took
