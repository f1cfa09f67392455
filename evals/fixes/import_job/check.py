"""The count is right and the same messages are logged (stdout or a log record)."""

import contextlib
import io
import logging

import importer


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check() -> None:
    collect = Collect()
    logging.getLogger().addHandler(collect)
    logging.getLogger().setLevel(logging.DEBUG)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert importer.import_rows([{"id": 1}, {"x": 2}, {"id": 3}]) == 2
    said = collect.lines + out.getvalue().splitlines()
    assert "skipping row without id: {'x': 2}" in said
    assert "imported 2 of 3 rows" in said
    assert "import finished: 2 rows" in said


if __name__ == "__main__":
    check()
