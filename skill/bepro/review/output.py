"""Render a ReviewResult: ruff-style text, JSON, SARIF 2.1.0 and GitHub annotation lines."""

from __future__ import annotations

import json
from pathlib import Path

from bepro import __version__
from bepro.catalogue.model import Catalogue
from bepro.review.finding import Finding, ReviewResult

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
    """path:line:col: rule-id [SEVERITY] message, then why and where to read more, like ruff."""
    lines: list[str] = []
    for finding in result.findings:
        rule = catalogue.rule(finding.rule_id)
        why = rule.summary if rule else ""
        lines.append(
            f"{finding.path}:{finding.line}:{finding.column}: {finding.rule_id} "
            f"[P{finding.priority} {finding.severity}] {finding.message} ({finding.source})"
        )
        lines.append(f"    why: {why}. See {rule.reference_path if rule else 'SKILL.md'}")
    lines.extend(f"{issue.path}: {issue.kind}: {issue.message}" for issue in result.issues)
    count = len(result.findings)
    noun = "finding" if count == 1 else "findings"
    files = "file" if result.files == 1 else "files"
    lines.append(f"{count} {noun} in {result.files} {files} ({result.lines} lines)")
    return "\n".join(lines) + "\n"


def to_github(result: ReviewResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    return "".join(
        f"::{_GITHUB_LEVEL[f.severity]} file={f.path},line={f.line},endLine={f.end_line},"
        f"col={f.column},title={f.rule_id}::{_escape(f.message)} ({f.source})\n"
        for f in result.findings
    )


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
        "help": {"text": f"See {rule.reference_path if rule else 'SKILL.md'} in the bepro pack."},
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
        "properties": {"source": finding.source, "priority": finding.priority},
    }
