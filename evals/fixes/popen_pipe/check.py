"""Records still go through a real child process, and the version still reads."""

import pipeline


def check() -> None:
    assert pipeline.kept(["keep-1", "drop", "keep-2"]) == ["keep-1", "keep-2"]
    assert pipeline.version().startswith("Python 3")


if __name__ == "__main__":
    check()
