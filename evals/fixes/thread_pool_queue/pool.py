"""A thread pool fed through a queue."""

import queue
import threading
from queue import Queue

RESULTS: Queue = Queue()


def run(jobs: list[int], workers: int = 4) -> list[int]:
    tasks = queue.Queue()
    threads = [threading.Thread(target=_worker, args=(tasks,)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for job in jobs:
        tasks.put(job)
    for _ in threads:
        tasks.put(None)
    for thread in threads:
        thread.join()
    return sorted(RESULTS.get() for _ in jobs)


def _worker(tasks: queue.Queue) -> None:
    while (job := tasks.get()) is not None:
        RESULTS.put(job * job)
