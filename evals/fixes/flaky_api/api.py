"""Calls a partner API that fails now and then."""

import tenacity
from tenacity import retry

CALLS: list[str] = []


class Unavailable(Exception):
    pass


@retry(retry=tenacity.retry_if_exception_type(Unavailable), reraise=True)
def quote(symbol: str, failures: list[int]) -> float:
    CALLS.append(symbol)
    if failures and failures.pop():
        raise Unavailable(symbol)
    return 101.5


@retry
def ping(results: list[bool]) -> bool:
    if not results.pop(0):
        raise Unavailable("ping")
    return True
