"""Fetches exchange rates, retrying while the provider is flaky."""

import tenacity


def rate(fetch) -> float:
    for attempt in tenacity.Retrying(retry=tenacity.retry_if_exception_type(ConnectionError)):
        with attempt:
            return fetch()
    raise AssertionError("Retrying returns or raises")


@tenacity.retry(retry=tenacity.retry_if_exception_type(ConnectionError))
def ping(failures: list[bool]) -> str:
    if failures.pop(0):
        raise ConnectionError("provider down")
    return "pong"
