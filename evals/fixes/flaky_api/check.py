"""Calls that fail a few times still succeed, with the same number of attempts."""

import api


def check() -> None:
    assert api.quote("ACME", [1]) == 101.5
    assert api.CALLS == ["ACME", "ACME"]
    assert api.ping([False, True])
    assert api.quote("SLOW", [1, 1]) == 101.5
    assert api.CALLS.count("SLOW") == 3


if __name__ == "__main__":
    check()
