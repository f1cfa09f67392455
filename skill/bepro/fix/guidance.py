"""What a rewrite proposer is told about a finding: the finding, its rule, and the rule's advice
for the `fix` action from its reference (references/rules/<id>.md, `- **fix:**`)."""

from __future__ import annotations

from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.review.finding import Finding

_FIX_BULLET = "- **fix:**"


def guidance_for(finding: Finding, catalogue: Catalogue, pack_root: Path | None) -> str:
    rule = catalogue.rule(finding.rule_id)
    lines = [
        f"Finding {finding.rule_id} ({finding.source}) at line {finding.line}: {finding.message}"
    ]
    if rule is not None:
        lines.append(f"Rule {rule.id} (priority {rule.priority}, {rule.severity}): {rule.summary}")
        advice = _fix_advice(pack_root / rule.reference_path) if pack_root else ""
        if advice:
            lines.append(f"How to fix: {advice}")
    lines.append("Change only what fixes this finding; keep behaviour, names and formatting.")
    return "\n".join(lines)


def _fix_advice(reference: Path) -> str:
    try:
        text = reference.read_text(encoding="utf-8")
    except OSError:
        return ""
    line = next((line for line in text.splitlines() if line.startswith(_FIX_BULLET)), "")
    return line.removeprefix(_FIX_BULLET).strip()
