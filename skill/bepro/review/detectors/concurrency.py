"""Detectors for backpressure, async I/O and pooling."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TypeGuard

from bepro.review.context import ModuleContext, keyword
from bepro.review.detectors._scope import (
    HTTP_CLIENT_FACTORIES,
    NESTED_SCOPES,
    REDIS_CLIENTS,
    REDIS_URL_FACTORIES,
    assigned_values,
    body_nodes,
    last_name,
    name_parts,
    walk,
)
from bepro.review.detectors.routes import route_methods
from bepro.review.registry import Hit, detector

_UNBOUNDED_QUEUES = frozenset(
    {"asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "queue.Queue", "queue.LifoQueue",
     "queue.PriorityQueue", "multiprocessing.Queue"}
)  # fmt: skip


@detector("unbounded-queue", "backpressure", nodes=(ast.Call,), callees=_UNBOUNDED_QUEUES)
def unbounded_queue(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A queue created with no maxsize (or maxsize <= 0) grows until memory runs out. One that
    nothing puts into cannot: `await asyncio.Queue().get()` only parks a task until shutdown."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    name = context.call_name(node)
    if name not in _UNBOUNDED_QUEUES or _never_filled(node, context):
        return
    size = keyword(node, "maxsize")
    value = size.value if size is not None else (node.args[0] if node.args else None)
    if any(kw.arg is None for kw in node.keywords):
        return
    if value is None or (
        isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value <= 0
    ):
        yield Hit(
            node,
            f"`{name}()` has no maxsize: producers never slow down and memory grows without bound",
        )


# What a consumer does with a queue; anything else (put, handing it on) may fill it.
_QUEUE_READS = frozenset({"get", "get_nowait", "empty", "qsize", "join", "task_done"})


def _never_filled(queue: ast.Call, context: ModuleContext) -> bool:
    """A queue bound to a local name or a `self` attribute that is read from and never handed
    anything. Module names are left out: another module may import and fill them."""
    parent = context.stack[-1] if context.stack else None
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target: ast.expr | None = parent.targets[0]
    else:
        target = parent.target if isinstance(parent, ast.AnnAssign) else None
    if target is None or getattr(parent, "value", None) is not queue:
        return False
    uses: list[ast.AST]
    if isinstance(target, ast.Name) and (function := context.enclosing_function()) is not None:
        scope: ast.AST = function
        uses = [n for n in walk(scope) if isinstance(n, ast.Name) and n.id == target.id]
    elif isinstance(target, ast.Attribute) and _is_self(target.value):
        scope = context.tree
        uses = [
            n
            for n in walk(scope)
            if isinstance(n, ast.Attribute) and n.attr == target.attr and _is_self(n.value)
        ]
    else:
        return False
    read = {
        id(n.value) for n in walk(scope) if isinstance(n, ast.Attribute) and n.attr in _QUEUE_READS
    }
    others = [use for use in uses if use is not target]
    # with no use at all, an attribute is where other code hands items over
    return bool(others) and all(id(use) in read for use in others)


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


_POOLED_FACTORIES = HTTP_CLIENT_FACTORIES | {
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlalchemy.ext.asyncio.create_async_engine",
    "asyncpg.create_pool",
    *REDIS_CLIENTS,
    *REDIS_URL_FACTORIES,
}
_POOL_WASTE = "every call opens new connections (TCP and TLS handshakes) and none is reused"
_POOL_FIX = "create it once at startup (module, lifespan, dependency) and share it"
_LIFECYCLE_METHODS = frozenset(
    {"close", "aclose", "dispose", "__enter__", "__exit__", "__aenter__", "__aexit__"}
)


@detector("pool-per-call", "pooling", nodes=(ast.Call,), callees=_POOLED_FACTORIES)
def pool_per_call(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """An HTTP client or DB engine created in a loop, or per call for one request, pools nothing.

    Each creation opens new connections (TCP + TLS handshakes) and throws them away; the client is
    fine when it is returned, stored, yielded (fixtures, lifespans) or reused within the function.
    """
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    name = context.call_name(node)
    function = context.enclosing_function()
    if name not in _POOLED_FACTORIES or function is None or _one_shot(function):
        return
    in_loop = context.enclosing_loop() is not None
    uses = _client_uses(node, function, context)
    if uses is None:
        return  # returned, stored, passed on or yielded: someone else owns its lifetime
    if in_loop:
        yield Hit(
            node,
            f"`{name}()` is created inside a loop: {_POOL_WASTE}; create it once, before the loop",
        )
    elif len(uses) == 1 and not _used_in_loop(uses[0], function):
        yield Hit(node, f"`{name}()` is created for a single request: {_POOL_WASTE}; {_POOL_FIX}")


_REQUESTS = frozenset({"requests"})
_SESSIONLESS = frozenset(
    {f"requests.{verb}" for verb in ("get", "post", "put", "patch", "delete", "head", "request")}
)


@detector("request-without-session", "pooling", nodes=(ast.Call,), callees=_SESSIONLESS)
def request_without_session(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`requests.get()` builds and drops a Session per call: in a loop or a route handler, every
    call pays a new TCP (and TLS) handshake that a shared Session would have reused."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    name = context.call_name(node)
    function = context.enclosing_function()
    if not context.imports_any(_REQUESTS) or name not in _SESSIONLESS:
        return
    if function is None or _one_shot(function):
        return
    iterable = _iterated(context)
    if iterable is not None and not _fixed_or_range(iterable, context):
        where = "inside a loop"  # over items; a `range` loop is a retry, which may reconnect
    elif route_methods(function):
        where = f"in the route handler `{function.name}`"
    else:
        return
    yield Hit(
        node,
        f"`{name}()` {where} opens a new connection on every call (no Session): {_POOL_FIX}, "
        "as a requests.Session",
    )


def _iterated(context: ModuleContext) -> ast.expr | None:
    """What the nearest `for` loop or comprehension around the node (in its function) iterates."""
    for node in reversed(context.stack):
        if isinstance(node, ast.For | ast.AsyncFor):
            return node.iter
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            return node.generators[0].iter
        if isinstance(node, (ast.While, *NESTED_SCOPES)):
            return None
    return None


def _fixed_or_range(iterable: ast.expr, context: ModuleContext) -> bool:
    return isinstance(iterable, ast.Tuple | ast.List | ast.Set) or _is_range(iterable, context)


def _is_range(iterable: ast.expr, context: ModuleContext) -> bool:
    return isinstance(iterable, ast.Call) and context.call_name(iterable) == "range"


def _one_shot(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Tests and `main()` run once per process: a fresh pool there costs nothing."""
    return function.name == "main" or function.name.startswith("test")


