"""Timestamps of an old module: naive datetimes from epoch seconds and from today."""

import datetime


def from_epoch(seconds: float) -> datetime.datetime:
    return datetime.datetime.utcfromtimestamp(seconds)


def local_from_epoch(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds)


def started() -> datetime.datetime:
    return datetime.datetime.today()


def age_seconds(seconds: float) -> float:
    return (started() - local_from_epoch(seconds)).total_seconds()
