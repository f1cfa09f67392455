"""The total is the same and each line still says the same (stdout or a log record)."""

import contextlib
import io
import logging

import report


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
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert report.summarize({"b": 2, "a": 1}) == 3
    said = out.getvalue().splitlines() + collect.lines
    assert said == ["a: 1", "b: 2", "total 3"]


if __name__ == "__main__":
    check()
