"""The `monotonic` codemod: a duration measured with `time.time()` is measured again with
`time.monotonic()`, at both ends of the measurement and nowhere else.

Within the function (or module) around the finding, a variable is a clock reading when every
assignment to it is `time.time()` (or `time.time() + offset`, a deadline) and every read of it is
one side of a subtraction or an ordering comparison whose other side is also a clock reading. A
reading also used any other way (logged, stored, sent) is a timestamp, and the codemod declines.
The rewrite covers the measurement the finding points at: the readings linked to it through those
subtractions and comparisons.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
from libcst.metadata import (
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
)

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_MONOTONIC = {"time.time": "monotonic", "time.time_ns": "monotonic_ns"}
_ORDERING = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
_Structure = cst.BinaryOperation | cst.Comparison


def monotonic(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    analysis = _Readings(wrapper, _enclosing_scope(wrapper, finding.line))
    calls = analysis.measurement_at(finding.line)
    if not calls:
        return None
    return _rewrite(wrapper, calls)


def _enclosing_scope(wrapper: MetadataWrapper, line: int) -> cst.CSTNode:
    positions = wrapper.resolve(PositionProvider)
    around = [
        node
        for node, where in positions.items()
        if isinstance(node, cst.FunctionDef) and where.start.line <= line <= where.end.line
    ]
    return max(around, key=lambda node: positions[node].start.line, default=wrapper.module)


def _descendants(node: cst.CSTNode, enter_scopes: bool) -> Iterator[cst.CSTNode]:
    for child in node.children:
        yield child
        if enter_scopes or not isinstance(child, _SCOPES):
            yield from _descendants(child, enter_scopes)


class _Readings:
    """Which names in one scope hold clock readings, and which expressions combine them."""

    def __init__(self, wrapper: MetadataWrapper, scope: cst.CSTNode) -> None:
        self._wrapper = wrapper
        self._parents = wrapper.resolve(ParentNodeProvider)
        self._contexts = wrapper.resolve(ExpressionContextProvider)
        self._positions = wrapper.resolve(PositionProvider)
        root = scope.body if isinstance(scope, cst.FunctionDef) else scope
        self._own = list(_descendants(root, enter_scopes=False))
        own_ids = {id(node) for node in self._own}
        self._nested_names = [
            node
            for node in _descendants(root, enter_scopes=True)
            if isinstance(node, cst.Name) and id(node) not in own_ids
        ]
        self._assignments: dict[str, list[cst.Assign]] = {}
        self.variables = self._clock_variables(scope)

    def _is_clock_call(self, node: cst.CSTNode) -> bool:
        return (
            isinstance(node, cst.Call)
            and not node.args
            and bool(cst_tools.qualified_names(self._wrapper, node.func) & _MONOTONIC.keys())
        )

    def _is_point(self, node: cst.CSTNode, variables: set[str]) -> bool:
        return self._is_clock_call(node) or (isinstance(node, cst.Name) and node.value in variables)

    def _clock_variables(self, scope: cst.CSTNode) -> set[str]:
        candidates = self._assigned_readings(scope)
        while True:
            impure = {name for name in candidates if not self._reads_are_pure(name, candidates)}
            if not impure:
                return candidates
            candidates -= impure

    def _assigned_readings(self, scope: cst.CSTNode) -> set[str]:
        """Names whose every binding in the scope is `x = <clock reading or deadline>`."""
        clocks: set[str] = set()
        others: set[str] = set()
        if isinstance(scope, cst.FunctionDef):
            others |= {param.name.value for param in _all_params(scope.params)}
        for node in self._own:
            if (
                not isinstance(node, cst.Name)
                or self._contexts.get(node) is not ExpressionContext.STORE
            ):
                continue
            assign = self._clock_assignment(node)
            if assign is None:
                others.add(node.value)
            else:
                clocks.add(node.value)
                self._assignments.setdefault(node.value, []).append(assign)
        return clocks - others

    def _clock_assignment(self, name: cst.Name) -> cst.Assign | None:
        target = self._parents.get(name)
        assign = self._parents.get(target) if isinstance(target, cst.AssignTarget) else None
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return None
        value = assign.value
        if self._is_clock_call(value):
            return assign
        offset = isinstance(value, cst.BinaryOperation) and isinstance(
            value.operator, cst.Add | cst.Subtract
        )
        if offset and isinstance(value, cst.BinaryOperation) and self._is_clock_call(value.left):
            return assign
        return None

    def _reads_are_pure(self, name: str, variables: set[str]) -> bool:
        if any(node.value == name for node in self._nested_names):
            return False  # read by a nested function: its use cannot be seen from here
        reads = [
            node
            for node in self._own
            if isinstance(node, cst.Name)
            and node.value == name
            and self._contexts.get(node) is ExpressionContext.LOAD
        ]
        return all(self._structure_of(read, variables) is not None for read in reads)

    def _structure_of(self, node: cst.CSTNode, variables: set[str]) -> _Structure | None:
        """The subtraction or comparison of two clock readings that `node` is one side of."""
        parent = self._parents.get(node)
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Subtract):
            other = parent.right if parent.left is node else parent.left
            return parent if self._is_point(other, variables) else None
        if isinstance(parent, cst.ComparisonTarget):
            parent = self._parents.get(parent)
        if isinstance(parent, cst.Comparison) and len(parent.comparisons) == 1:
            target = parent.comparisons[0]
            sides = (parent.left, target.comparator)
            if isinstance(target.operator, _ORDERING) and all(
                self._is_point(side, variables) for side in sides
            ):
                return parent
        return None

    def _structures(self) -> list[_Structure]:
        found: list[_Structure] = []
        for node in self._own:
            if isinstance(node, cst.BinaryOperation | cst.Comparison):
                sides = _sides(node)
                if sides and all(self._is_point(side, self.variables) for side in sides):
                    found.append(node)
        return [node for node in found if self._structure_of(_sides(node)[0], self.variables)]

    def measurement_at(self, line: int) -> list[cst.Call]:
        """The clock calls of the measurement on `line`: the subtractions and comparisons linked to
        it through shared variables, and the readings assigned to those variables."""
        structures = self._structures()
        names = {
            name
            for name, assigns in self._assignments.items()
            if name in self.variables and any(self._spans(assign, line) for assign in assigns)
        }
        chosen = [node for node in structures if self._spans(node, line)]
        while True:
            names |= {name for node in chosen for name in _names(node)}
            linked = [node for node in structures if names & _names(node) and node not in chosen]
            if not linked:
                break
            chosen += linked
        if not chosen:
            return []
        readings = [side for node in chosen for side in _sides(node)]
        for name in names:
            for assign in self._assignments.get(name, []):
                value = assign.value
                readings.append(value.left if isinstance(value, cst.BinaryOperation) else value)
        return [
            node for node in readings if isinstance(node, cst.Call) and self._is_clock_call(node)
        ]

    def _spans(self, node: cst.CSTNode, line: int) -> bool:
        where = self._positions[node]
        return where.start.line <= line <= where.end.line


def _sides(node: _Structure) -> tuple[cst.BaseExpression, ...]:
    if isinstance(node, cst.BinaryOperation):
        return (node.left, node.right) if isinstance(node.operator, cst.Subtract) else ()
    if len(node.comparisons) == 1 and isinstance(node.comparisons[0].operator, _ORDERING):
        return (node.left, node.comparisons[0].comparator)
    return ()


def _names(node: _Structure) -> set[str]:
    return {side.value for side in _sides(node) if isinstance(side, cst.Name)}


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    double = [params.star_kwarg] if params.star_kwarg is not None else []
    return [*params.posonly_params, *params.params, *star, *params.kwonly_params, *double]


class _SwapClock(cst.CSTTransformer):
    def __init__(self, wrapper: MetadataWrapper, calls: list[cst.Call]) -> None:
        self._wrapper = wrapper
        self._calls = calls
        self.imports: set[str] = set()
        self.replaced_names: list[cst.Name] = []  # `time` in `time()`, now `monotonic`

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not any(original_node is call for call in self._calls):
            return updated_node
        clock = next(
            iter(cst_tools.qualified_names(self._wrapper, original_node.func) & _MONOTONIC.keys())
        )
        replacement = _MONOTONIC[clock]
        func = updated_node.func
        if isinstance(func, cst.Attribute):
            return updated_node.with_changes(func=func.with_changes(attr=cst.Name(replacement)))
        self.imports.add(replacement)
        if isinstance(original_node.func, cst.Name):
            self.replaced_names.append(original_node.func)
        return updated_node.with_changes(func=cst.Name(replacement))


def _rewrite(wrapper: MetadataWrapper, calls: list[cst.Call]) -> cst.Module | None:
    swap = _SwapClock(wrapper, calls)
    module = wrapper.module.visit(swap)
    for name in sorted(swap.imports):
        binding = cst_tools.global_binding(wrapper, name)
        if binding is None:
            module = cst_tools.import_from_name(module, "time", name)
        elif binding != {f"time.{name}"}:
            return None  # the module binds `monotonic` to something else
    for name in {node.value for node in swap.replaced_names}:
        if cst_tools.only_used_at(wrapper, name, swap.replaced_names):
            module = cst_tools.drop_import_name(module, "time", name)  # else ruff: F401 unused
    return module


TRANSFORMS = {"monotonic": monotonic}
