"""Times a batch and reports how long it took."""

import logging
import time

log = logging.getLogger(__name__)


def run_batch(items: list[int]) -> list[int]:
    started = time.time()
    result = [item * 2 for item in items]
    log.info("batch of %d took %.3f s", len(items), time.time() - started)
    return result
