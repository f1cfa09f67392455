"""Epoch conversions keep their instant, and ages stay positive."""

import stamps


def check() -> None:
    moment = stamps.from_epoch(1_699_963_200)
    assert (moment.year, moment.month, moment.day, moment.hour) == (2023, 11, 14, 12)
    assert stamps.local_from_epoch(1_699_963_200).timestamp() == 1_699_963_200
    assert stamps.age_seconds(1_699_963_200) > 0


if __name__ == "__main__":
    check()
