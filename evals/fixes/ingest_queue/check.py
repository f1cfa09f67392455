"""Every event arrives, in order, even when there are more than a bounded queue holds."""

import asyncio

import ingest


def check() -> None:
    events = [{"n": n} for n in range(3000)]
    assert asyncio.run(ingest.ingest(events)) == events
    assert asyncio.run(ingest.ingest_lifo(events[:5])) == events[:5][::-1]


if __name__ == "__main__":
    check()
