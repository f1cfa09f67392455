"""Bad jobs are counted, good ones processed."""

import worker


def check() -> None:
    assert worker.run(['{"a": 1}', "not json", "[]"]) == (2, 1)
    assert worker.safe_int("12") == 12 and worker.safe_int("x") == 0


if __name__ == "__main__":
    check()
