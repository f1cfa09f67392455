"""Async codemods: an `async def` stops blocking its event loop, and background tasks stay alive.

async-sleep      `time.sleep(x)` in `async def` -> `await asyncio.sleep(x)`
keep-task        `asyncio.create_task(coro)` whose result is dropped -> the task kept in a
                 module-level set until it finishes (the loop holds tasks weakly: a dropped
                 task can be garbage-collected mid-flight)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, ParentNodeProvider, ScopeProvider

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_SLEEP = "time.sleep"
TASKS = "_BACKGROUND_TASKS"
_TASKS_DEFINITION = (
    "# Tasks started in the background, kept until they finish: the event loop holds tasks only\n"
    "# weakly, and a task nothing refers to may vanish mid-flight (added by `bepro fix`).\n"
    f"{TASKS}: set[object] = set()\n"
)


def async_sleep(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    parents = wrapper.resolve(ParentNodeProvider)
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if _SLEEP not in cst_tools.qualified_names(wrapper, call.func):
            continue
        if not isinstance(parents.get(call), cst.Expr | cst.Assign) or not _in_async_def(
            parents, call
        ):
            return None  # inside a larger expression, a lambda or a sync def: left alone
        sleep = cst.Attribute(cst.Name("asyncio"), cst.Name("sleep"))
        awaited = cst.Await(call.with_changes(func=sleep))
        module = cst_tools.replace_node(wrapper.module, call, awaited)
        module = cst_tools.drop_unused_import(wrapper, module, call.func, "time")
        return cst_tools.import_module(wrapper, module, "asyncio")
    return None


def _in_async_def(parents: Mapping[cst.CSTNode, cst.CSTNode], node: cst.CSTNode) -> bool:
    current = parents.get(node)
    while current is not None and not isinstance(current, cst.FunctionDef | cst.Lambda):
        current = parents.get(current)
    return isinstance(current, cst.FunctionDef) and current.asynchronous is not None


def keep_task(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    line = _dropped_task_line(wrapper, finding)
    if line is None:
        return None
    name = _free_name(wrapper, line)
    if name is None:
        return None
    expr = line.body[0]
    assert isinstance(expr, cst.Expr)  # noqa: S101 - _dropped_task_line checked it
    kept: list[cst.BaseStatement] = [
        line.with_changes(
            body=[cst.Assign([cst.AssignTarget(cst.Name(name))], expr.value)],
        ),
        cst.parse_statement(f"{TASKS}.add({name})\n"),
        cst.parse_statement(f"{name}.add_done_callback({TASKS}.discard)\n"),
    ]
    module = wrapper.module.visit(_Expand(line, kept))
    if cst_tools.global_binding(wrapper, TASKS) is not None:
        return module  # an earlier fix added the set
    return cst_tools.insert_after_imports(module, cst.parse_statement(_TASKS_DEFINITION))


def _dropped_task_line(
    wrapper: MetadataWrapper, finding: Finding
) -> cst.SimpleStatementLine | None:
    """The statement line that is only the call the finding points at, inside a function."""
    parents = wrapper.resolve(ParentNodeProvider)
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        expr = parents.get(call)
        line = parents.get(expr) if isinstance(expr, cst.Expr) else None
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            return line if m.matches(call.func, m.Attribute() | m.Name()) else None
    return None


def _free_name(wrapper: MetadataWrapper, line: cst.SimpleStatementLine) -> str | None:
    """A name for the task that nothing in the function's scope uses yet."""
    scope = wrapper.resolve(ScopeProvider).get(line)
    if scope is None or scope is wrapper.resolve(ScopeProvider).get(wrapper.module):
        return None  # at module level there is no loop running: left alone
    return next(name for name in _task_names() if name not in scope)


def _task_names() -> Iterator[str]:
    yield "task"
    yield from (f"task_{number}" for number in itertools.count(2))


class _Expand(cst.CSTTransformer):
    """Replace one statement line with several."""

    def __init__(self, line: cst.SimpleStatementLine, replacement: list[cst.BaseStatement]) -> None:
        self._line = line
        self._replacement = replacement

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if original_node is not self._line:
            return updated_node
        return cst.FlattenSentinel(self._replacement)


# open() mode -> the pathlib method that does the same whole-file read or write, and the open()
# keywords that method takes too
_WHOLE_FILE = {
    "r": ("read_text", ("encoding", "errors")),
    "rt": ("read_text", ("encoding", "errors")),
    "rb": ("read_bytes", ()),
    "w": ("write_text", ("encoding", "errors", "newline")),
    "wt": ("write_text", ("encoding", "errors", "newline")),
    "wb": ("write_bytes", ()),
}


