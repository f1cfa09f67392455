"""Parses access-log lines and buckets them per day."""

import datetime

STAMP = "%d/%b/%Y:%H:%M:%S"


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%d/%b/%Y:%H:%M:%S")


def since(text: str, start: datetime.datetime) -> float:
    return (parse_time(text) - start).total_seconds()


def epoch() -> datetime.datetime:
    return datetime.datetime(1970, 1, 1)


def today_bucket() -> str:
    return datetime.date.today().strftime("%Y%m%d")
