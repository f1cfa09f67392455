"""The audit lines read exactly as before."""

import logging

import audit


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check() -> None:
    collect = Collect()
    audit.logger.addHandler(collect)
    audit.logger.setLevel(logging.DEBUG)
    audit.changed("acc-1", "email", "a@x", None, "ops")
    audit.balance("acc-1", 2500)
    assert collect.lines == [
        "account 'acc-1': email 'a@x' -> None by ops",
        "balance of acc-1 is 2500",
        "ratio 2.5% of limit",
    ]


if __name__ == "__main__":
    check()