def thread_file_io(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    parents = wrapper.resolve(ParentNodeProvider)
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        item = parents.get(call)
        block = parents.get(item) if isinstance(item, cst.WithItem) else None
        if not isinstance(block, cst.With) or block.asynchronous or len(block.items) != 1:
            continue
        if not _in_async_def(parents, block) or cst_tools.qualified_names(wrapper, call.func) != {
            "builtins.open"
        }:
            return None
        return _whole_file_rewrite(wrapper, block, call)
    return None


def _whole_file_rewrite(
    wrapper: MetadataWrapper, block: cst.With, call: cst.Call
) -> cst.Module | None:
    """`with open(p, mode) as f: <one statement using f.read() or f.write(x) once>` -> that
    statement with the read or write done by `await asyncio.to_thread(Path(p).<method>, ...)`."""
    target = block.items[0].asname
    handle = target.name if target is not None else None
    body = block.body.body if isinstance(block.body, cst.IndentedBlock) else ()
    method = _pathlib_method(call)
    if not isinstance(handle, cst.Name) or len(body) != 1 or method is None:
        return None
    statement = body[0]
    uses = m.findall(statement, m.Name(handle.value))
    io_calls = m.findall(statement, m.Call(func=m.Attribute(m.Name(handle.value))))
    if len(uses) != 1 or len(io_calls) != 1 or not isinstance(statement, cst.SimpleStatementLine):
        return None
    io_call = io_calls[0]
    assert isinstance(io_call, cst.Call)  # noqa: S101 - the matcher matched a call
    name, keywords = method
    if not _same_io(io_call, name) or not _runs_first(statement, io_call):
        return None
    path = cst.Call(cst.Name("Path"), [call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
    function = cst.Arg(cst.Attribute(path, cst.Name(name)))
    data = [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in io_call.args]
    threaded = cst.Call(cst.parse_expression("asyncio.to_thread"), [function, *data, *keywords])
    new_statement = statement.deep_replace(io_call, cst.Await(threaded))
    assert isinstance(new_statement, cst.SimpleStatementLine)  # noqa: S101 - a part replaced
    new_statement = new_statement.with_changes(leading_lines=block.leading_lines)
    module = cst_tools.replace_node(wrapper.module, block, new_statement)
    return _with_imports(wrapper, module)


def _same_io(io_call: cst.Call, method: str) -> bool:
    """`f.read()` for a read method, `f.write(data)` for a write method."""
    called = m.matches(io_call.func, m.Attribute(attr=m.Name("read"))) and not io_call.args
    if method.startswith("read"):
        return called
    return m.matches(io_call.func, m.Attribute(attr=m.Name("write"))) and len(io_call.args) == 1


def _runs_first(statement: cst.CSTNode, io_call: cst.Call) -> bool:
    """Every other call in the statement either takes the read's result or builds the data
    written: nothing else moves to before the open. (The data is now built before the file is
    opened, so a failure building it no longer leaves a truncated file.)"""
    inside = {id(call) for call in m.findall(io_call, m.Call())}
    return all(
        id(call) in inside or any(inner is io_call for inner in m.findall(call, m.Call()))
        for call in m.findall(statement, m.Call())
    )


def _pathlib_method(call: cst.Call) -> tuple[str, list[cst.Arg]] | None:
    """The pathlib method doing what `open(path, mode, **keywords)` then one read/write does,
    with the keywords to pass it; None for a mode or an argument it does not take."""
    if cst_tools.has_star_args(call) or not call.args or call.args[0].keyword is not None:
        return None
    mode_arg = call.args[1] if len(call.args) > 1 and call.args[1].keyword is None else None
    mode_arg = mode_arg or cst_tools.keyword_arg(call, "mode")
    mode = "r"
    if mode_arg is not None:
        if not isinstance(mode_arg.value, cst.SimpleString):
            return None
        mode = str(mode_arg.value.evaluated_value)
    positional = [arg for arg in call.args if arg.keyword is None]
    keywords = [arg for arg in call.args if arg.keyword is not None and arg is not mode_arg]
    if mode not in _WHOLE_FILE or len(positional) > 2:
        return None
    name, allowed = _WHOLE_FILE[mode]
    if any(arg.keyword is not None and arg.keyword.value not in allowed for arg in keywords):
        return None
    return name, [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in keywords]


def _with_imports(wrapper: MetadataWrapper, module: cst.Module) -> cst.Module | None:
    binding = cst_tools.global_binding(wrapper, "Path")
    if binding is None:
        module = cst_tools.import_from_name(module, "pathlib", "Path")
    elif binding != {"pathlib.Path"}:
        return None
    return cst_tools.import_module(wrapper, module, "asyncio")


TRANSFORMS = {
    "async-sleep": async_sleep,
    "thread-file-io": thread_file_io,
    "keep-task": keep_task,
}
