"""Detectors for blocking calls inside async functions that ruff does not catch.

ruff's ASYNC210/212/220-222/230/251 already flag `requests.*`, `httpx.get`, names bound to an
`httpx.Client`, `urllib3.request`, subprocesses, `open` and `time.sleep`; this covers the sync
clients it misses: DB drivers, redis, SQLAlchemy sessions, urllib3 pools, `requests.Session`, and
`httpx.Client` reached through `self.` or a constructor chain.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from bepro.review.context import ModuleContext, keyword
from bepro.review.detectors._scope import (
    AWS_CLIENT_FACTORIES,
    AWS_LOCAL_METHODS,
    REDIS_CLIENTS,
    REDIS_URL_FACTORIES,
    body_nodes,
    factory_of,
)
from bepro.review.registry import Hit, detector

_SYNC_CONNECTS = frozenset(
    {"psycopg2.connect", "psycopg.connect", "psycopg.Connection.connect", "sqlite3.connect",
     "pymysql.connect", "MySQLdb.connect", "mysql.connector.connect", "pyodbc.connect",
     "pymssql.connect", "oracledb.connect", "cx_Oracle.connect"}
)  # fmt: skip
# Constructor of a sync client -> its kind; the kind says which methods block.
_SYNC_CLIENTS: dict[str, str] = {
    "httpx.Client": "httpx", "requests.Session": "http", "requests.session": "http",
    "requests.sessions.Session": "http",
    "urllib3.PoolManager": "urllib3", "urllib3.ProxyManager": "urllib3",
    "urllib3.HTTPConnectionPool": "urllib3", "urllib3.HTTPSConnectionPool": "urllib3",
    "urllib3.connection_from_url": "urllib3",
    "sqlalchemy.orm.Session": "session", "sqlalchemy.orm.session.Session": "session",
    "sqlmodel.Session": "session", "sqlmodel.create_engine": "engine",
    "sqlalchemy.create_engine": "engine", "sqlalchemy.engine.create_engine": "engine",
    **dict.fromkeys(
        (name for name in REDIS_CLIENTS | REDIS_URL_FACTORIES if ".asyncio." not in name), "redis"
    ),
    **dict.fromkeys(AWS_CLIENT_FACTORIES, "boto3"),
}  # fmt: skip
# Hashing meant to be slow: tens to hundreds of milliseconds of CPU that stall the event loop.
_CPU_HEAVY = frozenset(
    {"bcrypt.hashpw", "bcrypt.checkpw", "bcrypt.kdf", "hashlib.pbkdf2_hmac", "hashlib.scrypt",
     "argon2.PasswordHasher.hash", "argon2.PasswordHasher.verify"}
)  # fmt: skip
_HTTP_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"}
)
_BLOCKING_METHODS: dict[str, frozenset[str]] = {
    "http": _HTTP_METHODS,
    "httpx": _HTTP_METHODS,
    "urllib3": frozenset({"request", "urlopen", "request_encode_url", "request_encode_body"}),
    "session": frozenset(
        {
            "execute",
            "exec",
            "scalar",
            "scalars",
            "query",
            "get",
            "commit",
            "flush",
            "refresh",
            "merge",
        }
    ),
    "engine": frozenset({"connect", "begin", "execute", "raw_connection"}),
}
# Sync redis and boto3 clients block on every command; these methods only build local objects.
_LOCAL_METHODS = {
    "redis": frozenset({"pipeline", "pubsub", "lock", "register_script", "close", "monitor"}),
    "boto3": AWS_LOCAL_METHODS,
}
_ANY_BLOCKING_METHOD = frozenset().union(*_BLOCKING_METHODS.values())
# The roots whose clients block on any method but their local ones (redis, boto3).
_EVERY_METHOD_BLOCKS = frozenset(
    name.split(".")[0] for name, kind in _SYNC_CLIENTS.items() if kind in _LOCAL_METHODS
)
_SESSION_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.scoped_session"})
# Arguments to these run in a worker thread, where blocking is the point.
_OFFLOADERS = frozenset(
    {"to_thread", "run_in_executor", "run_sync", "run_in_threadpool", "sync_to_async"}
)


# Modules that import none of these cannot build a sync client or driver connection themselves.
_CLIENT_ROOTS = frozenset(
    {name.split(".")[0] for name in (*_SYNC_CONNECTS, *_SYNC_CLIENTS, *_CPU_HEAVY)}
    | {"sqlalchemy", "sqlmodel"}
)


@detector("sync-client-in-async", "async-io", nodes=(ast.Call,))
def sync_client_in_async(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A sync DB driver, redis client, SQLAlchemy session or HTTP session used inside `async def`:
    each call stalls the event loop, and every other request on it, until the I/O finishes."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not context.imports_any(_CLIENT_ROOTS) or not context.in_async_function():
        return
    if _awaited_or_offloaded(context):
        return
    name = context.call_name(node)
    if name in _SYNC_CONNECTS:
        yield Hit(
            node, f"`{name}()` blocks the event loop: use an async driver or asyncio.to_thread"
        )
        return
    if name in _CPU_HEAVY:
        yield Hit(
            node,
            f"`{name}()` is deliberately slow CPU work that stalls every request on the event "
            "loop: run it with asyncio.to_thread",
        )
        return
    kind = _receiver_kind(node, context)
    if kind is not None:
        shown = ast.unparse(node.func)[:60]
        yield Hit(
            node, f"`{shown}()` is a blocking {kind} call in async code: use the async client"
        )


def _awaited_or_offloaded(context: ModuleContext) -> bool:
    """Awaited calls belong to async APIs; arguments of to_thread/run_in_executor run in a thread."""
    if context.stack and isinstance(context.stack[-1], ast.Await):
        return True
    for ancestor in reversed(context.stack):
        if isinstance(ancestor, ast.AsyncFunctionDef):
            return False
        if isinstance(ancestor, ast.Call) and _callee(ancestor.func) in _OFFLOADERS:
            return True
    return False


def _callee(func: ast.expr) -> str:
    return (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else ""
    )


def _receiver_kind(call: ast.Call, context: ModuleContext) -> str | None:
    """What sync client the receiver of `receiver.method(...)` is, when the method blocks."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr not in _ANY_BLOCKING_METHOD and not context.imports_any(_EVERY_METHOD_BLOCKS):
        return None  # no client here could make this call block: skip finding the receiver
    made_by = _made_by(context, func.value)
    if made_by == "httpx.Client" and isinstance(func.value, ast.Name):
        return None  # ruff's ASYNC212 reports httpx clients bound to names
    kind = _SYNC_CLIENTS.get(made_by or "")
    if kind in _LOCAL_METHODS:
        local = func.attr in _LOCAL_METHODS[kind] or func.attr.startswith("_")
        return None if local else kind
    return kind if kind is not None and func.attr in _BLOCKING_METHODS[kind] else None