def _client_uses(
    call: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef, context: ModuleContext
) -> list[ast.Attribute] | None:
    """The method calls made on the new client, or None when it escapes the function."""
    made: ast.expr = call
    parent = context.stack[-1] if context.stack else None
    if isinstance(parent, ast.Await) and len(context.stack) > 1:  # `await asyncpg.create_pool()`
        made, parent = parent, context.stack[-2]
    if isinstance(parent, ast.Attribute):  # `httpx.Client().get(url)`
        return [parent]
    holder = _local_name(made, parent)
    if holder is None:
        return None
    read_on: dict[int, ast.Attribute] = {}
    loads: list[ast.Name] = []
    called = {id(inner.func) for inner in body_nodes(function) if isinstance(inner, ast.Call)}
    for inner in body_nodes(function):
        if isinstance(inner, ast.Global | ast.Nonlocal) and holder in inner.names:
            return None
        if isinstance(inner, NESTED_SCOPES) and any(_is_load_of(n, holder) for n in walk(inner)):
            return None  # a closure may outlive the call
        if isinstance(inner, ast.Attribute):
            read_on[id(inner.value)] = inner
        elif _is_load_of(inner, holder):
            loads.append(inner)
    if any(id(load) not in read_on for load in loads):
        return None  # returned, yielded, stored or passed on
    methods = [read_on[id(load)] for load in loads if id(read_on[id(load)]) in called]
    return [method for method in methods if method.attr not in _LIFECYCLE_METHODS]


def _local_name(made: ast.expr, parent: ast.AST | None) -> str | None:
    """The local name a client is bound to by `x = F()` or `with F() as x:`, else None."""
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        return parent.optional_vars.id
    if isinstance(parent, ast.Assign | ast.AnnAssign) and parent.value is made:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return targets[0].id
    return None


def _is_load_of(node: ast.AST, name: str) -> TypeGuard[ast.Name]:
    return isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)


_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _used_in_loop(use: ast.AST, function: ast.AST) -> bool:
    return any(
        isinstance(loop, _LOOPS) and any(inner is use for inner in walk(loop))
        for loop in body_nodes(function)
    )


