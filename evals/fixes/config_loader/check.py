"""Plain YAML and literal limits load to the same values."""

import loader


def check() -> None:
    assert loader.flags("beta: true\nlimit: 3\n") == {"beta": True, "limit": 3}
    assert loader.all_flags("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    assert loader.limits("{'rps': 50, 'burst': 100}") == {"rps": 50, "burst": 100}
    assert loader.limits("not a literal") == {}


if __name__ == "__main__":
    check()
