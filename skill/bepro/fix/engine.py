"""`bepro fix`: for each finding in each file, build a candidate rewrite (a codemod first, then an
LLM proposal when a proposer is given), validate it, and keep it or report why it was rejected.

Fixes in one file build on each other: after a rewrite is accepted, the file is reviewed again
(validation already did) and the next finding is taken from that review, highest priority first.
With `apply`, each file is written once, atomically, after its last fix, with an undo copy kept.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from bepro.errors import BeproError, UsageError
from bepro.fix.blocks import apply_blocks
from bepro.fix.codemods import batch_candidate, codemod_candidate
from bepro.fix.guidance import guidance_for
from bepro.fix.lines import LineMap, first_line, line_map
from bepro.fix.model import (
    FIXED,
    Candidate,
    FixOutcome,
    FixStatus,
    RewriteProposer,
    RewriteRejectedError,
)
from bepro.fix.store import UNDO_DIR, OutsideTargetsError, UndoStore, ensure_inside, read_exact
from bepro.fix.validate import (
    Checks,
    Verdict,
    fix_review_options,
    review,
    run_tests,
    validate,
)
from bepro.review.engine import collect_files
from bepro.review.finding import Finding, ReviewResult
from bepro.review.registry import REWRITES

MAX_ROUNDS_PER_FILE = 200  # a bound on rewrite attempts per file, whatever the findings do


@dataclass(frozen=True)
class FixRequest:
    targets: list[Path]
    checks: Checks
    rules: frozenset[str] = frozenset()  # only findings of these rules; empty: every rule
    apply: bool = False
    proposer: RewriteProposer | None = None
    pack_root: Path | None = None  # where the rule references are, for the proposer's guidance
    undo_base: Path = UNDO_DIR
    unsafe_fixes: bool = False  # also rewrites that change behaviour a reviewer must see


@dataclass
class FixReport:
    outcomes: list[FixOutcome] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)  # per changed file: original -> fixed
    refused: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    undo_folder: Path | None = None

    @property
    def unfixed(self) -> int:
        left = sum(outcome.status not in FIXED for outcome in self.outcomes)
        return left + len(self.refused)

    def summary(self) -> dict[str, object]:
        counts = {status: 0 for status in ("applied", "proposed", "rejected", "skipped")}
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        files = {
            "files_changed": len(self.diffs),
            "refused": len(self.refused),
            "issues": len(self.issues),
        }
        return {"findings": len(self.outcomes), **counts, **files}

    def to_json(self) -> dict[str, object]:
        return {
            "fixes": [outcome.to_json() for outcome in self.outcomes],
            "summary": self.summary(),
            "refused": self.refused,
            "issues": self.issues,
            "undo": str(self.undo_folder) if self.undo_folder else None,
        }


def run_fix(request: FixRequest) -> FixReport:
    missing = [target for target in request.targets if not target.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {missing[0]}", "check the paths you passed")
    if request.checks.review_options is None:
        options = fix_review_options(request.proposer is not None, request.unsafe_fixes)
        request = replace(request, checks=replace(request.checks, review_options=options))
    report = FixReport()
    store = UndoStore(request.undo_base)
    for path in collect_files(request.targets):
        try:
            ensure_inside(path, request.targets)
        except OutsideTargetsError as refusal:
            report.refused.append(refusal.message)
            continue
        try:
            original = read_exact(path)
        except UnicodeDecodeError:  # rewriting it as UTF-8 would change bytes nobody asked for
            report.issues.append(f"{path}: not-utf8: not UTF-8 text; left alone")
            continue
        except OSError as exc:
            report.issues.append(f"{path}: read-error: {exc.strerror}")
            continue
        fixer = _FileFixer(path, original, _without_tests(request))
        if fixer.current.issues:
            report.issues += [
                f"{issue.path}: {issue.kind}: {issue.message}" for issue in fixer.current.issues
            ]
            continue
        fixed = fixer.run()
        tested = fixed == original or not request.checks.test_command
        if not tested and run_tests(path, fixed, request.checks):
            # the rewrites fail the tests together: test them one by one
            fixer = _FileFixer(path, original, request)
            fixed = fixer.run()
        report.outcomes += fixer.outcomes
        if fixed == original:
            continue
        header = unsafe_header(fixer.outcomes)
        report.diffs[str(path)] = header + unified_diff(original, fixed, str(path))
        if request.apply:
            store.write(path, original, fixed)
    report.undo_folder = store.folder
    return report


def _without_tests(request: FixRequest) -> FixRequest:
    """The request with its rewrites checked statically only (compile, ruff, review): the test
    command, the slow check, then runs once on the file with all of them."""
    return replace(request, checks=replace(request.checks, test_command=[]))


def unified_diff(before: str, after: str, name: str) -> str:
    name = name.lstrip("/")  # git's headers: `a/tmp/app.py` for /tmp/app.py, never `a//tmp`
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def unsafe_header(outcomes: list[FixOutcome]) -> str:
    """The lines above a diff that holds unsafe rewrites (patch and git apply skip them)."""
    unsafe = sorted({o.origin for o in outcomes if not o.safe and o.status in FIXED})
    if not unsafe:
        return ""
    return (
        f"# bepro: UNSAFE fixes ({', '.join(unsafe)}): they change behaviour; "
        "review them before you apply them\n"
    )


Key = tuple[str, str, int, int]  # rule id, source, line, column in the current text


def _key(finding: Finding) -> Key:
    return finding.rule_id, finding.source, finding.line, finding.column


class _FileFixer:
    """Fixes one file finding by finding; reports each finding at its line in the file on disk."""

    def __init__(self, path: Path, original: str, request: FixRequest) -> None:
        self.path = path
        self.request = request
        self.source = original
        self.current = review(original, str(path), request.checks)
        self.outcomes: list[FixOutcome] = []
        self._unfixed: dict[Key, int] = {}  # findings tried and not fixed -> index in outcomes
        self._back: list[LineMap] = []  # one per accepted rewrite: its lines -> the lines before

    def run(self) -> str:
        for _ in range(MAX_ROUNDS_PER_FILE):
            target = self._next_target()
            if target is None:
                break
            outcome, accepted = _fix_finding(
                self.path, self.source, self.current, target, self.request
            )
            if accepted is None:
                self._unfixed[_key(target)] = len(self.outcomes)
                self.outcomes.append(self._on_disk(outcome))
                continue
            self.outcomes.append(self._on_disk(outcome))
            self._accept(target, outcome, *accepted)
        return self.source

    def _next_target(self) -> Finding | None:
        rules = self.request.rules
        return next(
            (
                f
                for f in self.current.findings
                if (not rules or f.rule_id in rules) and _key(f) not in self._unfixed
            ),
            None,
        )

    def _accept(self, target: Finding, outcome: FixOutcome, source: str, verdict: Verdict) -> None:
        """Take the rewrite; findings it removed besides the target are reported as fixed with it."""
        for finding in verdict.resolved:
            if finding == target or (
                self.request.rules and finding.rule_id not in self.request.rules
            ):
                continue
            along = replace(
                outcome,
                finding=finding,
                reason=f"validated; fixed with line {target.line}",
                diff="",
            )
            index = self._unfixed.pop(_key(finding), None)
            if index is None:
                self.outcomes.append(self._on_disk(along))
            else:
                self.outcomes[index] = self._on_disk(along)
        forward = line_map(self.source, source)
        self._back.append(line_map(source, self.source))
        self._unfixed = {
            (rule, origin, first_line(forward, line), column): index
            for (rule, origin, line, column), index in self._unfixed.items()
        }
        assert verdict.review is not None  # noqa: S101 - an accepted verdict carries its review
        self.source, self.current = source, verdict.review

    def _on_disk(self, outcome: FixOutcome) -> FixOutcome:
        finding = outcome.finding
        line = finding.line
        for mapping in reversed(self._back):
            line = first_line(mapping, line)
        moved = finding.model_copy(
            update={"line": line, "end_line": line + finding.end_line - finding.line}
        )
        return replace(outcome, finding=moved)


def _fix_finding(
    path: Path, source: str, current: ReviewResult, target: Finding, request: FixRequest
) -> tuple[FixOutcome, tuple[str, Verdict] | None]:
    """The outcome for one finding, and the accepted source with its verdict (None if rejected)."""
    reasons: list[str] = []
    for candidate in _candidates(source, current, target, request, reasons):
        verdict = validate(source, current, candidate.source, target, path, request.checks)
        if verdict.accepted:
            status: FixStatus = "applied" if request.apply else "proposed"
            diff = unified_diff(source, candidate.source, str(path))
            reason = f"validated (first tried {'; '.join(reasons)})" if reasons else "validated"
            outcome = FixOutcome(
                str(path), target, status, reason, candidate.origin, diff, candidate.safe
            )
            if not candidate.safe:
                outcome = replace(outcome, diff=unsafe_header([outcome]) + diff)
            return outcome, (
                candidate.source,
                verdict,
            )
        reasons.append(f"{candidate.origin}: {verdict.reason}")
    if not reasons:
        return FixOutcome(str(path), target, "skipped", _skip_reason(target, request)), None
    return FixOutcome(str(path), target, "rejected", "; ".join(reasons)), None


def _skip_reason(target: Finding, request: FixRequest) -> str:
    rewrite = REWRITES.get(target.source)
    if rewrite is not None and not rewrite.safe and not request.unsafe_fixes:
        return (
            f"no safe offline rewrite; an unsafe one ({rewrite.codemod}) runs with --unsafe-fixes"
        )
    if rewrite is not None:
        return f"no offline rewrite for this shape (codemod:{rewrite.codemod} declined it)"
    hint = "" if request.proposer else "; --llm with an LLM configured can propose one"
    return f"no offline rewrite for {target.source}{hint}"


def _candidates(
    source: str, current: ReviewResult, target: Finding, request: FixRequest, reasons: list[str]
) -> Iterator[Candidate]:
    """The codemod's candidate, the same codemod over all its findings in the file, then the
    proposer's; each is built only when the one before was rejected."""
    codemod = codemod_candidate(source, target, request.unsafe_fixes)
    if codemod is not None:
        yield codemod
        others = [f for f in current.findings if f != target and f.rule_id == target.rule_id]
        batch = batch_candidate(source, target, others, request.unsafe_fixes)
        if batch is not None:
            yield batch
    if request.proposer is None:
        return
    guidance = guidance_for(target, request.checks.catalogue, request.pack_root)
    try:
        proposal = apply_blocks(source, request.proposer.propose(source, target, guidance))
    except RewriteRejectedError as rejected:
        reasons.append(f"llm: {rejected}")
        return
    except BeproError as failure:  # the LLM is unreachable or misconfigured: report, go on
        reasons.append(f"llm: {failure.message}")
        return
    yield Candidate("llm", proposal)
