"""A token that expired in 2020 is expired; one expiring in 2999 is not."""

import tokens


def check() -> None:
    assert tokens.is_expired("2020-01-01T00:00:00")
    assert not tokens.is_expired("2999-01-01T00:00:00")


if __name__ == "__main__":
    check()
