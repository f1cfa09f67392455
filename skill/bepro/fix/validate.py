"""Every candidate rewrite is proven before it is shown, cheapest check first:

1. it compiles;
2. ruff reports no new error (syntax, pyflakes, bugbear and pylint errors, compared before/after);
3. a re-review no longer reports the targeted finding, and reports no new finding at priority 1-4;
4. the user's test command (if any) passes with the candidate on disk; the file is restored after.
   The engine runs it once on a file with every rewrite that passed 1-3, and candidate by
   candidate only when that run fails (engine.py).

A failed check rejects the candidate with a reason a user can act on.
"""

from __future__ import annotations

import functools
import json
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.fix.lines import LineMap, line_map
from bepro.fix.store import atomic_write, read_exact
from bepro.review.engine import ReviewOptions, review_source
from bepro.review.finding import Finding, ReviewResult
from bepro.review.registry import REWRITES, code_table

RUFF_ERRORS = (
    "E9,F,B,PLE"  # syntax errors, pyflakes (undefined/unused names), bugbear, pylint errors
)
RUFF_TIMEOUT_S = 60.0
TEST_TIMEOUT_S = 300.0
NEW_FINDING_PRIORITY = (
    4  # a rewrite may not add a finding at this priority or higher (1 is highest)
)


@dataclass(frozen=True)
class Checks:
    """What validation runs besides compile/ruff/review: an optional test command."""

    catalogue: Catalogue
    test_command: list[str] = field(default_factory=list)
    test_timeout_s: float = TEST_TIMEOUT_S
    cwd: Path | None = None
    # None: fix_review_options(), chosen by run_fix for the request's proposer
    review_options: ReviewOptions | None = None


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str
    review: ReviewResult | None = None
    resolved: tuple[
        Finding, ...
    ] = ()  # findings of the file before that the review no longer reports


