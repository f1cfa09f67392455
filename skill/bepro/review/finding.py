"""What a review produces: findings that cite a catalogue rule, and notes on files it could not read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bepro.catalogue.model import Severity
from bepro.review.roles import Role

IssueKind = Literal[
    "parse-error", "read-error", "skipped-binary", "skipped-too-large", "internal-error"
]
# Kinds that leave a file unreviewed by bepro's own detectors against the user's wishes: the review
# exits non-zero for them unless `--allow-unparsed` (a binary or huge file is skipped on purpose).
UNREVIEWED_KINDS: frozenset[str] = frozenset({"parse-error", "read-error", "internal-error"})


@dataclass(frozen=True)
class RawFinding:
    """A detector's or ruff's hit before it is joined with the catalogue."""

    rule_id: str
    source: str
    line: int
    column: int
    end_line: int
    message: str
    # facts about the whole project any of which voids the finding (across.project_facts decides
    # them over every file): "socket-default-timeout", "session-default-timeout", "no-django"
    unless: tuple[str, ...] = ()


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str
    category: str
    priority: int
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    message: str
    source: str
    role: Role
    fix_available: bool
    fingerprint: str

    def sort_key(self) -> tuple[int, str, int, int, str]:
        return (self.priority, self.path, self.line, self.column, self.rule_id)


class FileIssue(BaseModel):
    """A file the review could not judge: it is reported, and the other files go on."""

    model_config = ConfigDict(frozen=True)

    path: str
    kind: IssueKind
    message: str


class ReviewResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    findings: list[Finding]
    issues: list[FileIssue]
    files: int
    lines: int

    @property
    def unreviewed(self) -> list[FileIssue]:
        return [issue for issue in self.issues if issue.kind in UNREVIEWED_KINDS]

    def summary(self) -> dict[str, object]:
        return {
            "files": self.files,
            "lines": self.lines,
            "findings": len(self.findings),
            "by_priority": _counts(str(finding.priority) for finding in self.findings),
            "by_rule": _counts(finding.rule_id for finding in self.findings),
            "by_code": _counts(finding.source for finding in self.findings),
            "by_role": _counts(finding.role for finding in self.findings),
            "issues": len(self.issues),
            "unreviewed": len(self.unreviewed),
        }

    def capped(self, limit: int) -> CappedFindings:
        return cap_findings(self.findings, limit)


class CappedFindings(BaseModel):
    """Findings up to a limit, with the count of the rest per rule (empty when none was left)."""

    model_config = ConfigDict(frozen=True)

    findings: list[Finding]
    omitted: int
    omitted_by_rule: dict[str, int]


def cap_findings(findings: Sequence[Finding], limit: int) -> CappedFindings:
    """The first `limit` findings in priority order and, for the rest, how many each rule has:
    what a reader with a bounded context (a model, a chat, an answer) is shown."""
    ordered = sorted(findings, key=Finding.sort_key)
    rest = ordered[limit:]
    return CappedFindings(
        findings=ordered[:limit],
        omitted=len(rest),
        omitted_by_rule=_counts(finding.rule_id for finding in rest),
    )


def _counts(keys: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(keys).items()))
