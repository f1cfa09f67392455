"""Detectors for time handling: durations measured with wall clocks."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bepro.review.context import ModuleContext
from bepro.review.detectors._scope import factory_of
from bepro.review.registry import Hit, detector

_WALL_CLOCKS = frozenset(
    {"time.time", "time.time_ns", "datetime.datetime.now", "datetime.datetime.utcnow"}
)


@detector("wall-clock-duration", "time-utc", nodes=(ast.BinOp,), fixable=True)
def wall_clock_duration(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`time.time() - start` or `end - start` (or `datetime.now() - started`) where both ends are
    wall-clock readings taken by this code: NTP steps and clock changes make such a duration
    negative or wildly wrong. A difference with a stored timestamp is an age, and is left alone."""
    assert isinstance(node, ast.BinOp)  # noqa: S101 - registered for ast.BinOp only
    if (
        isinstance(node.op, ast.Sub)
        and _is_reading(node.left, context)
        and _is_reading(node.right, context)
    ):
        yield Hit(
            node,
            f"`{ast.unparse(node)[:60]}` is a duration from the wall clock: use time.monotonic()",
        )


def _is_reading(side: ast.expr, context: ModuleContext) -> bool:
    """A wall-clock call, or a name / `self.` attribute only ever bound to one."""
    if isinstance(side, ast.Call):
        return context.call_name(side) in _WALL_CLOCKS
    if isinstance(side, ast.Name | ast.Attribute):
        return factory_of(context, side, context.stack, _WALL_CLOCKS) in _WALL_CLOCKS
    return False
