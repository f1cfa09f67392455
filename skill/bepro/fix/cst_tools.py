"""libcst helpers the codemods share: the calls a finding points at, keyword arguments, and
module-level additions (imports, constants) placed where a reader expects them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TypeVar

import libcst as cst
import libcst.matchers as m
from libcst._metadata_dependent import LazyValue
from libcst.metadata import (
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    ScopeProvider,
)

_Item = TypeVar("_Item", cst.Arg, cst.ImportAlias)


def calls_at(wrapper: MetadataWrapper, line: int, column: int) -> list[cst.Call]:
    """Calls starting on `line`, the one starting at `column` (1-based, as findings report) first."""
    positions = wrapper.resolve(PositionProvider)
    found = [
        (positions[node].start.column + 1 != column, positions[node].start.column, node)
        for node in positions
        if isinstance(node, cst.Call) and positions[node].start.line == line
    ]
    return [node for _, _, node in sorted(found, key=lambda item: (item[0], item[1]))]


def calls_around(wrapper: MetadataWrapper, line: int, column: int) -> list[cst.Call]:
    """Calls whose source spans the position (1-based column), innermost first: the call a
    finding about one of its arguments is about."""
    positions = wrapper.resolve(PositionProvider)
    point = (line, column - 1)
    found = [
        (where.start.line, where.start.column, node)
        for node, where in positions.items()
        if isinstance(node, cst.Call)
        and (where.start.line, where.start.column) <= point < (where.end.line, where.end.column)
    ]
    return [node for *_, node in sorted(found, key=lambda item: item[:2], reverse=True)]


def qualified_names(wrapper: MetadataWrapper, node: cst.CSTNode) -> set[str]:
    """`{"requests.get"}` for `requests.get`, `rq.get` or an imported `get`; empty when unknown."""
    found: object = wrapper.resolve(QualifiedNameProvider).get(node, set())
    if isinstance(found, LazyValue):  # the provider resolves names on first access
        found = found()
    return (
        {name.name for name in found if isinstance(name, QualifiedName)}
        if isinstance(found, set)
        else set()
    )


def imports(module: cst.Module, library: str) -> bool:
    """Whether an import statement (not a comment or a string) brings in the library."""
    for node in m.findall(module, m.Import() | m.ImportFrom()):
        if isinstance(node, cst.Import):
            names = [module.code_for_node(alias.name) for alias in node.names]
        else:
            names = (
                [module.code_for_node(node.module)]
                if isinstance(node, cst.ImportFrom) and node.module and not node.relative
                else []
            )
        if any(name.split(".")[0] == library for name in names):
            return True
    return False


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    return next(
        (arg for arg in call.args if arg.keyword is not None and arg.keyword.value == name), None
    )


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value` appended, in the layout of its other arguments."""
    arg = cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    return call.with_changes(args=append_item(call.args, arg, call.whitespace_before_args))


def replace_node(module: cst.Module, old: cst.CSTNode, new: cst.CSTNode) -> cst.Module:
    updated = module.deep_replace(old, new)
    assert isinstance(updated, cst.Module)  # noqa: S101 - replacing a part keeps the module
    return updated


def ensure_constant(
    wrapper: MetadataWrapper, module: cst.Module, name: str, value: str, comment: str
) -> cst.Module:
    """Define `NAME = value` under `# comment` after the imports, unless the module already
    binds the name: a constant the user tuned, or one an earlier fix added."""
    if global_binding(wrapper, name) is not None:
        return module
    return insert_after_imports(module, cst.parse_statement(f"# {comment}\n{name} = {value}\n"))


def added(what: str, tune: str = "per dependency") -> str:
    """The comment above a constant a codemod adds: what it is, who added it, what to tune."""
    return f"{what} (added by `bepro fix`): tune {tune}."


def without_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """`call` without `arg`; the argument before it takes its comma (a trailing comma stays)."""
    args = list(call.args)
    index = next(i for i, existing in enumerate(args) if existing is arg)
    del args[index]
    if index == len(args) and args:
        args[-1] = args[-1].with_changes(comma=arg.comma)
    return call.with_changes(args=args)


