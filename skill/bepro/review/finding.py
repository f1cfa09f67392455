"""What a review produces: findings that cite a catalogue rule, and notes on files it could not read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bepro.catalogue.model import Severity

IssueKind = Literal[
    "parse-error", "read-error", "skipped-binary", "skipped-too-large", "internal-error"
]


@dataclass(frozen=True)
class RawFinding:
    """A detector's or ruff's hit before it is joined with the catalogue."""

    rule_id: str
    source: str
    line: int
    column: int
    end_line: int
    message: str
    fixable: bool


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
    fix_available: bool

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

    def summary(self) -> dict[str, object]:
        by_priority: dict[int, int] = {}
        by_rule: dict[str, int] = {}
        for finding in self.findings:
            by_priority[finding.priority] = by_priority.get(finding.priority, 0) + 1
            by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
        return {
            "files": self.files,
            "lines": self.lines,
            "findings": len(self.findings),
            "by_priority": {str(k): v for k, v in sorted(by_priority.items())},
            "by_rule": dict(sorted(by_rule.items())),
            "issues": len(self.issues),
        }
