"""Date helpers for the daily report."""

from datetime import date, datetime


def report_day() -> date:
    return date.today()


def day_of(epoch_seconds: float) -> date:
    return date.fromtimestamp(epoch_seconds)


def quarter_start(year: int, quarter: int) -> datetime:
    return datetime(year, 3 * (quarter - 1) + 1, 1)


def in_quarter(moment: datetime, year: int, quarter: int) -> bool:
    start = quarter_start(year, quarter)
    return start.date() <= moment.date() < quarter_start(year + quarter // 4, quarter % 4 + 1).date()