def has_star_args(call: cst.Call) -> bool:
    """`f(*args)` or `f(**options)` may already carry any argument: codemods leave such calls alone."""
    return any(arg.star for arg in call.args)


def global_binding(wrapper: MetadataWrapper, name: str) -> set[str] | None:
    """Qualified names `name` is bound to at module level (an empty set: bound to a local value);
    None when the module does not bind it."""
    scope = wrapper.resolve(ScopeProvider)[wrapper.module]
    if scope is None or name not in scope:
        return None
    return {qualified.name for qualified in scope.get_qualified_names_for(name)}


def bound_locally(wrapper: MetadataWrapper, node: cst.CSTNode, name: str) -> bool:
    """Whether a function or class scope around `node` binds `name`: there a module-level name
    would be shadowed."""
    scope = wrapper.resolve(ScopeProvider).get(node)
    while scope is not None and not isinstance(scope, GlobalScope):
        if name in scope.assignments:
            return True
        scope = scope.parent
    return False


def only_used_at(wrapper: MetadataWrapper, name: str, nodes: Sequence[cst.CSTNode]) -> bool:
    """Whether every use of the module-level `name` is one of `nodes`."""
    scope = wrapper.resolve(ScopeProvider)[wrapper.module]
    if scope is None or name not in scope:
        return False
    uses = [ref.node for assignment in scope.assignments[name] for ref in assignment.references]
    return all(any(use is node for node in nodes) for use in uses)


def drop_import_name(module: cst.Module, source_module: str, name: str) -> cst.Module:
    """Remove the import binding `name` from a top-level `from source_module import ...`, or the
    whole statement when it was its only name."""
    for small in _import_froms(module, source_module):
        names = small.names
        assert not isinstance(names, cst.ImportStar)  # noqa: S101 - _imports_from excludes stars
        kept = [alias for alias in names if _bound_name(alias) != name]
        if len(kept) == len(names):
            continue
        if not kept:
            return _remove_small(module, small)
        kept[-1] = kept[-1].with_changes(comma=names[-1].comma)
        updated = module.deep_replace(small, small.with_changes(names=kept))
        assert isinstance(updated, cst.Module)  # noqa: S101 - replacing a statement part
        return updated
    return module


def drop_unused_import(
    wrapper: MetadataWrapper, module: cst.Module, func: cst.BaseExpression, source_module: str
) -> cst.Module:
    """`module` without the import `func` came through (`from source_module import name` for a
    name, `import source_module` for `source_module.name`) when `func` was its only use, as the
    rewrite replaced it: a dangling import is a new ruff error (F401)."""
    if isinstance(func, cst.Name) and only_used_at(wrapper, func.value, [func]):
        return drop_import_name(module, source_module, func.value)
    owner = func.value if isinstance(func, cst.Attribute) else None
    if (
        isinstance(owner, cst.Name)
        and owner.value == source_module
        and only_used_at(wrapper, owner.value, [owner])
    ):
        return drop_import(module, owner.value)
    return module


def drop_import(module: cst.Module, name: str) -> cst.Module:
    """Remove a top-level `import name` statement that imports that one module alone."""
    for statement in module.body:
        if _plain_import_name(statement) == name:
            assert isinstance(statement, cst.SimpleStatementLine)  # noqa: S101 - checked above
            small = statement.body[0]
            if (
                isinstance(small, cst.Import)
                and len(small.names) == 1
                and not small.names[0].asname
            ):
                return _remove_small(module, small)
    return module


def _merged_lines(
    removed: Sequence[cst.EmptyLine], following: Sequence[cst.EmptyLine]
) -> list[cst.EmptyLine]:
    """The lines above a removed line, kept above the next one: its comments, and as many blank
    lines as the larger of the two gaps."""
    if any(line.comment for line in removed):
        return [*removed, *following]
    return list(following if len(following) >= len(removed) else removed)


