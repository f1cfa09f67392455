"""Detectors for time handling: durations measured with wall clocks."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from bepro.review.context import ModuleContext, keyword
from bepro.review.detectors._scope import factory_of, last_name, name_parts, walk
from bepro.review.registry import Hit, detector

_WALL_CLOCKS = frozenset(
    {"time.time", "time.time_ns", "datetime.datetime.now", "datetime.datetime.utcnow"}
)
_CLOCK_MODULES = frozenset({"time", "datetime"})
_CLOCK_CALL = re.compile(r"\b(?:time|time_ns|now|utcnow)\s*\(")
# The same without the leading \b, which makes a search try every position: a quick first
# pass (`datetime(` passes it too) before the exact one.
_CLOCK_CALL_QUICK = re.compile(r"(?:time(?:_ns)?|now)\s*\(")


@detector("wall-clock-duration", "time-utc", nodes=(ast.BinOp,))
def wall_clock_duration(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`time.time() - start > timeout` (or `datetime.now() - started`) where both ends are
    wall-clock readings taken by this code and the duration decides something (a deadline, a
    timeout, a returned value): an NTP step or clock change makes it negative or wildly wrong, so
    the deadline fires early or never. A difference with a stored timestamp is an age, and is left
    alone; a duration only logged is `wall-clock-elapsed`."""
    assert isinstance(node, ast.BinOp)  # noqa: S101 - registered for ast.BinOp only
    if _is_wall_clock_duration(node, context) and _decides(node, context):
        yield Hit(
            node,
            f"`{ast.unparse(node)[:60]}` is a duration from the wall clock: use time.monotonic()",
        )


@detector("wall-clock-elapsed", "time-utc", nodes=(ast.BinOp,))
def wall_clock_elapsed(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A wall-clock duration that is only reported (logged, shown, recorded as a metric): a clock
    step skews the figure once, with no decision riding on it. Preview: worth fixing in timing
    code, rarely in a log line."""
    assert isinstance(node, ast.BinOp)  # noqa: S101 - registered for ast.BinOp only
    if _is_wall_clock_duration(node, context) and not _decides(node, context):
        yield Hit(
            node,
            f"`{ast.unparse(node)[:60]}` is a duration from the wall clock: use time.monotonic() "
            "(time.perf_counter() for timings)",
        )


def _is_wall_clock_duration(node: ast.BinOp, context: ModuleContext) -> bool:
    if not isinstance(node.op, ast.Sub) or not _may_read_clock(context):
        return False
    # a call side is checked first: it needs no tracing, and most differences fail on it
    sides = sorted((node.left, node.right), key=lambda side: not isinstance(side, ast.Call))
    return all(_is_reading(side, context) for side in sides)


def _decides(node: ast.BinOp, context: ModuleContext) -> bool:
    """Whether the duration is compared, returned, or bound to a name that later is."""
    for ancestor in reversed(context.stack):
        if isinstance(ancestor, ast.Compare | ast.Return):
            return True
        if isinstance(ancestor, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = ancestor.targets if isinstance(ancestor, ast.Assign) else [ancestor.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            scope = context.enclosing_function() or context.tree
            return bool(names) and _compared_or_returned(names, scope)
        if isinstance(ancestor, ast.stmt):
            return False
    return False


def _compared_or_returned(names: set[str], scope: ast.AST) -> bool:
    for inner in walk(scope):
        if isinstance(inner, ast.Compare | ast.Return):
            used = {n.id for n in walk(inner) if isinstance(n, ast.Name)}
            if used & names:
                return True
    return False


def _may_read_clock(context: ModuleContext) -> bool:
    """Cheap necessary conditions, checked before any name is traced to its binding: the module
    imports a clock module and its text calls something named like a clock."""
    return (
        context.imports_any(_CLOCK_MODULES)
        and context.text_matches(_CLOCK_CALL_QUICK)
        and context.text_matches(_CLOCK_CALL)
    )


def _is_reading(side: ast.expr, context: ModuleContext) -> bool:
    """A wall-clock call, or a name / `self.` attribute only ever bound to one."""
    if isinstance(side, ast.Call):
        return context.call_name(side) in _WALL_CLOCKS
    if isinstance(side, ast.Name | ast.Attribute):
        return factory_of(context, side, context.stack, _WALL_CLOCKS) in _WALL_CLOCKS
    return False


_COLUMN_FACTORIES = frozenset(
    {"sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.orm.mapped_column"}
)
_DATETIME_TYPES = frozenset({"sqlalchemy.DateTime", "sqlalchemy.types.DateTime"})


@detector("naive-datetime-column", "time-utc", nodes=(ast.Call,), callees=_COLUMN_FACTORIES)
def naive_datetime_column(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`Column(DateTime)` stores timestamps without their offset: what was written in UTC comes
    back naive, and one writer on local time corrupts the column silently."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if context.call_name(node) not in _COLUMN_FACTORIES:
        return
    for argument in node.args:
        if _naive_datetime_type(argument, context):
            yield Hit(
                argument,
                "DateTime column without timezone=True: values lose their UTC offset; use "
                "DateTime(timezone=True) (timestamptz) and store UTC",
            )


def _naive_datetime_type(node: ast.expr, context: ModuleContext) -> bool:
    if isinstance(node, ast.Call):
        aware = keyword(node, "timezone")
        if aware is not None or node.args:
            return False  # `DateTime(timezone=...)` decides itself, or positionally
        node = node.func
    return context.qualified_name(node) in _DATETIME_TYPES


_PYDANTIC_MODELS = frozenset({"pydantic.BaseModel"})
# Class-name words of models that parse what clients send.
_INBOUND_WORDS = frozenset(
    {"in", "input", "create", "update", "request", "payload", "body", "command", "params"}
)


@detector("naive-datetime-field", "time-utc", nodes=(ast.ClassDef,))
def naive_datetime_field(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A request model's plain `datetime` field accepts "2024-05-01T10:00" with no offset, and
    the service then guesses which zone the client meant."""
    assert isinstance(node, ast.ClassDef)  # noqa: S101 - registered for ast.ClassDef only
    if not any(context.qualified_name(base) in _PYDANTIC_MODELS for base in node.bases):
        return
    if not set(name_parts(node.name)[-1:]) & _INBOUND_WORDS:
        return
    validated = _validated_fields(node)
    for statement in node.body:
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id not in validated
            and _plain_datetime(statement.annotation, context)
        ):
            yield Hit(
                statement,
                f"`{node.name}.{statement.target.id}` accepts naive datetimes from clients: type "
                "it pydantic.AwareDatetime, or convert it to UTC in a validator",
            )


def _plain_datetime(annotation: ast.expr, context: ModuleContext) -> bool:
    """`datetime`, `datetime | None` or `Optional[datetime]`."""
    if isinstance(annotation, ast.BinOp):
        return _plain_datetime(annotation.left, context) or _plain_datetime(
            annotation.right, context
        )
    if isinstance(annotation, ast.Subscript) and context.qualified_name(annotation.value) in (
        "typing.Optional",
        "Optional",
    ):
        return _plain_datetime(annotation.slice, context)
    return context.qualified_name(annotation) == "datetime.datetime"


def _validated_fields(model: ast.ClassDef) -> set[str]:
    """Fields named by a `@field_validator(...)` / `@validator(...)` on the model."""
    names: set[str] = set()
    for statement in model.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in statement.decorator_list:
                if isinstance(decorator, ast.Call) and last_name(decorator.func) in (
                    "field_validator",
                    "validator",
                ):
                    names |= {
                        arg.value
                        for arg in decorator.args
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    }
    return names
