"""Heading-aware chunking of the pack's markdown into retrievable chunks with metadata.

Chunks follow headings (a rule reference splits at its `##` sections), never split a fenced code
block, and stay under MAX_CHUNK_CHARS unless one block alone is larger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from markdown_it.token import Token

from bepro import mdparse
from bepro.catalogue.model import Catalogue
from bepro.knowledge.references import SYNC_VARIANT

Kind = Literal["rule", "reference", "python-core", "action", "workflow"]

MAX_CHUNK_CHARS = 700
EMBEDDED_CODE_LINES = 4
CHUNKER_VERSION = "2"
_SKIPPED_REFERENCE_SECTIONS = frozenset({"Related rules"})


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    heading: str
    text: str
    kind: Kind
    rule_id: str | None
    category: str | None
    priority: int | None
    action: str | None
    line: int

    def document(self) -> str:
        """The text that is stored and keyword-indexed: heading path first, for context."""
        return f"{self.heading}\n{self.text}"

    def embedding_text(self) -> str:
        """The text that is embedded: the document with code blocks cut to their first lines.

        A small sentence model reads prose far better than code, and code is most of the
        tokens, so cutting it both sharpens the vectors and makes a full build fast.
        """
        kept: list[str] = []
        in_code = False
        code_lines = 0
        for line in self.document().splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                in_code, code_lines = not in_code, 0
                continue
            code_lines += in_code
            if not in_code or code_lines <= EMBEDDED_CODE_LINES:
                kept.append(line)
        return "\n".join(kept)


@dataclass(frozen=True)
class _Block:
    heading: str
    text: str
    line: int


def pack_sources(root: Path) -> list[Path]:
    """Every markdown file the index covers, in a stable order."""
    references = sorted((root / "references").rglob("*.md"))
    return [root / "SKILL.md", *references]


def content_hash(root: Path) -> str:
    digest = hashlib.sha256(CHUNKER_VERSION.encode())
    for path in pack_sources(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def chunk_pack(root: Path, catalogue: Catalogue) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in pack_sources(root):
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        chunks.extend(chunk_file(relative, text, catalogue))
    return chunks


def chunk_file(source: str, text: str, catalogue: Catalogue) -> list[Chunk]:
    """Chunks of one markdown file; `source` is its path relative to the pack root."""
    if source == "SKILL.md":
        return list(_skill_chunks(text, catalogue))
    parts = source.split("/")
    if len(parts) == 3 and parts[1] == "rules":
        return _reference_chunks(source, text, catalogue, parts[2].removesuffix(".md"))
    if len(parts) == 3 and parts[1] == "actions":
        return _chunks_from_blocks(source, text, "action", action=parts[2].removesuffix(".md"))
    kind: Kind = "python-core" if parts[-1] == "python-core.md" else "reference"
    return _chunks_from_blocks(source, text, kind)


def _skill_chunks(text: str, catalogue: Catalogue) -> Iterator[Chunk]:
    """SKILL.md: one chunk per rule line, plus its other sections as whole blocks."""
    front = mdparse.split_frontmatter(text)
    for rule in catalogue.rules:
        category = catalogue.category(rule.category)
        goal = category.goal if category else ""
        yield Chunk(
            id=f"SKILL.md#rule-{rule.id}",
            source="SKILL.md",
            heading=f"Quick Reference > {rule.category} > {rule.id}",
            text=f"`{rule.id}` - {rule.summary}. Category: {rule.category} ({goal}).",
            kind="rule",
            rule_id=rule.id,
            category=rule.category,
            priority=rule.priority,
            action=None,
            line=rule.line,
        )
    for action in catalogue.actions:
        yield Chunk(
            id=f"SKILL.md#action-{action.name}",
            source="SKILL.md",
            heading=f"Actions > {action.name}",
            text=f"`{action.name}` produces: {action.produces}. Weighs most: {', '.join(action.focus)}.",
            kind="action",
            rule_id=None,
            category=None,
            priority=None,
            action=action.name,
            line=action.line,
        )
    lines = mdparse.source_lines(front.body)
    tokens = mdparse.parse(front.body)
    for section in mdparse.sections(tokens, level=2):
        # rules and actions are chunked one by one above; "References" is only links to files
        # that are chunked themselves
        if section.title.startswith(("Quick Reference", "Actions", "References")):
            continue
        for index, block in enumerate(_blocks(section, [section.title], lines)):
            key = f"{section.title}-{index}"
            yield _make_chunk(
                "SKILL.md", key, block, "workflow", None, catalogue, line_offset=front.body_offset
            )


def _reference_chunks(source: str, text: str, catalogue: Catalogue, rule_id: str) -> list[Chunk]:
    rule = catalogue.rule(rule_id)
    title = f"{rule_id}: {rule.summary}" if rule else rule_id
    return _chunks_from_blocks(
        source, text, "reference", title=title, rule_id=rule_id, catalogue=catalogue
    )


def _chunks_from_blocks(
    source: str,
    text: str,
    kind: Kind,
    action: str | None = None,
    title: str | None = None,
    rule_id: str | None = None,
    catalogue: Catalogue | None = None,
) -> list[Chunk]:
    """The intro, then each `##` section, as bounded chunks; a rule's reference skips the
    sections that are about other rules."""
    lines = mdparse.source_lines(text)
    tokens = mdparse.parse(text)
    title = title or _first_heading(tokens) or source
    skipped = _SKIPPED_REFERENCE_SECTIONS if rule_id else frozenset()

    def chunk(key: str, block: _Block) -> Chunk:
        return _make_chunk(source, key, block, kind, rule_id, catalogue, action=action)

    chunks = [
        chunk(f"intro-{i}", block) for i, block in enumerate(_intro_blocks(tokens, lines, title))
    ]
    for section in mdparse.sections(tokens, level=2):
        if section.title in skipped:
            continue
        for index, block in enumerate(_blocks(section, [title, section.title], lines)):
            chunks.append(chunk(f"{section.title}-{index}", block))
    return chunks


def _make_chunk(
    source: str,
    key: str,
    block: _Block,
    kind: Kind,
    rule_id: str | None,
    catalogue: Catalogue | None,
    action: str | None = None,
    line_offset: int = 0,
) -> Chunk:
    rule = catalogue.rule(rule_id) if catalogue and rule_id else None
    slug = "-".join(key.lower().split())
    return Chunk(
        id=f"{source}#{slug}",
        source=source,
        heading=block.heading,
        text=block.text,
        kind=kind,
        rule_id=rule.id if rule else None,
        category=rule.category if rule else None,
        priority=rule.priority if rule else None,
        action=action,
        line=block.line + line_offset + 1,
    )


def _first_heading(tokens: list[Token]) -> str | None:
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            return tokens[index + 1].content.strip()
    return None


def _intro_blocks(tokens: list[Token], lines: list[str], title: str) -> list[_Block]:
    """The text between the first heading and the first `##` heading, if any."""
    body: list[Token] = []
    seen_title = False
    for token in tokens:
        if token.type == "heading_open" and token.tag == "h1" and not seen_title:
            seen_title = True
            continue
        if token.type == "heading_open" and token.tag != "h1":
            break
        if seen_title:
            body.append(token)
    intro = mdparse.Section(level=1, title=title, line=0, tokens=body)
    return list(_blocks(intro, [title], lines))


def _top_level_ranges(tokens: list[Token]) -> list[tuple[int, int]]:
    """Line ranges of the top-level blocks; a list counts item by item, so long lists can split."""
    ranges: list[tuple[int, int]] = []
    for token in tokens:
        if token.map is None or token.nesting < 0:
            continue
        is_list = token.type in ("bullet_list_open", "ordered_list_open")
        if (token.level == 0 and not is_list) or (
            token.level == 1 and token.type == "list_item_open"
        ):
            ranges.append((token.map[0], token.map[1]))
    return ranges


def _blocks(
    section: mdparse.Section, heading_path: list[str], lines: list[str]
) -> Iterator[_Block]:
    """Group a section's top-level blocks into chunks of at most MAX_CHUNK_CHARS.

    A block is never split, so a fenced code block always stays whole. A reference's
    synchronous Do example is left out: it repeats the rule for another stack, and its stack
    words ("Django", "Celery") drew questions about those stacks to the five rules that have one.
    """
    heading = " > ".join(heading_path)
    group: list[str] = []
    group_line = 0
    size = 0
    variant = False  # inside a Do section's synchronous variant: its paragraph and code
    for start, end in _top_level_ranges(section.tokens):
        block_text = "\n".join(lines[start:end]).strip()
        if block_text.startswith(SYNC_VARIANT) or variant:
            variant = not variant  # the paragraph opens it, the block after it closes it
            continue
        if not block_text:
            continue
        if group and size + len(block_text) > MAX_CHUNK_CHARS:
            yield _Block(heading, "\n\n".join(group), group_line)
            group, size = [], 0
        if not group:
            group_line = start
        group.append(block_text)
        size += len(block_text) + 2
    if group:
        yield _Block(heading, "\n\n".join(group), group_line)