def _remove_small(module: cst.Module, small: cst.BaseSmallStatement) -> cst.Module:
    """Remove a top-level small statement; a line left empty goes, and the blank lines and
    comments above it stay above the line that follows."""
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine) or small not in statement.body:
            continue
        if len(statement.body) > 1:
            removed = module.deep_remove(small)
            assert isinstance(removed, cst.Module)  # noqa: S101 - removing a statement part
            return removed
        body = list(module.body)
        del body[index]
        if index < len(body):
            following = body[index]
            lines = _merged_lines(statement.leading_lines, following.leading_lines)
            body[index] = following.with_changes(leading_lines=lines)
        return module.with_changes(body=body)
    return module


def _import_froms(module: cst.Module, source_module: str) -> list[cst.ImportFrom]:
    return [
        small
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
        if isinstance(small, cst.ImportFrom) and _imports_from(small, source_module)
    ]


def append_item(
    items: Sequence[_Item], new: _Item, opening: cst.BaseParenthesizableWhitespace
) -> list[_Item]:
    """`items` with `new` last, keeping a magic trailing comma and a one-per-line layout."""
    return insert_item(items, len(items), new, opening)


def insert_item(
    items: Sequence[_Item], index: int, new: _Item, opening: cst.BaseParenthesizableWhitespace
) -> list[_Item]:
    """`items` with `new` at `index`, separated the way the existing items are."""
    result = list(items)
    separator = _separator(result, opening)
    if index < len(result):
        result.insert(index, new.with_changes(comma=separator))
        return result
    last = result[-1] if result else None
    if last is not None and isinstance(last.comma, cst.Comma):
        result[-1] = last.with_changes(comma=_with_comment_of(separator, last.comma))
        result.append(new.with_changes(comma=_without_comment(last.comma)))
    elif isinstance(last, cst.Arg):
        # the line break before `)` follows the last argument: it moves to the new last one
        result[-1] = last.with_changes(
            comma=separator, whitespace_after_arg=cst.SimpleWhitespace("")
        )
        result.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    elif last is not None:
        result[-1] = last.with_changes(comma=separator)
        result.append(new)
    else:
        result.append(new)
    return result


def _separator(items: Sequence[_Item], opening: cst.BaseParenthesizableWhitespace) -> cst.Comma:
    """A comma spaced like the existing ones (one item per line stays so), without the comment
    that may follow one of them: a comment belongs to its own line."""
    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):
        return _without_comment(items[-2].comma)
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return _without_comment(cst.Comma(whitespace_after=opening))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _with_comment_of(comma: cst.Comma, source: cst.Comma) -> cst.Comma:
    """`comma` followed by the comment that followed `source`: it stays on the same line."""
    after, before = comma.whitespace_after, source.whitespace_after
    if (
        isinstance(after, cst.ParenthesizedWhitespace)
        and isinstance(before, cst.ParenthesizedWhitespace)
        and before.first_line.comment is not None
    ):
        return comma.with_changes(whitespace_after=after.with_changes(first_line=before.first_line))
    return comma


def _without_comment(comma: cst.Comma) -> cst.Comma:
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace) and after.first_line.comment is not None:
        return comma.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace())
        )
    return comma


def import_from_name(module: cst.Module, source_module: str, name: str) -> cst.Module:
    """Import `name` from `source_module`: into an existing top-level `from ... import` (sorted the
    way isort/ruff order names: CONSTANTS, Classes, functions), or as a new statement."""
    for small in _import_froms(module, source_module):
        updated = module.deep_replace(small, _with_alias(small, name))
        assert isinstance(updated, cst.Module)  # noqa: S101 - replacing a statement part
        return updated
    line = cst.parse_statement(f"from {source_module} import {name}\n")
    return insert_after_imports(module, line, blank_line=False)


def import_module(wrapper: MetadataWrapper, module: cst.Module, name: str) -> cst.Module | None:
    """`import name` added among the leading `import x` lines (in sorted place) unless the module
    binds the name to that module already; None when it binds the name to something else."""
    binding = global_binding(wrapper, name)
    if binding == {name}:
        return module
    if binding is not None:
        return None
    statement = cst.parse_statement(f"import {name}\n")
    for index, existing in enumerate(module.body):
        if not _is_header(existing, index):
            break
        place = _place_before(existing, name)
        if place is None:
            continue
        lines = list(existing.leading_lines)
        blank = next((i for i, line in enumerate(lines) if line.comment), len(lines))
        statement = statement.with_changes(leading_lines=lines[:blank])
        kept = [cst.EmptyLine()] if place == "section" else []
        moved = existing.with_changes(leading_lines=kept + lines[blank:])
        body = [*module.body[:index], statement, moved, *module.body[index + 1 :]]
        return module.with_changes(body=body)
    return insert_after_imports(module, statement, blank_line=not _ends_with_import(module))


