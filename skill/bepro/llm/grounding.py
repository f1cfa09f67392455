"""Citation checks on LLM output, and the structured answer model it must fill.

A citation is `[rule-id]`. Ids that do not exist or were not retrieved are removed and counted.
A finding with no valid citation is never shown with a priority: it becomes an uncited note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from bepro.catalogue.model import Catalogue
from bepro.review.finding import Finding

# Two or more characters (so "[x]" checkboxes are left alone), not followed by "(" (links).
_CITATION = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+|[a-z0-9]{2,})\](?!\()")


@dataclass
class CitationCheck:
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def merge(self, other: CitationCheck) -> None:
        self.kept.extend(other.kept)
        self.removed.extend(other.removed)

    def as_dict(self) -> dict[str, object]:
        return {
            "kept": len(self.kept),
            "removed": len(self.removed),
            "removed_ids": sorted(set(self.removed)),
        }


def check_citations(text: str, allowed: set[str]) -> tuple[str, CitationCheck]:
    """The text with invalid citations removed, and what was kept and removed."""
    check = CitationCheck()

    def replace(match: re.Match[str]) -> str:
        rule_id = match[1]
        if rule_id in allowed:
            check.kept.append(rule_id)
            return match[0]
        check.removed.append(rule_id)
        return ""

    cleaned = _CITATION.sub(replace, text)
    return re.sub(r"[ \t]{2,}", " ", cleaned), check


class LLMFinding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rule_id: str = ""
    title: str = Field(min_length=1)
    detail: str = ""


class LLMAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1)
    findings: list[LLMFinding] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)


def answer_schema() -> dict[str, object]:
    return LLMAnswer.model_json_schema()


def render_answer(
    answer: LLMAnswer, catalogue: Catalogue, allowed: set[str]
) -> tuple[str, list[str], CitationCheck]:
    """Markdown for a structured answer, the cited rule ids in priority order, and the check."""
    check = CitationCheck()
    summary, summary_check = check_citations(answer.summary, allowed)
    check.merge(summary_check)
    lines = [summary.strip(), ""]
    cited: list[str] = list(summary_check.kept)
    grounded = [f for f in answer.findings if f.rule_id in allowed]
    uncited = [f for f in answer.findings if f.rule_id not in allowed]
    check.removed.extend(f.rule_id for f in uncited if f.rule_id)
    ordered = sorted(grounded, key=lambda f: catalogue.rule(f.rule_id).priority)  # type: ignore[union-attr]
    if ordered:
        lines.append("## Findings")
        for finding in ordered:
            rule = catalogue.rule(finding.rule_id)
            assert rule is not None  # noqa: S101 - allowed ids come from the catalogue
            detail, detail_check = check_citations(finding.detail, allowed)
            check.merge(detail_check)
            check.kept.append(rule.id)
            cited.append(rule.id)
            lines.append(
                f"- **P{rule.priority} {rule.severity}** [{rule.id}] {finding.title}: {detail}"
            )
        lines.append("")
    if uncited:
        lines.append("## Notes (uncited, not ranked)")
        lines.extend(
            f"- {finding.title}: {check_citations(finding.detail, allowed)[0]}"
            for finding in uncited
        )
        lines.append("")
    if answer.steps:
        lines.append("## Steps")
        for step in answer.steps:
            text, step_check = check_citations(step, allowed)
            check.merge(step_check)
            cited.extend(step_check.kept)
            lines.append(f"1. {text}")
    return "\n".join(lines).rstrip() + "\n", catalogue.in_priority_order(cited), check


# How an answer says the code has no problem; said of code whose review found some, it is false.
_ALL_CLEAR = re.compile(
    r"\b(?:no (?:obvious |major |real )?(?:issues|problems|bugs|defects|vulnerabilities)"
    r"|nothing (?:is )?wrong|looks (?:good|fine|correct|safe)"
    r"|(?:the |this )?code is (?:fine|correct|safe|production[- ]ready))\b",
    re.IGNORECASE,
)
ADDRESS_AT_OR_ABOVE = 4  # findings at priority 1-4 must be addressed, as `--fail-on 4` demands


@dataclass(frozen=True)
class FindingsCheck:
    """Where an LLM answer disagrees with the review of the code it was asked about."""

    unaddressed: tuple[Finding, ...]  # priority 1-4 findings whose rule the answer never cites
    all_clear: str | None  # the answer's words that the code is fine, despite findings

    @property
    def agrees(self) -> bool:
        return not self.unaddressed and self.all_clear is None

    def as_dict(self) -> dict[str, object]:
        return {
            "unaddressed_findings": [f"{f.line}:{f.source}" for f in self.unaddressed],
            "all_clear_contradicted": self.all_clear is not None,
        }

    def note(self) -> str:
        """A flag under the answer, in the words a reader needs; empty when the answer agrees."""
        if self.agrees:
            return ""
        lines = ["> **bepro's review disagrees with this answer.**"]
        if self.all_clear is not None:
            lines.append(
                f'> It says "{self.all_clear}", but the review found problems (table above).'
            )
        if self.unaddressed:
            lines.append("> It cites no rule for these findings:")
            lines += [
                f"> - line {f.line} `{f.source}` [{f.rule_id}] (priority {f.priority}): {f.message}"
                for f in self.unaddressed
            ]
        return "\n".join(lines) + "\n"


def check_against_findings(
    text: str, cited: Sequence[str], findings: Sequence[Finding]
) -> FindingsCheck:
    """Compare an answer about code with the code's review: serious findings it leaves out, and
    any claim that the code is fine."""
    if not findings:
        return FindingsCheck((), None)
    addressed = set(cited)
    unaddressed = tuple(
        f for f in findings if f.priority <= ADDRESS_AT_OR_ABOVE and f.rule_id not in addressed
    )
    claim = _ALL_CLEAR.search(text)
    return FindingsCheck(unaddressed, claim[0] if claim else None)
