"""Adopting bepro on an existing code base: report only what is new since a saved baseline
(`--baseline FILE`) or only what sits on lines changed since a git ref (`--diff REF`)."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

from bepro.errors import UsageError
from bepro.review.finding import Finding, ReviewResult

GIT_TIMEOUT_S = 60.0
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def without_baseline(result: ReviewResult, baseline: Path) -> ReviewResult:
    """Findings not in the baseline (a `--format json` report). Findings match by fingerprint
    (file, code and the flagged line's text), so code moving within a file is not new; each
    baseline entry absorbs one finding, so a second copy of a known problem is."""
    known = Counter(_baseline_fingerprints(baseline))
    kept: list[Finding] = []
    for finding in result.findings:
        if known[finding.fingerprint] > 0:
            known[finding.fingerprint] -= 1
        else:
            kept.append(finding)
    return result.model_copy(update={"findings": kept})


def _baseline_fingerprints(baseline: Path) -> list[str]:
    hint = "save one with `bepro review PATH --format json > FILE`"
    try:
        payload = json.loads(baseline.read_text(encoding="utf-8"))
        return [str(item["fingerprint"]) for item in payload["findings"]]
    except OSError as exc:
        raise UsageError(f"--baseline: cannot read {baseline}: {exc.strerror}", hint) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"--baseline: {baseline} is not a bepro JSON report", hint) from exc


def on_changed_lines(result: ReviewResult, ref: str) -> ReviewResult:
    """Findings whose lines were added or changed since `ref` (as `git diff ref` shows them)."""
    changed = _changed_lines(ref)
    kept = [
        finding
        for finding in result.findings
        if any(
            line in changed.get(Path(finding.path).resolve(), ())
            for line in range(finding.line, finding.end_line + 1)
        )
    ]
    return result.model_copy(update={"findings": kept})


def _changed_lines(ref: str) -> dict[Path, set[int]]:
    if ref.startswith("-"):
        raise UsageError(f"--diff: {ref!r} is not a git ref", "e.g. --diff origin/main")
    root = _git(["rev-parse", "--show-toplevel"], ref).strip()
    diff = _git(["diff", "--unified=0", "--no-color", "--no-ext-diff", ref, "--", "*.py"], ref)
    changed: dict[Path, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:].removeprefix("b/")
            current = None if name == "/dev/null" else changed.setdefault(Path(root, name), set())
        elif current is not None and (match := _HUNK.match(line)):
            start, count = int(match[1]), int(match[2] or 1)
            current.update(range(start, start + count))
    return changed


def _git(args: list[str], ref: str) -> str:
    try:
        completed = subprocess.run(  # noqa: S603 - a fixed argv to git, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as every git tool finds it
            capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--diff: cannot run git: {exc}", "install git, or drop --diff") from exc
    if completed.returncode != 0:
        message = completed.stderr.strip().splitlines()[:1] or ["git failed"]
        raise UsageError(f"--diff {ref}: {message[0]}", "run it inside a git checkout") from None
    return completed.stdout
