"""Parse SKILL.md (markdown-it-py tokens, not regexes over raw text) into a typed Catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import yaml
from markdown_it.token import Token

from bepro import mdparse
from bepro.catalogue.model import (
    Action,
    Catalogue,
    Category,
    Rule,
    Severity,
    SkillMeta,
    WorkflowStep,
)
from bepro.errors import CatalogueError

ALLOWED_FRONTMATTER_KEYS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
MAX_BODY_LINES = 500
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CATEGORY_HEADING = re.compile(r"^(\d+)\.\s+(.+?)\s+\((\w+)\)$")
_ACTIONS_IN_DESCRIPTION = re.compile(r"Actions:\s*([a-z ,]+?)\s+backend", re.IGNORECASE)


class _Source:
    """Turns token lines (0-based, relative to the body) into file lines for error messages."""

    def __init__(self, path: Path, body_offset: int) -> None:
        self.path = path
        self.body_offset = body_offset

    def fail(self, body_line: int, problem: str, hint: str = "") -> CatalogueError:
        return self.fail_at(self.body_offset + body_line + 1, problem, hint)

    def fail_at(self, file_line: int, problem: str, hint: str = "") -> CatalogueError:
        return CatalogueError(f"{self.path}:{file_line}: {problem}", hint)


def parse_catalogue(text: str, path: Path = Path("SKILL.md")) -> Catalogue:
    front = mdparse.split_frontmatter(text)
    source = _Source(path, front.body_offset)
    meta = _parse_frontmatter(front, source)
    body_lines = front.body.count("\n")
    if body_lines >= MAX_BODY_LINES:
        raise source.fail_at(
            MAX_BODY_LINES, f"body has {body_lines} lines; Agent Skills allow fewer than 500"
        )
    sections = {s.title: s for s in mdparse.sections(mdparse.parse(front.body), level=2)}
    categories = _parse_categories(_section(sections, "Priority Model", source), source)
    rules, severities = _parse_rules(
        _section(sections, "Quick Reference", source), categories, source
    )
    categories = tuple(
        cat.model_copy(update={"severity": severities[cat.name]}) for cat in categories
    )
    actions = _parse_actions(_section(sections, "Actions", source), categories, source)
    _check_actions_match_description(actions, meta, source)
    workflow = _parse_workflow(_section(sections, "Execution Workflow", source))
    return Catalogue(
        meta=meta, categories=categories, rules=rules, actions=actions, workflow=workflow
    )


def _section(sections: dict[str, mdparse.Section], prefix: str, source: _Source) -> mdparse.Section:
    for title, section in sections.items():
        if title.startswith(prefix):
            return section
    raise source.fail_at(1, f"no '## {prefix}' section", "restore the section from the seed")


def _parse_frontmatter(front: mdparse.Frontmatter, source: _Source) -> SkillMeta:
    if front.yaml is None:
        raise source.fail_at(1, "no frontmatter", "start the file with a '---' YAML block")
    try:
        data: Any = yaml.safe_load(front.yaml)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise source.fail_at(line, f"frontmatter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise source.fail_at(2, "frontmatter must be a YAML mapping")
    unknown = sorted(set(data) - ALLOWED_FRONTMATTER_KEYS)
    if unknown:
        raise source.fail_at(
            _frontmatter_line(front.yaml, unknown[0]),
            f"frontmatter key {unknown[0]!r} is not allowed",
            f"allowed keys: {', '.join(sorted(ALLOWED_FRONTMATTER_KEYS))}",
        )
    name = data.get("name")
    description = data.get("description")
    if not isinstance(name, str) or not _KEBAB.match(name) or len(name) > MAX_NAME_LENGTH:
        raise source.fail_at(
            _frontmatter_line(front.yaml, "name"),
            f"frontmatter name {name!r} must be kebab-case, at most {MAX_NAME_LENGTH} characters",
        )
    if not isinstance(description, str) or not description.strip():
        raise source.fail_at(
            _frontmatter_line(front.yaml, "description"), "frontmatter needs a description"
        )
    if len(description) > MAX_DESCRIPTION_LENGTH or "<" in description or ">" in description:
        raise source.fail_at(
            _frontmatter_line(front.yaml, "description"),
            f"description must be at most {MAX_DESCRIPTION_LENGTH} characters with no '<' or '>'",
        )
    return SkillMeta(name=name, description=description)


def _frontmatter_line(yaml_text: str, key: str) -> int:
    for index, line in enumerate(yaml_text.splitlines()):
        if line.startswith(f"{key}:"):
            return index + 2
    return 1


def _parse_categories(section: mdparse.Section, source: _Source) -> tuple[Category, ...]:
    categories: list[Category] = []
    for line, cells in mdparse.table_rows(section.tokens):
        if len(cells) != 4 or not cells[0].isdigit():
            raise source.fail(line, "a priority row needs: Priority | Category | Goal | Signals")
        priority = int(cells[0])
        if priority != len(categories) + 1:
            raise source.fail(
                line, f"priority {priority} is out of order; expected {len(categories) + 1}"
            )
        signals = tuple(signal.strip() for signal in cells[3].split(",") if signal.strip())
        categories.append(
            Category(
                priority=priority, name=cells[1], goal=cells[2], signals=signals, severity="MEDIUM"
            )
        )
    if not categories:
        raise source.fail(section.line, "the priority model table has no rows")
    return tuple(categories)


def _parse_rules(
    section: mdparse.Section, categories: tuple[Category, ...], source: _Source
) -> tuple[tuple[Rule, ...], dict[str, Severity]]:
    by_name = {cat.name: cat for cat in categories}
    rules: list[Rule] = []
    first_seen: dict[str, int] = {}
    severities: dict[str, Severity] = {}
    stray = mdparse.list_items(_tokens_before_first_heading(section.tokens))
    if stray:
        raise source.fail(
            stray[0][0], "a rule outside a category", "put it under a '### N. Category' heading"
        )
    for sub in mdparse.sections(section.tokens, level=3):
        category, severity = _category_heading(sub, by_name, source)
        severities[category.name] = severity
        for line, inline in mdparse.list_items(sub.tokens):
            rule_id, summary = _rule_item(inline, line, source)
            file_line = source.body_offset + line + 1
            if rule_id in first_seen:
                raise source.fail(
                    line, f"duplicate rule id {rule_id!r} (first at line {first_seen[rule_id]})"
                )
            first_seen[rule_id] = file_line
            rules.append(
                Rule(
                    id=rule_id,
                    summary=summary,
                    category=category.name,
                    priority=category.priority,
                    severity=severity,
                    line=file_line,
                )
            )
    missing = [cat.name for cat in categories if cat.name not in severities]
    if missing:
        raise source.fail(section.line, f"category {missing[0]!r} has no rules section")
    return tuple(rules), severities


def _tokens_before_first_heading(tokens: list[Token]) -> list[Token]:
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            return tokens[:index]
    return tokens


def _category_heading(
    sub: mdparse.Section, by_name: dict[str, Category], source: _Source
) -> tuple[Category, Severity]:
    match = _CATEGORY_HEADING.match(sub.title)
    if match is None:
        raise source.fail(sub.line, f"heading {sub.title!r} must read 'N. Category (SEVERITY)'")
    number, name, severity = int(match[1]), match[2], match[3]
    category = by_name.get(name)
    if category is None or category.priority != number:
        raise source.fail(
            sub.line, f"heading {sub.title!r} does not match the priority model table"
        )
    if severity not in get_args(Severity):
        raise source.fail(
            sub.line, f"unknown severity {severity!r}", "use CRITICAL, HIGH or MEDIUM"
        )
    return category, severity  # type: ignore[return-value]  # checked against Severity above


def _rule_item(inline: Token, line: int, source: _Source) -> tuple[str, str]:
    children = inline.children or []
    if not children or children[0].type != "code_inline":
        raise source.fail(line, "a rule line must start with its id in backticks: - `id` - summary")
    rule_id = children[0].content
    if not _KEBAB.match(rule_id):
        raise source.fail(line, f"rule id {rule_id!r} must be kebab-case")
    rest = "".join(child.content for child in children[1:]).strip()
    summary = rest.removeprefix("-").removeprefix("—").strip()
    if not summary:
        raise source.fail(line, f"rule {rule_id!r} has no summary")
    return rule_id, summary


def _parse_actions(
    section: mdparse.Section, categories: tuple[Category, ...], source: _Source
) -> tuple[Action, ...]:
    names = {cat.name for cat in categories}
    actions: list[Action] = []
    for line, cells in mdparse.table_rows(section.tokens):
        if len(cells) != 3:
            raise source.fail(line, "an action row needs: Action | Produces | Weighs most")
        focus = tuple(part.strip() for part in cells[2].split(",") if part.strip())
        unknown = [name for name in focus if name not in names]
        if unknown:
            raise source.fail(line, f"action {cells[0]!r} weighs unknown category {unknown[0]!r}")
        actions.append(
            Action(
                name=cells[0], produces=cells[1], focus=focus, line=source.body_offset + line + 1
            )
        )
    return tuple(actions)


def _check_actions_match_description(
    actions: tuple[Action, ...], meta: SkillMeta, source: _Source
) -> None:
    match = _ACTIONS_IN_DESCRIPTION.search(meta.description)
    if match is None:
        return
    listed = tuple(name.strip() for name in match[1].split(",") if name.strip())
    if listed != tuple(action.name for action in actions):
        raise source.fail_at(
            3, "the Actions table does not list the description's actions in the same order"
        )


def _parse_workflow(section: mdparse.Section) -> tuple[WorkflowStep, ...]:
    items = mdparse.list_items(section.tokens)
    return tuple(
        WorkflowStep(number=index, text=mdparse.plain_text(inline))
        for index, (_, inline) in enumerate(items, start=1)
    )
