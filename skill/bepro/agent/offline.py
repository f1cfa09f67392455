"""The deterministic answer engine: retrieved rules, in priority order, told from the references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bepro.catalogue.model import Catalogue, Rule
from bepro.knowledge.references import RuleReference, load_reference

MAX_EXAMPLE_LINES = 30
MAX_HOW_BULLETS = 3
MAX_CHECKLIST_PER_RULE = 2


@dataclass(frozen=True)
class Citation:
    rule_id: str
    source: str
    heading: str


@dataclass(frozen=True)
class RuleAdvice:
    rule: Rule
    reference: RuleReference | None
    retrieved_from: Citation


def compose_answer(
    question: str,
    action: str,
    advice: list[RuleAdvice],
    catalogue: Catalogue,
) -> tuple[str, list[Citation]]:
    """Markdown for the answer, and every citation it relies on."""
    lines = [f"**Action:** {action} · **Question:** {question.strip()}", ""]
    citations: list[Citation] = []
    lines.append("Rules that apply, highest priority first:")
    lines.append("")
    for number, item in enumerate(advice, start=1):
        lines.extend(_rule_section(number, item))
        citations.extend(_citations(item))
    checklist = [
        f"- [ ] {entry} [{item.rule.id}]"
        for item in advice
        if item.reference is not None
        for entry in item.reference.checklist[:MAX_CHECKLIST_PER_RULE]
    ]
    if checklist:
        lines.extend(["## Checklist", "", *checklist, ""])
    found = catalogue.action(action)
    if found is not None:
        lines.extend(
            [
                f"## Next for `{action}`",
                "",
                f"Deliver: {found.produces}. Weigh most: {', '.join(found.focus)}. "
                f"Steps and output contract: `{found.guide_path}`.",
                "",
            ]
        )
    lines.append("## Sources")
    lines.append("")
    lines.extend(f"- [{c.rule_id}] {c.source} - {c.heading}" for c in dict.fromkeys(citations))
    return "\n".join(lines).rstrip() + "\n", list(dict.fromkeys(citations))


def _rule_section(number: int, item: RuleAdvice) -> list[str]:
    rule = item.rule
    lines = [
        f"## {number}. `{rule.id}`: {rule.summary}",
        "",
        f"*{rule.category} · priority {rule.priority} · {rule.severity}*",
        "",
    ]
    reference = item.reference
    if reference is None:
        lines.extend([f"See `{rule.reference_path}` (not written yet) and SKILL.md.", ""])
        return lines
    if reference.statement:
        lines.extend([reference.statement, ""])
    if reference.how_bullets:
        lines.extend(f"- {bullet}" for bullet in reference.how_bullets[:MAX_HOW_BULLETS])
        lines.append("")
    example = reference.do_code
    if example:
        shown = _excerpt(example)
        if len(shown) < len(example.rstrip().splitlines()):
            shown.append(f"# ... the full example is in {rule.reference_path}")
        lines.extend(["```python", *shown, "```", ""])
    return lines


def _excerpt(code: str) -> list[str]:
    """The code up to MAX_EXAMPLE_LINES, cut at a blank line so no statement is left half-shown."""
    lines = code.rstrip().splitlines()
    if len(lines) <= MAX_EXAMPLE_LINES:
        return lines
    blanks = [index for index, line in enumerate(lines[:MAX_EXAMPLE_LINES]) if not line.strip()]
    return lines[: blanks[-1]] if blanks else lines[:MAX_EXAMPLE_LINES]


def _citations(item: RuleAdvice) -> list[Citation]:
    cites = [item.retrieved_from]
    if item.reference is not None:
        source = item.reference.path.as_posix()
        for heading in ("How to apply it in Python", "Do"):
            if heading in item.reference.sections:
                cites.append(
                    Citation(item.rule.id, _relative(source), f"{item.reference.title} > {heading}")
                )
    return cites


def _relative(source: str) -> str:
    marker = "references/"
    return source[source.index(marker) :] if marker in source else source


def advice_for(
    rule_ids: list[str], retrieved: dict[str, Citation], catalogue: Catalogue, root: Path
) -> list[RuleAdvice]:
    advice: list[RuleAdvice] = []
    for rule_id in catalogue.in_priority_order(rule_ids):
        rule = catalogue.rule(rule_id)
        if rule is not None:
            advice.append(RuleAdvice(rule, load_reference(root, rule_id), retrieved[rule_id]))
    return advice
