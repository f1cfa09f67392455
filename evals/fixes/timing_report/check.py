"""Rows are stamped with a date in the same format."""

import re

import timing


def check() -> None:
    rows = timing.export([{"id": 1}])["rows"]
    assert rows[0]["id"] == 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["exported_on"])


if __name__ == "__main__":
    check()
