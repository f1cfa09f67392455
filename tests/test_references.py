"""The knowledge base agrees with SKILL.md: one reference per rule, one template, code that runs."""

from __future__ import annotations

import ast
import os
import re
import sys
import time
import types
from pathlib import Path

import pytest

from bepro import mdparse
from bepro.catalogue.load import load_catalogue
from bepro.catalogue.model import Catalogue
from bepro.knowledge.references import action_contract, load_reference

from .conftest import ROOT

RULES_DIR = ROOT / "references" / "rules"
ACTIONS_DIR = ROOT / "references" / "actions"
CATALOGUE = load_catalogue(ROOT / "SKILL.md")
RULE_SECTIONS = [
    "Why it matters",
    "Symptoms and situations",
    "How to apply it in Python",
    "Don't",
    "Do",
    "How to detect it",
    "Review checklist",
    "Trade-offs and when not to apply it",
    "Related rules",
    "By action",
]
ACTION_SECTIONS = ["What it produces", "Steps", "Categories that weigh most", "Output contract"]
COMPILE_ONLY = re.compile(r"<!--\s*compile-only:\s*(.+?)\s*-->")


def _python_blocks(path: Path) -> list[tuple[int, str]]:
    tokens = mdparse.parse(path.read_text(encoding="utf-8"))
    return [
        ((t.map[0] + 1) if t.map else 0, t.content)
        for t in tokens
        if t.type == "fence" and t.info.strip().split(" ")[0] in ("python", "py")
    ]


def test_one_reference_per_rule_and_no_strays() -> None:
    files = {path.stem for path in RULES_DIR.glob("*.md")}
    assert files == set(CATALOGUE.rule_ids)


def test_every_action_has_a_guide() -> None:
    assert {path.stem for path in ACTIONS_DIR.glob("*.md")} == set(CATALOGUE.action_names)


@pytest.mark.parametrize("rule_id", CATALOGUE.rule_ids)
def test_rule_reference_follows_the_template(rule_id: str) -> None:
    rule = CATALOGUE.rule(rule_id)
    assert rule is not None
    path = RULES_DIR / f"{rule_id}.md"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert 80 <= len(lines) <= 300, f"{path.name} has {len(lines)} lines"
    assert lines[0] == f"# {rule_id}: {rule.summary}"
    category_line = next(line for line in lines[1:] if line.strip())
    assert category_line == (
        f"**Category:** {rule.category} · **Priority:** {rule.priority} · **Severity:** {rule.severity}"
    )
    sections = [s.title for s in mdparse.sections(mdparse.parse(text), level=2)]
    assert sections == RULE_SECTIONS


@pytest.mark.parametrize("rule_id", CATALOGUE.rule_ids)
def test_related_rules_exist(rule_id: str) -> None:
    reference = load_reference(ROOT, rule_id)
    assert reference is not None
    assert reference.related, f"{rule_id} names no related rule"
    unknown = [related for related in reference.related if CATALOGUE.rule(related) is None]
    assert not unknown
    assert rule_id not in reference.related


def _all_markdown() -> list[Path]:
    return sorted((ROOT / "references").rglob("*.md"))


