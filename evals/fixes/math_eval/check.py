"""Literal overrides parse to the same values."""

import limits


def check() -> None:
    assert limits.overrides("{'search': 50, 'export': 5}") == {"search": 50, "export": 5}
    assert limits.burst("(10, 20)") == (10, 20)


if __name__ == "__main__":
    check()
