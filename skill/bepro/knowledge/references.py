"""Structured access to the reference files: a rule's sections (as text and as markdown blocks
from the token tree, Do/Don't code included), its checklist, its advice per action; an action
guide's output contract."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markdown_it.token import Token

from bepro import mdparse

_RELATED_ID = re.compile(r"^`([a-z0-9-]+)`")
_BY_ACTION = re.compile(r"^\*\*([a-z]+):\*\*\s*(.+)$")
_CONTRACT_LABEL = re.compile(r"^\*\*(.+?)\*\*")

# The paragraph that introduces a reference's synchronous Do example (requests, Django, Celery),
# beside an asyncio one: answers about sync code show it, the index leaves it out.
SYNC_VARIANT = "**Synchronous code**"
# The sections whose items an answer matches to a question by meaning, and how much of an item
# is read for it: a long How item's tail blurs its embedding.
MEANING_SECTIONS = ("How to apply it in Python", "Symptoms and situations")
OPENING_CHARS = 240


@dataclass(frozen=True)
class RuleReference:
    rule_id: str
    path: Path
    title: str
    statement: str
    sections: dict[str, str]
    checklist: tuple[str, ...]
    how_bullets: tuple[str, ...]
    related: tuple[str, ...]
    # Each section's top-level blocks, rendered back to markdown: what answers show, so nested
    # lists keep their children, tables stay tables and code stays whole.
    blocks: dict[str, tuple[mdparse.Block, ...]] = field(default_factory=dict)
    # "By action": one line of advice per action name (plan, review, fix, ...).
    by_action: dict[str, str] = field(default_factory=dict)


def opening_text(block: mdparse.Block) -> str:
    """The start of an item, as its meaning is read (the index embeds the same text)."""
    return " ".join(block.lines)[:OPENING_CHARS]


def item_openings(root: Path, rule_ids: Iterable[str]) -> list[str]:
    """The opening of every item in the rules' MEANING_SECTIONS, each once, in pack order."""
    openings: dict[str, None] = {}
    for rule_id in rule_ids:
        reference = load_reference(root, rule_id)
        if reference is None:
            continue
        for heading in MEANING_SECTIONS:
            for block in reference.blocks.get(heading, ()):
                if block.kind == "item":
                    openings[opening_text(block)] = None
    return list(openings)


def reference_path(root: Path, rule_id: str) -> Path:
    return root / "references" / "rules" / f"{rule_id}.md"


def load_reference(root: Path, rule_id: str) -> RuleReference | None:
    """The parsed reference of a rule, or None when the file does not exist (yet)."""
    path = reference_path(root, rule_id)
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        return None
    return _load_cached(rule_id, path, modified)


@lru_cache(maxsize=128)
def _load_cached(rule_id: str, path: Path, modified_ns: int) -> RuleReference | None:
    """Parsing is most of an offline answer's cost, and references rarely change: cache by the
    file's modification time, so an edited reference is parsed again."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return parse_reference(rule_id, path, text)


def parse_reference(rule_id: str, path: Path, text: str) -> RuleReference:
    tokens = mdparse.parse(text)
    lines = mdparse.source_lines(text)
    title = next(
        (tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"), rule_id
    )
    paragraphs = [
        tokens[i + 1].content for i, t in enumerate(tokens[:40]) if t.type == "paragraph_open"
    ]
    statement = next((p for p in paragraphs if not p.startswith("**Category:**")), "")
    sections: dict[str, str] = {}
    checklist: tuple[str, ...] = ()
    how: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    blocks: dict[str, tuple[mdparse.Block, ...]] = {}
    for section in mdparse.sections(tokens, level=2):
        sections[section.title] = _section_text(section, lines)
        blocks[section.title] = tuple(mdparse.blocks(section.tokens))
        items = tuple(_item_text(inline) for _, inline in mdparse.list_items(section.tokens))
        if section.title == "Review checklist":
            checklist = items
        elif section.title.startswith("How to apply"):
            how = items
        elif section.title == "Related rules":
            related = tuple(m[1] for item in items if (m := _RELATED_ID.match(item)))
    return RuleReference(
        rule_id=rule_id,
        path=path,
        title=title,
        statement=statement,
        sections=sections,
        checklist=checklist,
        how_bullets=how,
        related=related,
        blocks=blocks,
        by_action=_by_action(blocks.get("By action", ())),
    )


def _by_action(items: tuple[mdparse.Block, ...]) -> dict[str, str]:
    found = (_BY_ACTION.match(item.lead) for item in items if item.kind == "item")
    return {match[1]: match[2].strip() for match in found if match}


def action_contract(root: Path, action: str) -> tuple[str, ...]:
    """The labels of an action guide's "Output contract" items ("Goal, non-goals and deadline",
    ...), in order; empty when the guide or the section is missing."""
    path = root / "references" / "actions" / f"{action}.md"
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        return ()
    return _contract_cached(path, modified)


@lru_cache(maxsize=32)
def _contract_cached(path: Path, modified_ns: int) -> tuple[str, ...]:
    """Parsed once per version of the guide, as rule references are: every answer reads one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    for section in mdparse.sections(mdparse.parse(text), level=2):
        if section.title == "Output contract":
            found = (_CONTRACT_LABEL.match(b.lead) for b in mdparse.blocks(section.tokens))
            return tuple(match[1].rstrip(":") for match in found if match)
    return ()


def _item_text(inline: Token) -> str:
    content = " ".join(inline.content.split())
    return content.removeprefix("[ ]").removeprefix("[x]").strip()


def _section_text(section: mdparse.Section, lines: list[str]) -> str:
    spans = [t.map for t in section.tokens if t.level == 0 and t.map is not None and t.nesting >= 0]
    if not spans:
        return ""
    return "\n".join(lines[spans[0][0] : spans[-1][1]]).strip()
