"""Detectors for time handling: durations measured with wall clocks."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from bepro.review.context import ModuleContext
from bepro.review.detectors._scope import factory_of
from bepro.review.registry import Hit, detector

_WALL_CLOCKS = frozenset(
    {"time.time", "time.time_ns", "datetime.datetime.now", "datetime.datetime.utcnow"}
)
_CLOCK_MODULES = frozenset({"time", "datetime"})
_CLOCK_CALL = re.compile(r"\b(?:time|time_ns|now|utcnow)\s*\(")


@detector("wall-clock-duration", "time-utc", nodes=(ast.BinOp,), fixable=True)
def wall_clock_duration(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`time.time() - start` or `end - start` (or `datetime.now() - started`) where both ends are
    wall-clock readings taken by this code: NTP steps and clock changes make such a duration
    negative or wildly wrong. A difference with a stored timestamp is an age, and is left alone."""
    assert isinstance(node, ast.BinOp)  # noqa: S101 - registered for ast.BinOp only
    if not isinstance(node.op, ast.Sub) or not _may_read_clock(context):
        return
    # a call side is checked first: it needs no tracing, and most differences fail on it
    sides = sorted((node.left, node.right), key=lambda side: not isinstance(side, ast.Call))
    if all(_is_reading(side, context) for side in sides):
        yield Hit(
            node,
            f"`{ast.unparse(node)[:60]}` is a duration from the wall clock: use time.monotonic()",
        )


def _may_read_clock(context: ModuleContext) -> bool:
    """Cheap necessary conditions, checked before any name is traced to its binding: the module
    imports a clock module and its text calls something named like a clock."""
    return context.imports_any(_CLOCK_MODULES) and context.text_matches(_CLOCK_CALL)


def _is_reading(side: ast.expr, context: ModuleContext) -> bool:
    """A wall-clock call, or a name / `self.` attribute only ever bound to one."""
    if isinstance(side, ast.Call):
        return context.call_name(side) in _WALL_CLOCKS
    if isinstance(side, ast.Name | ast.Attribute):
        return factory_of(context, side, context.stack, _WALL_CLOCKS) in _WALL_CLOCKS
    return False
