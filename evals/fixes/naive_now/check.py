"""The title keeps its shape and the timestamp stays ISO 8601."""

import re
from datetime import datetime

import report


def check() -> None:
    assert re.fullmatch(r"sales report for \d{4}-\d{2}-\d{2}", report.report_title("sales"))
    stamp = datetime.fromisoformat(report.generated_at())
    assert stamp.year >= 2024


if __name__ == "__main__":
    check()
