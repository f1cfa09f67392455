"""The start reading is a duration's start and also a timestamp sent to callers: time.monotonic()
would break the timestamp, so the codemod declines and the finding is left for a person."""

import time


def run_job(name: str) -> dict[str, object]:
    started = time.time()
    checksum = sum(ord(char) for char in name)
    return {"name": name, "checksum": checksum, "started_at": started, "took": time.time() - started}
