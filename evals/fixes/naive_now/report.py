"""A daily report whose title uses the server's local time."""

import datetime as dt


def report_title(name: str) -> str:
    today = dt.datetime.now()
    return f"{name} report for {today:%Y-%m-%d}"


def generated_at() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")
