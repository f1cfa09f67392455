"""Run the ruff binary once over all files (JSON output) and map its codes to catalogue rules."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

from bepro.errors import BeproError
from bepro.review.finding import RawFinding
from bepro.review.registry import RUFF_CODES, ruff_rule

log = logging.getLogger(__name__)

RUFF_TIMEOUT_S = 300.0
_ARGS_PER_CALL = 2000  # keep command lines well under the OS limit


class RuffUnavailableError(BeproError):
    code = "BEPRO007"


def _ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as exc:
        raise RuffUnavailableError(
            "ruff is not installed", "pip install 'ruff>=0.17,<0.18'"
        ) from exc
    return str(find_ruff_bin())


def _command(extra: list[str]) -> list[str]:
    select = ",".join(sorted(RUFF_CODES))
    return [
        _ruff_binary(), "check", "--isolated", "--no-cache", "--exit-zero",
        "--output-format", "json", "--select", select, *extra,
    ]  # fmt: skip


def run(paths: list[str]) -> dict[str, list[RawFinding]]:
    """Ruff's findings per path (as given), for the codes bepro maps to rules."""
    hits: dict[str, list[RawFinding]] = {}
    by_resolved = {str(Path(path).resolve()): path for path in paths}
    for start in range(0, len(paths), _ARGS_PER_CALL):
        output = _execute(_command(paths[start : start + _ARGS_PER_CALL]), None)
        for item in output:
            original = by_resolved.get(str(Path(item["filename"]).resolve()), item["filename"])
            finding = _to_raw(item)
            if finding is not None:
                hits.setdefault(original, []).append(finding)
    return hits


def run_source(source: str, filename: str) -> list[RawFinding]:
    output = _execute(_command(["--stdin-filename", Path(filename).name, "-"]), source)
    return [finding for item in output if (finding := _to_raw(item)) is not None]


def _execute(command: list[str], stdin: str | None) -> list[dict[str, Any]]:
    completed = subprocess.run(  # noqa: S603 - a fixed argv to the ruff binary, no shell
        command, input=stdin, capture_output=True, text=True, timeout=RUFF_TIMEOUT_S, check=False
    )
    if completed.returncode != 0:
        raise RuffUnavailableError(
            f"ruff failed (exit {completed.returncode}): {completed.stderr.strip()[:200]}",
            "run with --no-ruff to review without it",
        )
    try:
        data = json.loads(completed.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise RuffUnavailableError(f"ruff printed output that is not JSON: {exc}") from exc
    return [item for item in data if isinstance(item, dict)]


def _to_raw(item: dict[str, Any]) -> RawFinding | None:
    code = item.get("code")
    if not isinstance(code, str):
        return None  # a syntax error: bepro reports parse errors itself
    rule_id = ruff_rule(code)
    if rule_id is None:
        return None
    location = item.get("location") or {}
    end = item.get("end_location") or {}
    line = int(location.get("row", 1))
    return RawFinding(
        rule_id=rule_id,
        source=f"ruff:{code}",
        line=line,
        column=int(location.get("column", 1)),
        end_line=int(end.get("row", line)),
        message=str(item.get("message", code)),
        fixable=item.get("fix") is not None,
    )