def _ends_with_import(module: cst.Module) -> bool:
    """Whether the module's header ends with an import other than `from __future__`: a new
    import joins that block; after a docstring or future import it starts its own."""
    count = next(
        (i for i, statement in enumerate(module.body) if not _is_header(statement, i)),
        len(module.body),
    )
    last = module.body[count - 1] if count else None
    if not isinstance(last, cst.SimpleStatementLine):
        return False
    small = last.body[-1]
    if isinstance(small, cst.ImportFrom):
        return not (
            small.module is not None and cst.Module([]).code_for_node(small.module) == "__future__"
        )
    return isinstance(small, cst.Import)


def _place_before(existing: cst.BaseStatement, name: str) -> str | None:
    """Where `import name` (a standard-library module) goes relative to an import line, as
    isort orders them: "line" right before it, "section" before it with a blank line between
    (it starts the third-party section), None after it."""
    if not isinstance(existing, cst.SimpleStatementLine) or len(existing.body) != 1:
        return None
    small = existing.body[0]
    if isinstance(small, cst.Import):
        root = cst.Module([]).code_for_node(small.names[0].name)
    elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
        root = cst.Module([]).code_for_node(small.module)
    else:
        return None
    if root == "__future__":
        return None  # future imports stay first
    if root.split(".")[0] not in sys.stdlib_module_names:
        return "section"
    if isinstance(small, cst.ImportFrom) or root > name:
        return "line"
    return None


def _plain_import_name(statement: cst.BaseStatement) -> str:
    """`os` for `import os`; empty for anything else (a from-import, a docstring)."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Import):
            return cst.Module([]).code_for_node(small.names[0].name)
    return ""


def _imports_from(small: cst.BaseSmallStatement, source_module: str) -> bool:
    if not isinstance(small, cst.ImportFrom) or small.relative or small.module is None:
        return False
    return cst.Module([]).code_for_node(small.module) == source_module and not isinstance(
        small.names, cst.ImportStar
    )


def _isort_key(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _with_alias(statement: cst.ImportFrom, name: str) -> cst.ImportFrom:
    names = statement.names
    assert not isinstance(names, cst.ImportStar)  # noqa: S101 - _imports_from excludes stars
    index = next(
        (i for i, alias in enumerate(names) if _isort_key(_alias_name(alias)) > _isort_key(name)),
        len(names),
    )
    opening = statement.lpar.whitespace_after if statement.lpar else cst.SimpleWhitespace(" ")
    alias = cst.ImportAlias(name=cst.Name(name))
    return statement.with_changes(names=insert_item(names, index, alias, opening))


def _bound_name(alias: cst.ImportAlias) -> str:
    """The name an import alias binds: `now` for `time as now`, `time` for `time`."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _alias_name(alias)


def _alias_name(alias: cst.ImportAlias) -> str:
    return cst.Module([]).code_for_node(alias.name)


def insert_after_imports(
    module: cst.Module,
    statement: cst.SimpleStatementLine | cst.BaseCompoundStatement,
    blank_line: bool = True,
) -> cst.Module:
    """Insert a statement after the module's leading docstring and imports."""
    index = next(
        (i for i, existing in enumerate(module.body) if not _is_header(existing, i)),
        len(module.body),
    )
    if blank_line and index > 0:
        statement = statement.with_changes(
            leading_lines=[cst.EmptyLine(), *statement.leading_lines]
        )
    return module.with_changes(body=[*module.body[:index], statement, *module.body[index:]])


def _is_header(statement: cst.BaseStatement, index: int) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all(
        isinstance(small, cst.Import | cst.ImportFrom)
        or (
            index == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        )
        for small in statement.body
    )