def _made_by(context: ModuleContext, receiver: ast.expr) -> str | None:
    """The call that made the receiver; `db = SessionLocal()` with `SessionLocal = sessionmaker()`
    counts as a Session."""
    if isinstance(receiver, ast.Call):
        made_by = context.call_name(receiver)
    else:
        made_by = factory_of(context, receiver, context.stack)
    if made_by and "." not in made_by:
        maker = factory_of(context, ast.Name(id=made_by), context.stack)
        if maker in _SESSION_FACTORIES:
            return "sqlalchemy.orm.Session"
    return made_by


# What blocks when called from a plain `def` helper: the calls ruff flags in `async def` itself
# (ASYNC210-251), and the drivers and CPU-heavy hashing above. `open` is left out: on eight real
# applications (bench/audit/) the helpers that opened a file read or wrote one small JSON or
# cache file, milliseconds on the loop, never worth a change.
_BLOCKING_CALLS = frozenset(
    {*(f"requests.{method}" for method in _HTTP_METHODS), "time.sleep",
     "urllib.request.urlopen", "subprocess.run", "subprocess.call", "subprocess.check_call",
     "subprocess.check_output", "os.system", "socket.create_connection", "socket.getaddrinfo",
     "socket.gethostbyname", "socket.gethostbyname_ex", "smtplib.SMTP", "smtplib.SMTP_SSL",
     *_SYNC_CONNECTS,
     *_CPU_HEAVY}
)  # fmt: skip
_ASYNC_DEF = re.compile(r"async\s+def\b")  # no leading \b: a literal prefix is searched fast


