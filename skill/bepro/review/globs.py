"""Path globs with gitignore semantics, as users write them in `--exclude`, per-file-ignores and
role overrides: `tests/**` matches every file under any `tests/` folder, `*.py` any Python file,
and a leading `/` anchors a pattern to the start of the path."""

from __future__ import annotations

from functools import cache
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec


@cache
def _spec(pattern: str) -> pathspec.GitIgnoreSpec:
    # imported with the first glob: `bepro ask` loads this module (file roles) and needs none
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([pattern.removeprefix("./")])


def matches(path: str, pattern: str) -> bool:
    """Whether the pattern matches the path or any trailing part of it (a path given as
    `../app/tests/x.py` still matches `tests/**`), unless the pattern is anchored with `/`."""
    parts = PurePath(path).as_posix().split("/")
    spec = _spec(pattern)
    if pattern.startswith("/"):
        return spec.match_file("/".join(parts))
    return any(spec.match_file("/".join(parts[start:])) for start in range(len(parts)))
