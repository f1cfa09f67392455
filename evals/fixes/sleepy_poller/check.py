"""It still polls until done, the same number of times."""

import asyncio

import poller


def check() -> None:
    answers = iter([False, False, True])
    assert asyncio.run(poller.wait_done(lambda: next(answers))) == 2


if __name__ == "__main__":
    check()
