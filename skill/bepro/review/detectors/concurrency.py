"""Detectors for backpressure, async I/O and pooling."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bepro.review.context import ModuleContext, keyword
from bepro.review.registry import Hit, detector

_UNBOUNDED_QUEUES = frozenset(
    {"asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "queue.Queue", "queue.LifoQueue",
     "queue.PriorityQueue", "multiprocessing.Queue"}
)  # fmt: skip


@detector("unbounded-queue", "backpressure", nodes=(ast.Call,))
def unbounded_queue(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A queue created with no maxsize (or maxsize <= 0) grows until memory runs out."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    name = context.call_name(node)
    if name not in _UNBOUNDED_QUEUES:
        return
    size = keyword(node, "maxsize")
    value = size.value if size is not None else (node.args[0] if node.args else None)
    if any(kw.arg is None for kw in node.keywords):
        return
    if value is None or (isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value <= 0):
        yield Hit(node, f"`{name}()` has no maxsize: producers never slow down and memory grows without bound")
