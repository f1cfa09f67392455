"""Jobs come out by priority."""

import asyncio

import scheduler


def check() -> None:
    jobs = [(3, "c"), (1, "a"), (2, "b")]
    assert asyncio.run(scheduler.run_in_priority(jobs)) == ["a", "b", "c"]


if __name__ == "__main__":
    check()