@pytest.mark.parametrize("path", _all_markdown(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_block_parses(path: Path) -> None:
    for line, code in _python_blocks(path):
        try:
            ast.parse(code)
        except SyntaxError as error:
            pytest.fail(f"{path.name}:{line + (error.lineno or 0)}: {error.msg}")


def _do_examples(rule_id: str) -> list[tuple[str, str | None]]:
    """(code, why it only compiles or None) of every python block under Do: the first example
    and, where there is one, its synchronous variant."""
    text = (RULES_DIR / f"{rule_id}.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    section = next(s for s in mdparse.sections(mdparse.parse(text), level=2) if s.title == "Do")
    fences = [t for t in section.tokens if t.type == "fence" and t.info.strip() in ("python", "py")]
    assert fences, f"{rule_id}: no python block under ## Do"
    examples = []
    for fence in fences:
        before = lines[: fence.map[0]] if fence.map is not None else []
        previous = next((line for line in reversed(before) if line.strip()), "")
        found = COMPILE_ONLY.search(previous)
        examples.append((fence.content, found[1] if found else None))
    return examples


@pytest.mark.parametrize("rule_id", CATALOGUE.rule_ids)
def test_do_examples_run(rule_id: str) -> None:
    for number, (code, compile_only) in enumerate(_do_examples(rule_id), start=1):
        compiled = compile(code, f"references/rules/{rule_id}.md#Do-{number}", "exec")
        if compile_only is not None:
            assert len(compile_only) > 10, "say why the example cannot run here"
            continue
        # A real module object, registered, so dataclasses and pydantic resolve annotations.
        module = types.ModuleType("__bepro_example__")
        sys.modules[module.__name__] = module
        started = time.monotonic()
        try:
            exec(compiled, module.__dict__)  # noqa: S102 - our own reviewed examples
        finally:
            del sys.modules[module.__name__]
        assert time.monotonic() - started < 5.0


@pytest.mark.parametrize("action", CATALOGUE.action_names)
def test_action_guide_follows_the_template(action: str, catalogue: Catalogue) -> None:
    text = (ACTIONS_DIR / f"{action}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {action}: ")
    tokens = mdparse.parse(text)
    sections = {s.title: s for s in mdparse.sections(tokens, level=2)}
    assert list(sections) == ACTION_SECTIONS
    found = catalogue.action(action)
    assert found is not None
    weighs = "\n".join(
        t.content for t in sections["Categories that weigh most"].tokens if t.type == "inline"
    )
    for category in found.focus:
        assert category in weighs, f"{action}: '{category}' is missing from its focus section"
    for rule_id in re.findall(r"`([a-z]+(?:-[a-z]+)+)`", text):
        assert catalogue.rule(rule_id) is not None, f"{action}: unknown rule id {rule_id!r}"


def test_python_core_has_a_table_of_contents() -> None:
    text = (ROOT / "references" / "python-core.md").read_text(encoding="utf-8")
    sections = [s.title for s in mdparse.sections(mdparse.parse(text), level=2)]
    assert len(text.splitlines()) > 300
    assert len(sections) >= 8
    toc = text.split("\n## ")[0]
    missing = [title for title in sections if title not in toc and "contents" not in title.lower()]
    assert not missing, f"not in the table of contents: {missing}"


DETECT_LABELS = (
    "`bepro review` flags",
    "Not flagged yet (a static check could)",
    "Only a human review sees",
)
_BULLET = re.compile(r"^- \*\*(.+?):\*\*\s*(.*)$")


def _detect_bullets(rule_id: str) -> dict[str, str]:
    """The bullets of "How to detect it", by their bold label."""
    text = (RULES_DIR / f"{rule_id}.md").read_text(encoding="utf-8")
    section = text.split("## How to detect it", 1)[1].split("\n## ", 1)[0]
    bullets: dict[str, str] = {}
    label = ""
    for line in section.strip().splitlines():
        found = _BULLET.match(line)
        if found:
            label = found[1]
            bullets[label] = found[2]
        elif label:
            bullets[label] += " " + line.strip()
    return bullets


@pytest.mark.parametrize("rule_id", CATALOGUE.rule_ids)
def test_detect_section_claims_findings_only_for_rules_with_a_detector(rule_id: str) -> None:
    """What a reference says `bepro review` flags is checked by running it (see CONTRIBUTING.md);
    at the least, a rule with no detector of its own and no ruff code claims nothing."""
    from bepro.review.registry import RUFF_CODES, load_detectors

    bullets = _detect_bullets(rule_id)
    assert list(bullets) in (list(DETECT_LABELS), [DETECT_LABELS[0], DETECT_LABELS[2]])
    detected = rule_id in {d.rule_id for d in load_detectors().values()} | set(RUFF_CODES.values())
    claims_nothing = bullets[DETECT_LABELS[0]].startswith("nothing under this rule id")
    assert claims_nothing != detected, bullets[DETECT_LABELS[0]]


def test_an_edited_action_guide_gives_its_new_output_contract(tmp_path: Path) -> None:
    """The contract is parsed once per version of the guide: an edit is seen on the next answer."""
    guide = tmp_path / "references" / "actions" / "plan.md"
    guide.parent.mkdir(parents=True)
    guide.write_text("# Plan\n\n## Output contract\n\n1. **Goal**: one line.\n", encoding="utf-8")
    os.utime(guide, ns=(1_000_000_000, 1_000_000_000))
    assert action_contract(tmp_path, "plan") == ("Goal",)
    assert action_contract(tmp_path, "plan") == ("Goal",)
    guide.write_text(
        "# Plan\n\n## Output contract\n\n1. **Goal**: one line.\n2. **Phases**: a table.\n",
        encoding="utf-8",
    )
    os.utime(guide, ns=(2_000_000_000, 2_000_000_000))
    assert action_contract(tmp_path, "plan") == ("Goal", "Phases")
    assert action_contract(tmp_path, "missing") == ()
