"""The job reports a Unix start time and a sane duration."""

import jobs


def check() -> None:
    result = jobs.run_job("nightly")
    assert result["checksum"] == sum(ord(char) for char in "nightly")
    assert result["started_at"] > 1_600_000_000
    assert 0 <= result["took"] < 5


if __name__ == "__main__":
    check()
