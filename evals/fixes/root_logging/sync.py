"""A sync job that logs on the root logger."""

import logging


def sync(items: list[str]) -> int:
    logging.info("syncing %d items", len(items))
    done = [item for item in items if item]
    if len(done) < len(items):
        logging.warning("skipped %d empty items", len(items) - len(done))
    return len(done)
