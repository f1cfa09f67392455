"""Detectors for statelessness: per-process state mutated by request handlers."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bepro.review.context import ModuleContext
from bepro.review.detectors._scope import walk
from bepro.review.registry import Hit, detector

_ROUTE_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket"}
)
_CONTAINER_CALLS = frozenset({"dict", "list", "set", "collections.defaultdict", "collections.Counter",
                              "collections.OrderedDict", "collections.deque"})  # fmt: skip
_MUTATORS = frozenset({"append", "add", "update", "setdefault", "pop", "popitem", "clear", "extend",
                       "insert", "remove", "discard", "appendleft"})  # fmt: skip


def _module_containers(context: ModuleContext) -> frozenset[str]:
    """Names bound at module level to a mutable container literal or constructor."""
    names: set[str] = set()
    for statement in context.tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        mutable = isinstance(value, ast.Dict | ast.List | ast.Set) or (
            isinstance(value, ast.Call) and context.call_name(value) in _CONTAINER_CALLS
        )
        if mutable:
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return frozenset(names)


def _is_route_handler(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in _ROUTE_VERBS:
            return True
    return False


def _mutated_name(node: ast.AST) -> ast.Name | None:
    """The container a statement mutates in place: X[k] = v, X[k] += v, del X[k], X.append(v)."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign | ast.Delete):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign):
        targets = [node.target]
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _MUTATORS
            and isinstance(func.value, ast.Name)
        ):
            return func.value
    for target in targets:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return target.value
    return None


@detector(
    "handler-mutates-module-state", "stateless", nodes=(ast.FunctionDef, ast.AsyncFunctionDef)
)
def handler_mutates_module_state(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A route handler writing to a module-level dict/list/set keeps state in one process: with
    two workers or a restart, sessions, counters and caches silently diverge or vanish."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)  # noqa: S101 - registered node types
    if not _is_route_handler(node):
        return
    containers = context.fact(_module_containers)
    if not containers:  # most modules keep no container at module level: nothing to walk for
        return
    for child in walk(node):
        name = _mutated_name(child)
        if name is not None and name.id in containers:
            yield Hit(
                child,
                f"handler `{node.name}` mutates module-level `{name.id}`: per-process state breaks with several workers; keep it in a shared store",
            )
