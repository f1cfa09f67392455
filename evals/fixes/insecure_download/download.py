"""Downloads reports from the reporting host."""

import httpx


def report(url: str) -> bytes:
    response = httpx.get(url, verify=False, timeout=10.0)
    response.raise_for_status()
    return response.content


def report_size(url: str) -> int:
    return len(report(url))
