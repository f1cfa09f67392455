"""Reading eval datasets: JSON lines checked against a model and the catalogue.

Every problem is a UsageError that names the file, the line and what is wrong with it, so a bad
dataset fails before any suite runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError

CaseT = TypeVar("CaseT", bound=BaseModel)


def read_jsonl(path: Path, model: type[CaseT]) -> list[tuple[int, CaseT]]:
    """(line number, case) for each non-blank line; ids must be unique."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such dataset", "check the evals/ folder") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the dataset: {exc}", "check the file") from exc
    cases: list[tuple[int, CaseT]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = model.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            raise UsageError(f"{path}:{number}: malformed case: {_first_line(exc)}") from exc
        case_id = str(getattr(case, "id", number))
        if case_id in seen:
            raise UsageError(
                f"{path}:{number}: duplicate id {case_id!r} (first on line {seen[case_id]})"
            )
        seen[case_id] = number
        cases.append((number, case))
    return cases


def check_rule_ids(path: Path, number: int, rule_ids: Iterable[str], catalogue: Catalogue) -> None:
    unknown = [rule_id for rule_id in rule_ids if catalogue.rule(rule_id) is None]
    if unknown:
        raise UsageError(f"{path}:{number}: unknown rule id {unknown[0]!r}", "see `bepro rules`")


def check_action(path: Path, number: int, action: str, catalogue: Catalogue) -> None:
    if catalogue.action(action) is None:
        raise UsageError(
            f"{path}:{number}: unknown action {action!r}",
            f"choose one of: {', '.join(catalogue.action_names)}",
        )


def _first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "case"
        return f"{where}: {first['msg']}"
    return str(error).splitlines()[0]