_ITERATIONS = (ast.ListComp, ast.GeneratorExp, ast.SetComp)
_LIMITER_WORDS = ("semaphore", "limit", "sem", "slots", "throttle")
_LIMITERS = frozenset({"Semaphore", "BoundedSemaphore", "CapacityLimiter"})


@detector("unbounded-gather", "backpressure", nodes=(ast.Call,), callees={"gather"})
def unbounded_gather(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`asyncio.gather(*[fetch(x) for x in items])` starts one task per item at once: a large
    input opens thousands of sockets and trips the downstream's rate limits. A gather whose
    function, or the coroutine it gathers, acquires a semaphore or limiter is bounded."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if context.call_name(node) != "asyncio.gather":
        return
    for argument in node.args:
        if not (isinstance(argument, ast.Starred) and isinstance(argument.value, _ITERATIONS)):
            continue
        comprehension = argument.value
        source = comprehension.generators[0].iter
        if _written_out(source, context) or _counted(source, context):
            continue  # a handful written in the code, or a fixed count
        if _notifies_each(comprehension, source):
            continue
        if _limited(argument.value.elt, context):
            continue
        yield Hit(
            node,
            f"gathers one task per item of `{ast.unparse(source)[:40]}` at once, with no bound: "
            "limit the concurrency with an asyncio.Semaphore (10-50) or a fixed pool of workers",
        )


_LITERALS = (ast.Tuple, ast.List, ast.Set)


def _written_out(source: ast.expr, context: ModuleContext) -> bool:
    """A collection written out in the code: a literal, or a local name only ever bound to one."""
    if isinstance(source, _LITERALS):
        return True
    function = context.enclosing_function()
    if not isinstance(source, ast.Name) or function is None:
        return False
    values = assigned_values(function, source.id)
    return bool(values) and all(isinstance(value, _LITERALS) for value in values)


_LISTENER_WORDS = frozenset(
    {"handler", "handlers", "callback", "callbacks", "listener", "listeners", "subscriber",
     "subscribers", "hook", "hooks", "manager", "managers", "observer", "observers"}
)  # fmt: skip


def _notifies_each(
    comprehension: ast.ListComp | ast.GeneratorExp | ast.SetComp, source: ast.expr
) -> bool:
    """`handler.on_event(e) for handler in handlers`: each registered object is told something.
    Their number is set by the code that registered them, not by the size of a request."""
    element = comprehension.elt
    targets = {n.id for n in walk(comprehension.generators[0].target) if isinstance(n, ast.Name)}
    if (
        isinstance(element, ast.Call)
        and isinstance(element.func, ast.Attribute)
        and isinstance(element.func.value, ast.Name)
        and element.func.value.id in targets
    ):
        return True
    told = [source]
    if isinstance(element, ast.Call) and isinstance(element.func, ast.Attribute):
        told.append(element.func.value)  # `managers[i].on_error(e)`
    names = [n.id if isinstance(n, ast.Name) else n.attr for root in told for n in walk(root)
             if isinstance(n, ast.Name | ast.Attribute)]  # fmt: skip
    return any(set(name_parts(name)) & _LISTENER_WORDS for name in names)


def _counted(source: ast.expr, context: ModuleContext) -> bool:
    """`range(4)`: a number of tasks fixed in the code."""
    return (
        isinstance(source, ast.Call)
        and _is_range(source, context)
        and all(isinstance(arg, ast.Constant) for arg in source.args)
    )


def _limited(element: ast.expr, context: ModuleContext) -> bool:
    """The enclosing function, or a function of this module named like the gathered call,
    enters `async with` a semaphore or limiter (by its name or the class that made it)."""
    scopes: list[ast.AST] = [context.enclosing_function() or context.tree]
    if isinstance(element, ast.Call):
        called = element.func.attr if isinstance(element.func, ast.Attribute) else None
        called = element.func.id if isinstance(element.func, ast.Name) else called
        scopes += [
            node
            for node in walk(context.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == called
        ]
    return any(_enters_limiter(scope) for scope in scopes)


def _enters_limiter(scope: ast.AST) -> bool:
    for node in walk(scope):
        if isinstance(node, ast.Call) and last_name(node.func) in _LIMITERS:
            return True
        if isinstance(node, ast.AsyncWith | ast.With):
            for item in node.items:
                text = ast.unparse(item.context_expr).lower()
                if any(word in text for word in _LIMITER_WORDS):
                    return True
    return False
