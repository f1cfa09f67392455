"""The batch result is the same."""

import metrics


def check() -> None:
    assert metrics.run_batch([1, 2, 3]) == [2, 4, 6]


if __name__ == "__main__":
    check()
