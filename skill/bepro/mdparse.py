"""Markdown helpers on top of markdown-it-py, shared by the catalogue parser, the chunker and the
reference parser (which renders sections back to markdown, block by block)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

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
        # Only top-level headings split: one inside a list item or a quote ("- # x") belongs to
        # that block, and splitting there would leave a section with unclosed tokens.
        if token.type == "heading_open" and token.level == 0:
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


BlockKind = Literal["paragraph", "item", "table", "code", "heading", "quote", "other"]
_LISTS = ("bullet_list", "ordered_list")
_ALIGN = {"text-align:left": ":---", "text-align:center": ":---:", "text-align:right": "---:"}


@dataclass(frozen=True)
class Block:
    """The unit a section is trimmed by: a paragraph, a table, a code block, or one top-level list
    item with everything nested under it, rendered back to markdown. Keeping or dropping whole
    blocks is what stops a parent bullet from being shown without its children."""

    kind: BlockKind
    lines: tuple[str, ...]
    lead: str = ""  # the text of its first paragraph on one line ("" for tables and code)


def blocks(tokens: list[Token]) -> list[Block]:
    """The top-level blocks of a balanced token run (a `Section`'s tokens), lists split into
    their items."""
    found: list[Block] = []
    for node in SyntaxTreeNode(tokens).children:
        if node.type in _LISTS:
            found.extend(
                Block("item", tuple(_item(item, marker)), _lead(item))
                for item, marker in zip(node.children, _markers(node), strict=True)
            )
        else:
            found.append(Block(_kind(node), tuple(render(node)), _lead(node)))
    return found


def render(node: SyntaxTreeNode) -> list[str]:
    """Markdown for one block node and everything under it: nested lists keep their indentation,
    tables stay tables, code stays whole (a fence longer than any run of backticks inside)."""
    if node.type == "paragraph":
        return [inline_text(node.children[0])] if node.children else []
    if node.type == "heading":
        return [f"{'#' * int(node.tag[1])} {_child_text(node)}"]
    if node.type in ("fence", "code_block"):
        return _fence(node.content, node.info.strip() if node.type == "fence" else "")
    if node.type in _LISTS:
        return [
            line
            for item, marker in zip(node.children, _markers(node), strict=True)
            for line in _item(item, marker)
        ]
    if node.type == "table":
        return _table(node)
    if node.type == "blockquote":
        return [f"> {line}".rstrip() for line in _stack(node.children, loose=True)]
    if node.type == "hr":
        return ["---"]
    if node.type == "html_block":
        return node.content.rstrip("\n").split("\n")
    return []


def inline_text(inline: SyntaxTreeNode) -> str:
    """An inline node's markdown on one line: soft line breaks of the source become spaces."""
    return " ".join(line.strip() for line in inline.content.split("\n")).strip()


def _item(item: SyntaxTreeNode, marker: str) -> list[str]:
    body = _stack(item.children, loose=_is_loose(item))
    if not body:
        return [marker]
    pad = " " * (len(marker) + 1)
    return [f"{marker} {body[0]}", *(f"{pad}{line}" if line else "" for line in body[1:])]


def _stack(children: list[SyntaxTreeNode], loose: bool) -> list[str]:
    """Child blocks one after another; a blank line between them only where the source had one,
    since a blank line inside a tight list item would make the whole list loose."""
    lines: list[str] = []
    for child in children:
        rendered = render(child)
        if lines and rendered and loose:
            lines.append("")
        lines.extend(rendered)
    return lines


def _is_loose(item: SyntaxTreeNode) -> bool:
    return any(child.type == "paragraph" and not child.hidden for child in item.children)


def _markers(node: SyntaxTreeNode) -> list[str]:
    if node.type == "bullet_list":
        return ["-"] * len(node.children)
    start = node.attrs.get("start", 1)
    first = start if isinstance(start, int) else 1
    delimiter = node.markup or "."
    return [f"{first + index}{delimiter}" for index in range(len(node.children))]


def _fence(content: str, info: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *content.rstrip("\n").split("\n"), fence]


def _table(node: SyntaxTreeNode) -> list[str]:
    rows = [row for part in node.children for row in part.children]
    if not rows:
        return []
    header = rows[0].children
    separator = [_ALIGN.get(str(cell.attrs.get("style", "")), "---") for cell in header]
    return [_row(header), _row_text(separator), *(_row(row.children) for row in rows[1:])]


def _row(cells: list[SyntaxTreeNode]) -> str:
    # markdown-it unescapes `\|` inside cells: escape every pipe again, or the row splits
    return _row_text([_child_text(cell).replace("|", "\\|") for cell in cells])


def _row_text(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _child_text(node: SyntaxTreeNode) -> str:
    return inline_text(node.children[0]) if node.children else ""


def _lead(node: SyntaxTreeNode) -> str:
    if node.type == "paragraph":
        return _child_text(node)
    if node.type in ("list_item", "blockquote"):
        first = node.children[0] if node.children else None
        return _lead(first) if first is not None and first.type == "paragraph" else ""
    return ""


def _kind(node: SyntaxTreeNode) -> BlockKind:
    kinds: dict[str, BlockKind] = {
        "paragraph": "paragraph",
        "table": "table",
        "fence": "code",
        "code_block": "code",
        "heading": "heading",
        "blockquote": "quote",
    }
    return kinds.get(node.type, "other")
