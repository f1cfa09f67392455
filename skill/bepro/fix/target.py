"""The oldest Python a project says it supports: a rewrite must run there too (`datetime.UTC`
is 3.11+; jupyterhub supports 3.10)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

_LOWER_BOUND = re.compile(r"(?:>=|~=|==)\s*3\.(\d+)")
_RUFF_TARGET = re.compile(r"py3(\d+)")


def oldest_python(path: str) -> tuple[int, int] | None:
    """From the nearest pyproject.toml above the file: `requires-python`'s lower bound, else
    ruff's `target-version`; None when no project says."""
    return _declared_above(str(Path(path).resolve().parent))


def _declared_above(folder: str) -> tuple[int, int] | None:
    # not cached: a long-lived server fixes code after the project's pyproject.toml changed
    directory = Path(folder)
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        return _declared(pyproject)
    parent = directory.parent
    return None if parent == directory else _declared_above(str(parent))


def _declared(pyproject: Path) -> tuple[int, int] | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    requires = data.get("project", {}).get("requires-python")
    if isinstance(requires, str) and (bound := _LOWER_BOUND.search(requires)):
        return (3, int(bound[1]))
    target = data.get("tool", {}).get("ruff", {}).get("target-version")
    if isinstance(target, str) and (version := _RUFF_TARGET.fullmatch(target)):
        return (3, int(version[1]))
    return None
