"""What a detector sees: the node, its ancestors, the module's imports, and small AST helpers."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

_Fact = TypeVar("_Fact")


@dataclass
class ModuleContext:
    """Per-file facts shared by all detectors during the single walk over a module."""

    path: str
    tree: ast.Module
    source: str
    aliases: dict[str, str] = field(default_factory=dict)
    stack: list[ast.AST] = field(default_factory=list)
    _call_names: dict[int, str | None] = field(default_factory=dict)
    _text_matches: dict[re.Pattern[str], bool] = field(default_factory=dict)
    _facts: dict[Callable[..., Any], Any] = field(default_factory=dict)

    imported_roots: frozenset[str] = frozenset()
    import_statements: list[ast.Import | ast.ImportFrom] = field(default_factory=list)

    @classmethod
    def build(cls, path: str, source: str, tree: ast.Module) -> ModuleContext:
        context = cls(path=path, tree=tree, source=source)
        context.import_statements = [
            node for node in statements(tree.body) if isinstance(node, ast.Import | ast.ImportFrom)
        ]
        context.aliases = _import_aliases(context.import_statements)
        context.imported_roots = frozenset(name.split(".")[0] for name in context.aliases.values())
        return context

    @cached_property
    def lines(self) -> list[str]:
        """The source's lines, split when a detector or a suppression first needs them."""
        return self.source.splitlines()

    def imports_any(self, roots: frozenset[str]) -> bool:
        """Whether the module imports any of these top-level packages: a cheap gate that lets a
        detector skip modules that cannot contain its shape."""
        return not self.imported_roots.isdisjoint(roots)

    def text_matches(self, pattern: re.Pattern[str]) -> bool:
        """Whether the module's text matches: a necessary condition a detector can check, once per
        module, before costlier analysis."""
        if pattern not in self._text_matches:
            self._text_matches[pattern] = pattern.search(self.source) is not None
        return self._text_matches[pattern]

    def fact(self, build: Callable[[ModuleContext], _Fact]) -> _Fact:
        """A per-module fact several detectors ask for (a binding table, helper functions),
        built on first use. It lives on the context, not in a table keyed by the tree: a fact
        that refers to the tree would keep it alive past the file, for the cyclic GC to find."""
        if build not in self._facts:
            self._facts[build] = build(self)
        result: _Fact = self._facts[build]
        return result

    def qualified_name(self, node: ast.AST) -> str | None:
        """`requests.get` for `requests.get`, `rq.get` (import requests as rq) or `get` (from import)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, node.id)
        return ".".join([head, *reversed(parts)])

    def call_name(self, call: ast.Call) -> str | None:
        """The qualified name of what a call calls, memoised: many detectors ask for each call."""
        key = id(call)
        if key not in self._call_names:
            self._call_names[key] = self.qualified_name(call.func)
        return self._call_names[key]

    def ancestors(self) -> list[ast.AST]:
        """Ancestors of the node being visited, nearest first."""
        return list(reversed(self.stack))

    def enclosing_function(self) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        for node in reversed(self.stack):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
            if isinstance(node, ast.Lambda | ast.ClassDef):
                return None
        return None

    def in_async_function(self) -> bool:
        return isinstance(self.enclosing_function(), ast.AsyncFunctionDef)

    def enclosing_loop(self) -> ast.For | ast.AsyncFor | ast.While | None:
        """The nearest `for` or `while` loop around the node inside the same function."""
        for node in reversed(self.stack):
            if isinstance(node, ast.For | ast.AsyncFor | ast.While):
                return node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
                return None
        return None

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""


def _block_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node type that hold statements, last first (the order they are stacked)."""
    fields = ("cases", "handlers", "finalbody", "orelse", "body")
    return tuple(name for name in fields if name in node_type._fields)


_HOLDERS: tuple[type[ast.AST], ...] = (
    *ast.stmt.__subclasses__(),
    ast.ExceptHandler,
    ast.match_case,
)
_BLOCKS = {node_type: _block_fields(node_type) for node_type in _HOLDERS}


def statements(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every statement, nested ones included, in source order, without descending into
    expressions: imports are statements, and expressions are most of a tree's nodes. A stack,
    not recursion: every module is walked this way before its review."""
    todo: list[ast.AST] = list(reversed(body))
    while todo:
        statement = todo.pop()
        yield statement
        for name in _BLOCKS.get(type(statement), ()):
            inner = getattr(statement, name, None)
            if isinstance(inner, list):
                todo.extend(reversed(inner))


def _import_aliases(imports: list[ast.Import | ast.ImportFrom]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((kw for kw in call.keywords if kw.arg == name), None)


def has_kwargs_splat(call: ast.Call) -> bool:
    """`f(**options)` may carry any keyword: detectors treat it as 'maybe set' to stay precise."""
    return any(kw.arg is None for kw in call.keywords)


def is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def string_parts(node: ast.AST) -> str:
    """The literal text of a str constant or f-string (formatted values become {})."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}"
            for part in node.values
        )
    return ""
