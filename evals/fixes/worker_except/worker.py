"""A worker that must keep going when one job fails."""

import json


def run(jobs: list[str]) -> tuple[int, int]:
    ok = failed = 0
    for job in jobs:
        try:
            json.loads(job)
            ok += 1
        except:  # a bad job must not stop the others
            failed += 1
    return ok, failed


def safe_int(text: str) -> int:
    try:
        return int(text)
    except:
        return 0
