"""Render a ReviewResult: ruff-style text, JSON, SARIF 2.1.0 and GitHub annotation lines."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bepro import __version__
from bepro.catalogue.model import Catalogue
from bepro.review.finding import UNREVIEWED_KINDS, FileIssue, Finding, ReviewResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"CRITICAL": "error", "HIGH": "warning", "MEDIUM": "note"}
_GITHUB_LEVEL = {"CRITICAL": "error", "HIGH": "warning", "MEDIUM": "notice"}


def to_json(result: ReviewResult) -> str:
    payload = {
        "findings": [finding.model_dump() for finding in result.findings],
        "issues": [issue.model_dump() for issue in result.issues],
        "summary": result.summary(),
    }
    return json.dumps(payload, indent=2)


def to_text(result: ReviewResult, catalogue: Catalogue) -> str:
    """path:line:col: rule-id [P SEVERITY] message (code), like ruff; then the files bepro could
    not parse, why each rule matters (once per rule, not per finding) and a summary by code."""
    lines = [
        f"{f.path}:{f.line}:{f.column}: {f.rule_id} [P{f.priority} {f.severity}] {f.message} "
        f"({f.source})"
        for f in result.findings
    ]
    lines.extend(_issue_line(issue) for issue in result.issues)
    if result.findings:
        lines.extend(["", "Why it matters (`bepro rules ID` shows the reference):"])
        lines.extend(_why_lines(result, catalogue))
        lines.extend(["", "By code:"])
        lines.extend(_statistics_lines(result))
    lines.append(_totals(result))
    return "\n".join(lines) + "\n"


def _issue_line(issue: FileIssue) -> str:
    kept = "; ruff's findings for it are kept" if issue.kind in UNREVIEWED_KINDS else ""
    return f"{issue.path}: {issue.kind}: {issue.message}{kept}"


def _why_lines(result: ReviewResult, catalogue: Catalogue) -> list[str]:
    ids = dict.fromkeys(finding.rule_id for finding in result.findings)
    lines = []
    for rule_id in ids:
        rule = catalogue.rule(rule_id)
        if rule is not None:
            lines.append(f"  {rule_id} (P{rule.priority}, {rule.category}): {rule.summary}")
    return lines


def _statistics_lines(result: ReviewResult) -> list[str]:
    counts = Counter((f.priority, f.source, f.rule_id) for f in result.findings)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max(len(str(count)) for count in counts.values())
    return [
        f"  {count:>{width}}  {source:<40} {rule_id} (P{priority})"
        for (priority, source, rule_id), count in ordered
    ]


def _totals(result: ReviewResult) -> str:
    count = len(result.findings)
    noun = "finding" if count == 1 else "findings"
    files = "file" if result.files == 1 else "files"
    text = f"{count} {noun} in {result.files} {files} ({result.lines} lines)"
    roles = Counter(finding.role for finding in result.findings)
    if set(roles) - {"production"}:
        text += " by role: " + ", ".join(f"{role} {n}" for role, n in sorted(roles.items()))
    unparsed = len(result.unreviewed)
    if unparsed:
        text += (
            f"; {unparsed} {'file' if unparsed == 1 else 'files'} not reviewed by bepro's "
            "detectors (exit 1 unless --allow-unparsed)"
        )
    return text


def statistics(result: ReviewResult, as_json: bool) -> str:
    """`--statistics`: the count of findings per code, most frequent first (as ruff prints it)."""
    if as_json:
        counts = Counter((f.source, f.rule_id, f.priority) for f in result.findings)
        rows = [
            {"code": source, "rule_id": rule_id, "priority": priority, "count": count}
            for (source, rule_id, priority), count in sorted(
                counts.items(), key=lambda item: (-item[1], item[0])
            )
        ]
        return json.dumps(rows, indent=2) + "\n"
    lines = _statistics_lines(result) if result.findings else []
    return "\n".join([*lines, _totals(result)]) + "\n"


def to_github(result: ReviewResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding and per unreviewed file."""
    findings = "".join(
        f"::{_GITHUB_LEVEL[f.severity]} file={f.path},line={f.line},endLine={f.end_line},"
        f"col={f.column},title={f.rule_id}::{_escape(f.message)} ({f.source})\n"
        for f in result.findings
    )
    unreviewed = "".join(
        f"::warning file={issue.path},title=bepro {issue.kind}::{_escape(issue.message)}\n"
        for issue in result.unreviewed
    )
    return findings + unreviewed


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def to_sarif(result: ReviewResult, catalogue: Catalogue) -> str:
    rule_ids = sorted({finding.rule_id for finding in result.findings})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    run = {
        "tool": {
            "driver": {
                "name": "bepro",
                "version": __version__,
                "informationUri": "https://pypi.org/project/bepro/",
                "rules": [_sarif_rule(rule_id, catalogue) for rule_id in rule_ids],
            }
        },
        "results": [_sarif_result(finding, index[finding.rule_id]) for finding in result.findings],
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "warning",
                        "message": {"text": f"{issue.path}: {issue.kind}: {issue.message}"},
                    }
                    for issue in result.issues
                ],
            }
        ],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _sarif_rule(rule_id: str, catalogue: Catalogue) -> dict[str, object]:
    rule = catalogue.rule(rule_id)
    summary = rule.summary if rule else rule_id
    return {
        "id": rule_id,
        "shortDescription": {"text": summary},
        "help": {"text": f"Run `bepro rules {rule_id}` for the reference, with Do/Don't code."},
        "properties": {
            "category": rule.category if rule else "",
            "priority": rule.priority if rule else 0,
            "tags": [rule.category] if rule else [],
        },
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity] if rule else "note"},
    }


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, object]:
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": f"{finding.message} ({finding.source})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": Path(finding.path).as_posix()},
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                    },
                }
            }
        ],
        "partialFingerprints": {"bepro/v1": finding.fingerprint},
        "properties": {
            "source": finding.source,
            "priority": finding.priority,
            "role": finding.role,
        },
    }
