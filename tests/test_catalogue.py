"""SKILL.md is the one source of truth: it parses into the seed's categories, rules and actions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bepro.catalogue.model import Catalogue
from bepro.catalogue.parse import parse_catalogue
from bepro.errors import CatalogueError

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seed" / "SKILL.seed.md"
SKILL_TEXT = (ROOT / "SKILL.md").read_text(encoding="utf-8")


def test_catalogue_has_the_seed_shape(catalogue: Catalogue) -> None:
    assert len(catalogue.categories) == 8
    assert len(catalogue.rules) == 39
    assert catalogue.action_names == (
        "plan",
        "design",
        "build",
        "implement",
        "review",
        "fix",
        "optimize",
        "refactor",
        "debug",
        "secure",
        "scale",
    )
    assert len(catalogue.workflow) == 7
    assert [c.priority for c in catalogue.categories] == list(range(1, 9))
    assert catalogue.categories[0].name == "Correctness & Contracts"
    assert catalogue.categories[-1].name == "Developer Experience & Testing"


def test_severity_follows_priority(catalogue: Catalogue) -> None:
    expected = {
        1: "CRITICAL",
        2: "CRITICAL",
        3: "CRITICAL",
        4: "HIGH",
        5: "HIGH",
        6: "HIGH",
        7: "MEDIUM",
        8: "MEDIUM",
    }
    assert {c.priority: c.severity for c in catalogue.categories} == expected
    assert all(rule.severity == expected[rule.priority] for rule in catalogue.rules)


def test_rules_are_listed_in_priority_order(catalogue: Catalogue) -> None:
    priorities = [rule.priority for rule in catalogue.rules]
    assert priorities == sorted(priorities)
    assert catalogue.rule("timeouts") is not None
    assert catalogue.rule("timeouts").category == "Reliability & Resilience"  # type: ignore[union-attr]


@pytest.mark.skipif(not SEED.is_file(), reason="the seed lives in ../shared, beside the checkout")
def test_skill_md_keeps_the_seed_exactly() -> None:
    seed = SEED.read_text(encoding="utf-8")
    pattern = re.compile(r"^- `([a-z0-9-]+)` - (.+)$", re.MULTILINE)
    assert pattern.findall(SKILL_TEXT) == pattern.findall(seed)
    for block in ("## Priority Model (highest to lowest)", "## Execution Workflow"):
        seed_part = seed.split(block)[1].split("\n## ")[0]
        assert seed_part in SKILL_TEXT
    headings = re.compile(r"^### \d\. .+$", re.MULTILINE)
    assert headings.findall(SKILL_TEXT) == headings.findall(seed)


def test_frontmatter_follows_agent_skills_rules(catalogue: Catalogue) -> None:
    assert catalogue.meta.name == "backend-principle-eng-python-pro-max"
    assert len(catalogue.meta.description) <= 1024
    body = SKILL_TEXT.split("\n---\n", 1)[1]
    assert body.count("\n") < 500


def _broken(old: str, new: str) -> str:
    assert old in SKILL_TEXT
    return SKILL_TEXT.replace(old, new, 1)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence - 1]


def test_duplicate_rule_id_names_the_line() -> None:
    text = _broken("- `retries` - Bounded", "- `timeouts` - Bounded")
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(text)
    line = _line_of(text, "- `timeouts`", occurrence=2)
    assert f"SKILL.md:{line}:" in error.value.message
    assert "duplicate rule id 'timeouts'" in error.value.message


def test_rule_outside_a_category_names_the_line() -> None:
    text = _broken(
        "## Quick Reference (Rules)\n",
        "## Quick Reference (Rules)\n\n- `stray` - Not in a category\n",
    )
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(text)
    assert f"SKILL.md:{_line_of(text, '`stray`')}:" in error.value.message
    assert "outside a category" in error.value.message


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("license: Apache-2.0", "version: 1", "key 'version' is not allowed"),
        ("name: backend-principle-eng-python-pro-max", "name: Backend_Pro", "kebab-case"),
        ('description: "Principal', 'description: "<b>Principal', "no '<' or '>'"),
        ("license: Apache-2.0", "license: [unclosed", "not valid YAML"),
    ],
)
def test_bad_frontmatter_is_named(old: str, new: str, problem: str) -> None:
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(_broken(old, new))
    assert problem in error.value.message
    assert re.search(r"SKILL\.md:\d+:", error.value.message)


def test_missing_frontmatter_is_an_error() -> None:
    with pytest.raises(CatalogueError, match="no frontmatter"):
        parse_catalogue(SKILL_TEXT.split("\n---\n", 1)[1])


def test_action_table_must_match_the_description() -> None:
    text = _broken("| scale | A capacity plan", "| grow | A capacity plan")
    with pytest.raises(CatalogueError, match="Actions table"):
        parse_catalogue(text)


def test_a_parsed_skill_md_is_reused_until_its_text_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse is kept in the user cache by the file's text: the next load of the same text
    does not parse it again; an edited file is parsed (and checked) again, and a damaged cache
    file is parsed over."""
    from bepro.catalogue import load, parse

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    skill = tmp_path / "SKILL.md"
    skill.write_text(SKILL_TEXT, encoding="utf-8")
    first = load.load_catalogue(skill)
    parses: list[str] = []

    def counted(text: str, path: Path = Path("SKILL.md")) -> Catalogue:
        parses.append(text)
        return parse_catalogue(text, path)

    monkeypatch.setattr(parse, "parse_catalogue", counted)
    assert load.load_catalogue(skill) == first
    assert parses == []
    (kept,) = (tmp_path / "cache" / "bepro" / "catalogue").glob("*.json")
    kept.write_text("{not json", encoding="utf-8")
    assert load.load_catalogue(skill) == first
    assert len(parses) == 1
    skill.write_text(SKILL_TEXT.replace("- `retries`", "- `retries`\n- `retries`", 1))
    with pytest.raises(CatalogueError, match="retries"):
        load.load_catalogue(skill)