@detector("blocking-helper-in-async", "async-io", nodes=(ast.Call,))
def blocking_helper_in_async(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`async def` calling a plain function of the same module that blocks (an HTTP call with
    requests, `time.sleep`, a subprocess, a sync DB connect): ruff sees the blocking call only
    where it is written, so one helper hides it, and the event loop stalls all the same. A
    helper another reviewed module defines is found by across.py, from the facts below."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not isinstance(node.func, ast.Name) or not context.text_matches(_ASYNC_DEF):
        return
    if not context.in_async_function():
        return
    blocking = _blocking_helpers(context).get(node.func.id)
    if blocking is None or _awaited_or_offloaded(context):
        return
    yield Hit(
        node,
        f"`{node.func.id}()` blocks the event loop (it calls `{blocking}`): make it async, or "
        f"run it with `await asyncio.to_thread({node.func.id}, ...)`",
    )


def _blocking_helpers(context: ModuleContext) -> dict[str, str]:
    """Module-level `def`s (not async) that make a blocking call in their own body, with it."""
    return context.fact(_find_blocking_helpers)


def _find_blocking_helpers(context: ModuleContext) -> dict[str, str]:
    found: dict[str, str] = {}
    for statement in context.tree.body:
        if isinstance(statement, ast.FunctionDef):
            call = _first_blocking_call(statement, context)
            if call is not None:
                found[statement.name] = call
    return found


def _first_blocking_call(function: ast.FunctionDef, context: ModuleContext) -> str | None:
    for inner in body_nodes(function):
        if isinstance(inner, ast.Call):
            name = context.call_name(inner)
            if name in _BLOCKING_CALLS and not _cheap_derivation(name, inner):
                return name
    return None


# PBKDF2 at a few thousand rounds is a millisecond of CPU: a derived key, not a password hash
# (lnbits' fake wallet key, 2048 rounds).
_CHEAP_ROUNDS = 50_000


def _cheap_derivation(name: str, call: ast.Call) -> bool:
    if name != "hashlib.pbkdf2_hmac":
        return False
    given = keyword(call, "iterations")
    rounds = call.args[3] if len(call.args) > 3 else given.value if given else None
    return (
        isinstance(rounds, ast.Constant)
        and isinstance(rounds.value, int)
        and rounds.value < _CHEAP_ROUNDS
    )


# ---------------------------------------------------------------- across modules
# The facts across.py joins across the files of a review (cached per file): the plain functions a
# module defines that block, and the calls its async functions make to functions it imports. A
# helper in utils.py called from an async view in views.py stalls the loop as surely as one in
# the same module (umap's proxy view resolving a host name, khoj's text-to-speech call).

# A source that holds none of these makes no blocking call a function could be flagged for.
_MAY_BLOCK = re.compile(
    r"requests\.|time\.sleep|sleep\(|urlopen|subprocess|os\.system|socket\.|connect\(|bcrypt|SMTP"
    r"|pbkdf2|scrypt|argon2|get\(|post\("
)


def blocking_definitions(context: ModuleContext) -> dict[str, str]:
    """Module-level plain `def`s that block, with the blocking call: directly (the same-module
    check's helpers) or by calling another such `def` of the module."""
    if not context.text_matches(_MAY_BLOCK):
        return {}
    found = dict(_blocking_helpers(context))
    functions = [s for s in context.tree.body if isinstance(s, ast.FunctionDef)]
    grew = bool(found)
    while grew:
        grew = False
        for function in functions:
            if function.name not in found:
                via = _calls_one_of(function, found)
                if via is not None:
                    found[function.name] = found[via]
                    grew = True
    return found


def _calls_one_of(function: ast.FunctionDef, names: dict[str, str]) -> str | None:
    for inner in body_nodes(function):
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Name)
            and inner.func.id in names
            and inner.func.id != function.name
        ):
            return inner.func.id
    return None


def async_calls_to(imported: dict[str, str], context: ModuleContext) -> list[tuple[ast.Call, str]]:
    """Calls in `async def` bodies, not awaited, to a name in `imported` (a name -> the dotted
    name it was imported as) that the module does not define itself."""
    if not imported or not context.text_matches(_ASYNC_DEF):
        return []
    own = {s.name for s in context.tree.body if isinstance(s, ast.FunctionDef | ast.ClassDef)}
    found: list[tuple[ast.Call, str]] = []
    for function in ast.walk(context.tree):
        if not isinstance(function, ast.AsyncFunctionDef):
            continue
        awaited = set()
        for inner in body_nodes(function):
            if isinstance(inner, ast.Await):
                awaited.add(id(inner.value))
            elif (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and id(inner) not in awaited
                and inner.func.id in imported
                and inner.func.id not in own
            ):
                found.append((inner, imported[inner.func.id]))
    return found
