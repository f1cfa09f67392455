"""Gates on an eval report: minimum scores from [tool.bepro.eval], and regressions against a
saved baseline (a previous run's JSON report) beyond a tolerance.

Every metric is a score where higher is better, so a regression is a drop of more than the
tolerance, suite-wide or in any one category.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bepro.config import EvalSettings
from bepro.errors import ConfigError, UsageError
from bepro.evals.runner import Check, EvalReport, Figures, Regression, SuiteResult

CATEGORY_PREFIX = "category."
COUNT_KEYS = frozenset({"cases"})


def check_thresholds(report: EvalReport, settings: EvalSettings) -> list[Check]:
    """One check per configured minimum, for the suites that ran; an unknown metric is an error."""
    checks: list[Check] = []
    for suite in report.suites:
        if suite.status != "ok":
            continue
        # "actions-real" is the field actions_real ([tool.bepro.eval.actions-real]).
        minimums: dict[str, float] = getattr(settings, suite.name.replace("-", "_"))
        for key, minimum in sorted(minimums.items()):
            checks.extend(_checks_for(suite, key, minimum))
    return checks


def _checks_for(suite: SuiteResult, key: str, minimum: float) -> list[Check]:
    if not key.startswith(CATEGORY_PREFIX):
        _require_known(suite.name, key, key, suite.metrics)
        return [Check(suite.name, key, None, minimum, suite.metrics[key])]
    metric = key.removeprefix(CATEGORY_PREFIX)
    columns = {name for row in suite.per_category.values() for name in row} - COUNT_KEYS
    _require_known(suite.name, key, metric, columns)
    return [
        Check(suite.name, metric, category, minimum, row.get(metric))
        for category, row in suite.per_category.items()
    ]


def _require_known(suite: str, key: str, metric: str, known: Iterable[str]) -> None:
    names = sorted(known)
    if metric not in names:
        close = difflib.get_close_matches(metric, names, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"[tool.bepro.eval.{suite}] unknown metric {key!r}", f"{guess}known: {', '.join(names)}"
        )


def load_baseline(path: Path) -> dict[str, dict[str, object]]:
    """The suites of a saved report; UsageError when the file is missing or not such a report."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"no such baseline: {path}", "save one with --save-baseline") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable JSON report: {exc}", "regenerate it") from exc
    suites = data.get("suites") if isinstance(data, dict) else None
    if not isinstance(suites, dict) or not all(isinstance(v, dict) for v in suites.values()):
        raise UsageError(
            f"{path}: not a bepro eval report (no 'suites' table)", "save one with --save-baseline"
        )
    return suites


def compare(
    report: EvalReport, baseline: dict[str, dict[str, object]], tolerance: float
) -> list[Regression]:
    """Every figure, suite-wide and per category, that dropped by more than the tolerance."""
    regressions: list[Regression] = []
    for suite in report.suites:
        saved = baseline.get(suite.name, {})
        if suite.status != "ok" or saved.get("status") != "ok":
            continue
        regressions += _drops(suite.name, None, suite.metrics, saved.get("metrics"), tolerance)
        saved_rows = saved.get("per_category")
        for category, row in suite.per_category.items():
            old_row = saved_rows.get(category) if isinstance(saved_rows, dict) else None
            regressions += _drops(suite.name, category, row, old_row, tolerance)
    return regressions


def _drops(
    suite: str, category: str | None, current: Figures, saved: object, tolerance: float
) -> list[Regression]:
    if not isinstance(saved, dict):
        return []
    drops: list[Regression] = []
    for metric, value in current.items():
        old = saved.get(metric)
        if metric in COUNT_KEYS or value is None or not isinstance(old, int | float):
            continue
        # Rounded, so that a drop of exactly the tolerance is not a regression by float noise.
        if round(old - value, 6) > tolerance:
            drops.append(Regression(suite, metric, category, float(old), value))
    return drops


def save_report(text: str, path: Path) -> None:
    """Write atomically: a temporary file beside the target, flushed, then renamed over it."""
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        )
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}", "check the path") from exc
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except OSError as exc:
        Path(handle.name).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}", "check the path") from exc
