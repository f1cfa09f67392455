"""Detectors for domain rules that never take effect: checks whose failure is built, not raised."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from bepro.review.context import ModuleContext
from bepro.review.detectors._scope import last_name
from bepro.review.registry import Hit, detector

# Exception classes by their conventional names; a function named like one (`ShowError()`) is
# rare in backends, and one defined in the module is skipped.
_EXCEPTION_NAME = re.compile(r"^[A-Z]\w*(Error|Exception)$")


@detector("exception-not-raised", "invariants", nodes=(ast.Expr,))
def exception_not_raised(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`ApiError("could not create user", 500)` as a statement: the exception is built and
    dropped, so the failure path carries on as a success (alerta returned a signed token after a
    failed user insert, in four handlers). ruff's PLW0133 sees builtin exceptions and classes of
    the same module; this sees the imported ones too."""
    assert isinstance(node, ast.Expr)  # noqa: S101 - registered for ast.Expr only
    call = node.value
    if not isinstance(call, ast.Call):
        return
    name = last_name(call.func)
    if name is None or not _EXCEPTION_NAME.match(name) or name in _functions(context.tree):
        return
    yield Hit(
        node,
        f"`{name}(...)` is built and dropped, never raised: the failure it describes goes on "
        f"as a success; `raise {name}(...)`",
    )


def _functions(tree: ast.Module) -> frozenset[str]:
    return frozenset(
        statement.name
        for statement in tree.body
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
    )
