"""All jobs are processed by the worker threads."""

import pool


def check() -> None:
    assert pool.run(list(range(50))) == sorted(n * n for n in range(50))


if __name__ == "__main__":
    check()
