"""The knowledge base and the reviewer agree: each Don't example is flagged with its own rule
where bepro has a detector for that rule, and no Do example is flagged with its own rule."""

from __future__ import annotations

import pytest

from bepro import mdparse
from bepro.catalogue.load import load_catalogue
from bepro.catalogue.model import Catalogue
from bepro.review.engine import ReviewOptions, review_source
from bepro.review.registry import RUFF_CODES, code_table, load_detectors

from .conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "SKILL.md")
DETECTED = {d.rule_id for d in load_detectors().values()} | set(RUFF_CODES.values())
# "How to detect it" lists what bepro can flag, preview codes included.
EVERY_CODE = ReviewOptions(enabled=frozenset(code_table()))


def _examples(rule_id: str, section: str) -> list[str]:
    """The section's python blocks: a Do section may add a synchronous variant."""
    text = (ROOT / "references" / "rules" / f"{rule_id}.md").read_text(encoding="utf-8")
    found = next(s for s in mdparse.sections(mdparse.parse(text), level=2) if s.title == section)
    fences = [t.content for t in found.tokens if t.type == "fence" and t.info.strip() == "python"]
    assert fences
    return fences


@pytest.mark.parametrize("rule_id", sorted(DETECTED))
def test_dont_example_is_flagged_with_its_rule(rule_id: str, catalogue: Catalogue) -> None:
    code = _examples(rule_id, "Don't")[0]
    result = review_source(code, f"{rule_id}_dont.py", catalogue, EVERY_CODE)
    assert rule_id in {f.rule_id for f in result.findings}, [f.rule_id for f in result.findings]


@pytest.mark.parametrize("rule_id", CATALOGUE.rule_ids)
def test_do_example_is_clean_of_its_rule(rule_id: str, catalogue: Catalogue) -> None:
    for code in _examples(rule_id, "Do"):
        result = review_source(code, f"{rule_id}_do.py", catalogue, EVERY_CODE)
        flagged = [
            f"{f.line}: {f.message} ({f.source})" for f in result.findings if f.rule_id == rule_id
        ]
        assert flagged == []
