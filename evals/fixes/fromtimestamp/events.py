"""Event timestamps (Unix seconds) turned into datetimes for display."""

from datetime import datetime


def event_time(epoch_seconds: float) -> datetime:
    return datetime.utcfromtimestamp(epoch_seconds)


def local_time(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds)


def label(epoch_seconds: float) -> str:
    return f"event at {event_time(epoch_seconds):%Y-%m-%d %H:%M:%S}"
