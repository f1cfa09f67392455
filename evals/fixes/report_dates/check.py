"""Days and quarters come out the same (a day boundary in UTC: epoch 1_699_963_200 is noon UTC)."""

from datetime import date, datetime

import dates


def check() -> None:
    assert abs((dates.report_day() - date(2026, 1, 1)).days) < 3650
    assert dates.day_of(1_699_963_200) == date(2023, 11, 14)
    assert dates.quarter_start(2024, 3).date() == date(2024, 7, 1)
    assert dates.in_quarter(datetime(2024, 8, 15), 2024, 3)
    assert not dates.in_quarter(datetime(2024, 10, 1), 2024, 3)


if __name__ == "__main__":
    check()
