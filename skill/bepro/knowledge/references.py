"""Structured access to the reference files: a rule's sections, its Do/Don't code, its checklist."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markdown_it.token import Token

from bepro import mdparse

_RELATED_ID = re.compile(r"^`([a-z0-9-]+)`")


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
    code: dict[str, str] = field(default_factory=dict)

    @property
    def do_code(self) -> str | None:
        return self.code.get("Do")

    @property
    def dont_code(self) -> str | None:
        return self.code.get("Don't")


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
    code: dict[str, str] = {}
    checklist: tuple[str, ...] = ()
    how: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    for section in mdparse.sections(tokens, level=2):
        sections[section.title] = _section_text(section, lines)
        fence = first_python_fence(section.tokens)
        if fence is not None:
            code[section.title] = fence.content
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
        code=code,
    )


def first_python_fence(tokens: list[Token]) -> Token | None:
    return next(
        (
            t
            for t in tokens
            if t.type == "fence" and t.info.strip().split(" ")[0] in ("python", "py")
        ),
        None,
    )


def _item_text(inline: Token) -> str:
    content = " ".join(inline.content.split())
    return content.removeprefix("[ ]").removeprefix("[x]").strip()


def _section_text(section: mdparse.Section, lines: list[str]) -> str:
    spans = [t.map for t in section.tokens if t.level == 0 and t.map is not None and t.nesting >= 0]
    if not spans:
        return ""
    return "\n".join(lines[spans[0][0] : spans[-1][1]]).strip()
