"""Ids are distinct UUIDs and map back to their device."""

import devices


def check() -> None:
    first, second = devices.register("a"), devices.register("b")
    assert first != second
    assert devices.parse(first).version in (1, 4)
    assert devices.REGISTRY[second] == "b"


if __name__ == "__main__":
    check()
