"""Invariant codemods: a failure that was built and dropped is raised.

raise-built-error  `ApiError("...", 500)` alone on its line -> `raise ApiError("...", 500)`,
                   `from error` inside `except ... as error:` (the cause stays in the
                   traceback). Unsafe: the code after it used to run on that path (alerta went
                   on to sign a token for a user it never stored), and callers now meet it.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from bepro.fix import cst_tools
from bepro.review.finding import Finding


def raise_built_error(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    positions = wrapper.resolve(PositionProvider)
    for node, where in positions.items():
        if (
            isinstance(node, cst.Expr)
            and isinstance(node.value, cst.Call)
            and where.start.line == finding.line
        ):
            cause = _caught_as(wrapper, node)
            raised = cst.Raise(
                exc=node.value,
                cause=cst.From(item=cst.Name(cause)) if cause else None,
                semicolon=node.semicolon,
            )
            return cst_tools.replace_node(wrapper.module, node, raised)
    return None


def _caught_as(wrapper: MetadataWrapper, node: cst.CSTNode) -> str | None:
    """The name of the exception the innermost enclosing `except ... as name:` caught."""
    parents = wrapper.resolve(ParentNodeProvider)
    while node in parents:
        node = parents[node]
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            return None
        if isinstance(node, cst.ExceptHandler):
            return (
                node.name.name.value if node.name and isinstance(node.name.name, cst.Name) else None
            )
    return None


TRANSFORMS = {"raise-built-error": raise_built_error}
