"""Durations stay non-negative and results pass through."""

import timer


def check() -> None:
    result, elapsed = timer.timed(lambda: 41 + 1)
    assert result == 42
    assert 0 <= elapsed < 5
    assert 0 <= timer.slowest([lambda: 1, lambda: sum(range(1000))]) < 5


if __name__ == "__main__":
    check()
