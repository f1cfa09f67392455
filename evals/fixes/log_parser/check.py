"""Times parse to the same wall-clock fields and differences stay the same."""

import parse


def check() -> None:
    moment = parse.parse_time("10/Oct/2024:13:55:36")
    assert (moment.year, moment.month, moment.day, moment.hour) == (2024, 10, 10, 13)
    assert parse.since("10/Oct/2024:13:55:36", parse.parse_time("10/Oct/2024:13:55:00")) == 36
    assert parse.since("01/Jan/1970:00:01:00", parse.epoch()) == 60
    assert len(parse.today_bucket()) == 8


if __name__ == "__main__":
    check()
