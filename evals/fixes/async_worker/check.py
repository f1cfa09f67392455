"""Jobs are processed in order and every audit task runs."""

import asyncio

import worker


def check() -> None:
    assert asyncio.run(worker.work(["a", "b"])) == ["A", "B"]
    assert sorted(worker.AUDITED) == ["a", "b"]


if __name__ == "__main__":
    check()
