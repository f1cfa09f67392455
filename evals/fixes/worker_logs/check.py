"""The status is unchanged and each line still says the same thing."""

import contextlib
import io
import logging

import worker


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check() -> None:
    collect = Collect()
    worker.logger.addHandler(collect)
    worker.logger.setLevel(logging.DEBUG)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert worker.handle({"id": 7, "payload": "x", "source": "api"}) == "ok"
    said = collect.lines + out.getvalue().splitlines()
    assert said[:2] == ["job 7 from api", "job 7 is ok"]
    assert "handled 7" in said


if __name__ == "__main__":
    check()
