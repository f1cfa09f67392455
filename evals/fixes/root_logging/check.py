"""The count is the same and the same messages reach the root handlers."""

import logging

import sync


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check() -> None:
    collect = Collect()
    logging.getLogger().addHandler(collect)
    logging.getLogger().setLevel(logging.INFO)
    assert sync.sync(["a", "", "b"]) == 2
    assert collect.lines == ["syncing 3 items", "skipped 1 empty items"]


if __name__ == "__main__":
    check()
