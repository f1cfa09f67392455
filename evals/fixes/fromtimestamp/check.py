"""Labels keep their UTC wall time; conversions keep the instant."""

import events


def check() -> None:
    assert events.label(0) == "event at 1970-01-01 00:00:00"
    assert events.label(86_400 + 61) == "event at 1970-01-02 00:01:01"
    assert events.local_time(1_000_000).timestamp() == 1_000_000


if __name__ == "__main__":
    check()
