"""The same log lines come out, word for word, and the charge logic is unchanged."""

import logging

import billing


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check() -> None:
    collect = Collect()
    billing.log.addHandler(collect)
    billing.log.setLevel(logging.DEBUG)
    attempts: list[str] = []
    assert billing.charge("ada", 1250, attempts)
    assert not billing.charge("bob", 0, attempts)
    assert collect.lines == [
        "charging ada 12.50 EUR",
        "attempt 1 for 'ada'",
        "charged ada",
        "done: ada at 100% of 1250",
        "charging bob 0.00 EUR",
        "refusing bob for 0: not positive",
    ]


if __name__ == "__main__":
    check()
