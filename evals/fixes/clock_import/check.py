"""The batch total is unchanged and the duration is sane."""

import poller


def check() -> None:
    total, took = poller.run_batch([1, 2, 3])
    assert total == 6
    assert 0 <= took < 5


if __name__ == "__main__":
    check()
