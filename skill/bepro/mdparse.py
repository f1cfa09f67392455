"""Markdown helpers on top of markdown-it-py, shared by the catalogue parser and the chunker."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def parse(text: str) -> list[Token]:
    return _parser().parse(text)


def source_lines(text: str) -> list[str]:
    """The lines as markdown-it numbers them in `Token.map`: only \\n, \\r\\n and \\r end one
    (str.splitlines also breaks at \\f, \\x1e, \\u2028..., which would shift every map after)."""
    return _LINE_BREAK.split(text)


@dataclass(frozen=True)
class Frontmatter:
    """The raw YAML between the opening `---` lines and where the body starts (0-based line)."""

    yaml: str | None
    body: str
    body_offset: int


def split_frontmatter(text: str) -> Frontmatter:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return Frontmatter(None, text, 0)
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            yaml_text = "".join(lines[1:index])
            return Frontmatter(yaml_text, "".join(lines[index + 1 :]), index + 1)
    return Frontmatter("".join(lines[1:]), "", len(lines))


@dataclass
class Section:
    """A heading and the block tokens under it, up to the next heading of the same or higher level."""

    level: int
    title: str
    line: int
    tokens: list[Token] = field(default_factory=list)


def sections(tokens: list[Token], level: int) -> list[Section]:
    """Split a token stream on headings of exactly `level` (deeper headings stay inside)."""
    result: list[Section] = []
    current: Section | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            token_level = int(token.tag[1])
            if token_level <= level:
                title = tokens[index + 1].content.strip()
                line = token.map[0] if token.map else 0
                current = Section(token_level, title, line) if token_level == level else None
                if current is not None:
                    result.append(current)
                index += 3
                continue
        if current is not None:
            current.tokens.append(token)
        index += 1
    return result


def table_rows(tokens: list[Token]) -> list[tuple[int, list[str]]]:
    """Body rows of the first table in `tokens`, each with its 0-based line and cell texts."""
    rows: list[tuple[int, list[str]]] = []
    in_body = False
    row_line = 0
    cells: list[str] = []
    for token in tokens:
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "table_close":
            break
        elif in_body and token.type == "tr_open":
            row_line = token.map[0] if token.map else 0
            cells = []
        elif in_body and token.type == "inline":
            cells.append(token.content.strip())
        elif in_body and token.type == "tr_close":
            rows.append((row_line, cells))
    return rows


def list_items(tokens: list[Token]) -> list[tuple[int, Token]]:
    """The inline token of each top-level list item's first paragraph, with its 0-based line."""
    items: list[tuple[int, Token]] = []
    depth = 0
    expecting = False
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "list_item_open" and depth == 1:
            expecting = True
        elif token.type == "inline" and expecting:
            items.append((token.map[0] if token.map else 0, token))
            expecting = False
    return items


def plain_text(inline: Token) -> str:
    """The text of an inline token with markup removed (code spans keep their content)."""
    parts = [
        child.content
        for child in inline.children or []
        if child.type in ("text", "code_inline", "softbreak")
    ]
    return "".join(part or " " for part in parts).strip()
