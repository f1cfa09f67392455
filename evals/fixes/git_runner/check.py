"""The commands still run and their results are read the same way (real child processes)."""

import runner


def check() -> None:
    assert runner.python_version().startswith("(3, ")
    assert runner.succeeds("pass")
    assert not runner.succeeds("raise SystemExit(3)")
    assert runner.exit_code("raise SystemExit(4)") == 4


if __name__ == "__main__":
    check()
