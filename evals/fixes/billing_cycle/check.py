"""Due dates and lateness are the same (payments stamped at noon UTC, far from midnight)."""

from datetime import date

import cycle

NOON_2024_03_10 = 1_710_072_000


def check() -> None:
    assert cycle.due_date("2024-01-31").date() == date(2024, 3, 1)
    assert cycle.paid_on(NOON_2024_03_10) == date(2024, 3, 10)
    assert cycle.days_late("2024-01-31", NOON_2024_03_10) == 9
    assert cycle.days_late("2024-03-01", NOON_2024_03_10) == 0


if __name__ == "__main__":
    check()