def parse_test_command(command: str) -> list[str]:
    """`--test-cmd "pytest -q tests/x.py"` as argv (shlex, no shell)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(
            f"--test-cmd: {exc}", 'quote it as one argument, e.g. --test-cmd "pytest -q"'
        ) from exc
    if not argv:
        raise UsageError("--test-cmd is empty", 'e.g. --test-cmd "pytest -q"')
    return argv


def fix_review_options(every_code: bool = False, unsafe: bool = False) -> ReviewOptions:
    """What `bepro fix` looks at: the default selection, plus every code it has a safe validated
    rewrite for (a preview code's finding is worth fixing when the fix is safe and checked), and
    the unsafe ones when asked for; with an LLM proposing rewrites, every code."""
    table = code_table()
    enabled = {source for source, info in table.items() if info.default or every_code}
    rewritable = {code for code, rewrite in REWRITES.items() if rewrite.safe or unsafe}
    return ReviewOptions(enabled=frozenset(enabled | rewritable))


def review(source: str, filename: str, checks: Checks) -> ReviewResult:
    options = checks.review_options or fix_review_options()
    return review_source(source, filename, checks.catalogue, options)


def validate(
    before: str,
    before_review: ReviewResult,
    candidate: str,
    target: Finding,
    path: Path,
    checks: Checks,
) -> Verdict:
    """Run the checks on a candidate for `path` (whose current content is `before`)."""
    filename = target.path
    failure = _compile_error(candidate, filename)
    if failure and not _compile_error(before, filename):
        return Verdict(False, f"does not compile: {failure}")
    # A file written for a newer Python than this one compiled neither before nor after: its
    # syntax is checked by ruff's parser below (a new syntax error is a new ruff error).
    new_error = _new_ruff_error(before, candidate, filename)
    if new_error:
        return Verdict(False, f"ruff reports a new error: {new_error}")
    after = review(candidate, filename, checks)
    mapping = line_map(before, candidate)
    if _still_reported(target, after, mapping):
        return Verdict(
            False, f"the review still reports {target.rule_id} ({target.source}) here", after
        )
    resolved, appeared = match_findings(before_review, after, mapping)
    added = [finding for finding in appeared if finding.priority <= NEW_FINDING_PRIORITY]
    if added:
        first = added[0]
        return Verdict(
            False,
            f"adds a priority-{first.priority} finding: {first.rule_id} ({first.source}) at line "
            f"{first.line}: {first.message}",
            after,
        )
    if checks.test_command:
        failure = run_tests(path, candidate, checks)
        if failure:
            return Verdict(False, failure, after)
    return Verdict(True, "validated", after, tuple(resolved))


def _compile_error(source: str, filename: str) -> str:
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return f"{getattr(exc, 'msg', exc)}" + (f" (line {line})" if line else "")
    return ""


def _mapped(finding: Finding, mapping: LineMap) -> set[int]:
    return {line for old in range(finding.line, finding.end_line + 1) for line in mapping(old)}


def _still_reported(target: Finding, after: ReviewResult, mapping: LineMap) -> bool:
    lines = _mapped(target, mapping)
    return any(
        f.rule_id == target.rule_id and f.source == target.source and f.line in lines
        for f in after.findings
    )


def match_findings(
    before: ReviewResult, after: ReviewResult, mapping: LineMap
) -> tuple[list[Finding], list[Finding]]:
    """Pair findings across a rewrite (same rule and source, on a mapped line): the ones of
    `before` that are gone, and the ones of `after` that are new."""
    gone = list(before.findings)
    appeared: list[Finding] = []
    for finding in after.findings:
        match = next(
            (
                old
                for old in gone
                if (old.rule_id, old.source) == (finding.rule_id, finding.source)
                and finding.line in _mapped(old, mapping)
            ),
            None,
        )
        if match is None:
            appeared.append(finding)
        else:
            gone.remove(match)
    return gone, appeared


def _new_ruff_error(before: str, after: str, filename: str) -> str:
    old = Counter(code for code, _ in _ruff_errors(before, filename))
    for code, message in _ruff_errors(after, filename):
        if old[code] > 0:
            old[code] -= 1
            continue
        return f"{code} {message}"
    return ""


@functools.lru_cache(maxsize=32)  # the file before a rewrite is checked once per candidate
def _ruff_errors(source: str, filename: str) -> list[tuple[str, str]]:
    from bepro.review.ruff_adapter import RuffUnavailableError

    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as exc:
        raise RuffUnavailableError(
            "ruff is not installed", "pip install 'ruff>=0.17,<0.18'"
        ) from exc
    command = [
        str(find_ruff_bin()), "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
        "--select", RUFF_ERRORS, "--stdin-filename", Path(filename).name, "-",
    ]  # fmt: skip
    completed = subprocess.run(  # noqa: S603 - a fixed argv to the ruff binary, no shell
        command, input=source, capture_output=True, text=True, timeout=RUFF_TIMEOUT_S, check=False
    )
    if completed.returncode != 0:
        raise RuffUnavailableError(
            f"ruff failed (exit {completed.returncode}): {completed.stderr.strip()[:200]}"
        )
    items = json.loads(completed.stdout or "[]")
    return [
        (
            str(item.get("code") or "syntax"),
            f"{item.get('message', '')} (line {item.get('location', {}).get('row', '?')})",
        )
        for item in items
        if isinstance(item, dict)
    ]


def run_tests(path: Path, candidate: str, checks: Checks) -> str:
    """Run the test command with the candidate on disk; the file is restored afterwards either way."""
    current = read_exact(path)
    atomic_write(path, candidate)
    try:
        completed = subprocess.run(  # noqa: S603 - the user's own command, split with shlex, no shell
            checks.test_command,
            cwd=checks.cwd,
            capture_output=True,
            text=True,
            timeout=checks.test_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the test command timed out after {checks.test_timeout_s:g} s"
    except OSError as exc:
        raise UsageError(
            f"--test-cmd cannot run: {exc}", "check the command and your PATH"
        ) from exc
    finally:
        atomic_write(path, current)
    if completed.returncode == 0:
        return ""
    tail = (completed.stdout + completed.stderr).strip().splitlines()[-1:] or [""]
    return f"the test command failed (exit {completed.returncode}): {tail[0][:200]}"
