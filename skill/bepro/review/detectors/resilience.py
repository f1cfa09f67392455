"""Detectors for timeouts and retries: waits with no deadline, retry loops that hammer or never stop.

ruff's S113 already flags module-level `requests.*` calls without a timeout; these cover the waits
it does not see (sessions, sockets, subprocesses, database drivers, asyncio.wait).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from bepro.review.context import ModuleContext, has_kwargs_splat, is_none, keyword, string_parts
from bepro.review.detectors._scope import (
    FUNCTIONS,
    HTTP_CLIENT_FACTORIES,
    HTTP_VERBS,
    NESTED_SCOPES,
    REDIS_CLIENTS,
    REDIS_URL_FACTORIES,
    SOCKET_TIMEOUT_CLIENTS,
    Function,
    admin_only,
    assigned_values,
    body_nodes,
    calls_of_picked,
    enclosing_class,
    factory_of,
    is_name,
    is_self_attribute,
    last_name,
    method_call,
    name_parts,
    named_parameters,
    own_nodes,
    picked_names,
    walk,
)
from bepro.review.registry import (
    NO_DJANGO,
    SESSION_DEFAULT_TIMEOUT,
    SOCKET_DEFAULT_TIMEOUT,
    Hit,
    detector,
)

# ---------------------------------------------------------------- timeouts


@dataclass(frozen=True)
class _Wait:
    """Where a blocking call takes its timeout, and what happens without one."""

    keywords: tuple[str, ...]
    why: str
    position: int | None = None  # index of a positional timeout argument, if the signature has one
    dsn_key: str | None = None  # a connection string may carry the timeout instead
    uses_socket_default: bool = False  # socket.setdefaulttimeout() in the module bounds it
    exempt: tuple[str, ...] = ()  # keywords that change what the call waits for


_HANGS = "a peer that stops answering blocks the caller forever"
_REDIS = "redis-py's default is no socket timeout: a stalled server blocks every caller forever"
_CHILD = "a hung child process blocks the caller forever"
_PG_CONNECT = _Wait(
    ("connect_timeout",),
    "an unreachable database host hangs the connect for minutes of TCP retries",
    dsn_key="connect_timeout",
)
_ASYNCPG = _Wait(
    ("timeout", "command_timeout"),
    "a stuck query holds its connection forever (no command_timeout)",
)
_BLOCKING_CALLS: dict[str, _Wait] = {
    "urllib.request.urlopen": _Wait(("timeout",), _HANGS, position=2, uses_socket_default=True),
    "socket.create_connection": _Wait(("timeout",), _HANGS, position=1, uses_socket_default=True),
    # websocket-client's own default timeout (websocket.setdefaulttimeout), None unless set:
    # every send and recv on the connection then waits forever (lnbits' Cliche wallet, DMOJ's
    # event poster)
    "websocket.create_connection": _Wait(("timeout",), _HANGS, position=1),
    "websocket._core.create_connection": _Wait(("timeout",), _HANGS, position=1),
    "http.client.HTTPConnection": _Wait(("timeout",), _HANGS, position=2, uses_socket_default=True),
    "http.client.HTTPSConnection": _Wait(("timeout",), _HANGS, uses_socket_default=True),
    **{
        name: _Wait(("timeout",), _HANGS, position=position, uses_socket_default=True)
        for name, position in SOCKET_TIMEOUT_CLIENTS.items()
    },
    # async_=True returns at once and libpq ignores connect_timeout: the caller's poll loop waits
    "psycopg2.connect": replace(_PG_CONNECT, exempt=("async_",)),
    "psycopg.connect": _PG_CONNECT,
    "psycopg.Connection.connect": _PG_CONNECT,
    "psycopg.AsyncConnection.connect": _PG_CONNECT,
    "asyncpg.connect": _ASYNCPG,
    "asyncpg.create_pool": _ASYNCPG,
    # redis-py waits forever on a socket by default; a connection pool carries its own timeouts
    **dict.fromkeys(
        REDIS_CLIENTS,
        _Wait(("socket_timeout",), _REDIS, position=4, exempt=("connection_pool",)),
    ),
    **dict.fromkeys(
        REDIS_URL_FACTORIES,
        _Wait(("socket_timeout",), _REDIS, dsn_key="socket_timeout", exempt=("connection_pool",)),
    ),
}
# SDK clients whose calls have no timeout unless one is configured where the client is made
# (each library's source read: zeep 4.3, twilio 9, google-genai 1, gql 3.5, python-gitlab 4;
# caldav's signature from its typeshed stub, timeout sixth and None by default): apart, so their
# precision is counted on its own. The keyword named is where the bound goes.
_ZEEP = _Wait(
    ("transport",),
    "zeep sends SOAP operations with no timeout unless its Transport has operation_timeout",
)
_SDK_CLIENTS: dict[str, _Wait] = {
    "zeep.Client": _ZEEP,
    "zeep.AsyncClient": _ZEEP,
    "twilio.rest.Client": _Wait(
        ("http_client",),
        "twilio's default HTTP client has no timeout; pass TwilioHttpClient(timeout=...)",
    ),
    "google.genai.Client": _Wait(
        ("http_options",),
        "google-genai sets no timeout; pass HttpOptions(timeout=...), in milliseconds",
    ),
    "gql.transport.requests.RequestsHTTPTransport": _Wait(
        ("timeout",), "gql's requests transport waits forever on a server that stops answering"
    ),
    "gitlab.Gitlab": _Wait(
        ("timeout",),
        "python-gitlab passes its timeout, None unless given, to every API request: a GitLab "
        "server that stops answering blocks the caller forever",
        position=7,
    ),
    "caldav.DAVClient": _Wait(
        ("timeout",),
        "caldav passes its timeout, None unless given, to every request: a calendar server "
        "that stops answering blocks the caller forever",
        position=5,
    ),
}
# The OpenAI and Anthropic SDKs' clients: bounded, but by a default (600 s, each call retried
# twice) longer than any request or task should wait on a model (recall notes of khoj, docs,
# meet and yournextrepresentative; rapidpro's for Anthropic). Apart, because the default is a
# bound all the same; judged on eight applications, 15 of 17 worth fixing (a view under
# gunicorn's 30 s kill and a long court-audio transcription were not).
_LLM_DEFAULT = _Wait(
    ("timeout",),
    "the SDK's default is 600 s, retried twice, so a stalled model holds the request or task "
    "for up to half an hour; pass timeout= sized to what the caller can wait",
)
_LLM_CLIENTS: dict[str, _Wait] = dict.fromkeys(
    ("openai.OpenAI", "openai.AsyncOpenAI", "openai.AzureOpenAI", "openai.AsyncAzureOpenAI",
     "anthropic.Anthropic", "anthropic.AsyncAnthropic"),
    _LLM_DEFAULT,
)  # fmt: skip
# asyncio.wait: apart, a preview code, because the tasks it waits for were bounded by their own
# calls' timeouts in all 8 judged on real code (supervisor's, jupyterhub's). return_when=
# FIRST_COMPLETED races tasks against each other (a reply vs. a disconnect).
_TASK_WAITS: dict[str, _Wait] = {
    "asyncio.wait": _Wait(
        ("timeout",), "if one task never finishes the caller waits forever", exempt=("return_when",)
    ),
}
# A child process: apart, because most of these run local tools that end (git, a converter at
# build time), so they stay a preview code while the network waits above are on by default.
_CHILD_RUNS: dict[str, _Wait] = dict.fromkeys(
    ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"),
    _Wait(("timeout",), _CHILD),
)
_REQUESTS_SESSIONS = frozenset(
    {"requests.Session", "requests.session", "requests.sessions.Session"}
)


@detector(
    "blocking-call-without-timeout",
    "timeouts",
    nodes=(ast.Call, ast.IfExp),
    callees=_BLOCKING_CALLS,
)
def blocking_call_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A socket, mail or file-transfer client, or a database or redis connect with no timeout
    can block forever (not reported on pages only staff reach). The class may be picked first
    and called later: `smtplib.SMTP_SSL if ssl else smtplib.SMTP`, bound to a name or an
    attribute or returned by a property (FitTrackee's and FlexGet's mail senders)."""
    if isinstance(node, ast.IfExp):
        names = picked_names(node, context)
        if not all(name in _BLOCKING_CALLS for name in names):
            return
        for call, function in calls_of_picked(node, context):
            yield from _wait_without_timeout(call, context, _BLOCKING_CALLS, names[0], function)
        return
    yield from _wait_without_timeout(node, context, _BLOCKING_CALLS)


@detector("sdk-client-without-timeout", "timeouts", nodes=(ast.Call,), callees=_SDK_CLIENTS)
def sdk_client_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """An SDK client made without the setting that bounds its calls (zeep, twilio, google-genai,
    gql): every call it makes can hang, and no call site can fix it. The recall notes of five
    audited applications named one (khoj, ecommerce, open-prices, rotki, and twilio in khoj).
    zeep's `Transport(timeout=...)` bounds only loading the WSDL, not the operations."""
    yield from _wait_without_timeout(node, context, _SDK_CLIENTS)
    transport = _zeep_transport_without_operation_timeout(node, context)
    if transport is not None and not (admin_only(context) or _inside_deadline(context)):
        yield Hit(
            transport,
            "zeep's Transport has no operation_timeout=: its timeout= bounds only loading the "
            "WSDL, and SOAP operations wait forever on a service that stops answering",
        )


# A module that bounds its calls one at a time: `client.with_options(timeout=...)`, or
# `timeout=` given to a create, parse or stream call.
_PER_CALL_TIMEOUT = re.compile(r"with_options\(|\.(?:create|parse|stream)\([^)]*\btimeout=")


@detector("llm-client-default-timeout", "timeouts", nodes=(ast.Call,), callees=_LLM_CLIENTS)
def llm_client_default_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`OpenAI(api_key=...)` with no timeout=: every completion may wait 600 s and is retried
    twice, far past a web worker's or a task's budget. Not reported where the module bounds
    its calls one at a time, nor for a client a function makes only to list the models (a
    start-up probe: the SDK's 5 s connect timeout covers a host that is down)."""
    if context.text_matches(_PER_CALL_TIMEOUT) or _lists_models_only(node, context):
        return
    yield from _wait_without_timeout(node, context, _LLM_CLIENTS)


def _lists_models_only(call: ast.AST, context: ModuleContext) -> bool:
    """The call is bound to a local name whose every use in the function is `name.models...`."""
    function, parent = context.enclosing_function(), context.stack[-1] if context.stack else None
    if function is None or not isinstance(parent, ast.Assign) or parent.value is not call:
        return False
    targets = [t.id for t in parent.targets if isinstance(t, ast.Name)]
    if len(targets) != 1:
        return False
    models = loads = 0  # each `name.models` holds one load of `name`
    for node in body_nodes(function):
        if isinstance(node, ast.Name) and node.id == targets[0] and isinstance(node.ctx, ast.Load):
            loads += 1
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == targets[0]
            and node.attr == "models"
        ):
            models += 1
    return models > 0 and models == loads


def _zeep_transport_without_operation_timeout(
    node: ast.AST, context: ModuleContext
) -> ast.Call | None:
    """The `Transport(...)` a zeep client is made with, when it sets no operation_timeout."""
    if (
        not isinstance(node, ast.Call)
        or _SDK_CLIENTS.get(context.call_name(node) or "") is not _ZEEP
    ):
        return None
    transport = keyword(node, "transport")
    made = transport.value if transport is not None else None
    if (
        isinstance(made, ast.Call)
        and last_name(made.func) in {"Transport", "AsyncTransport"}
        and not has_kwargs_splat(made)
        and keyword(made, "operation_timeout") is None
    ):
        return made
    return None


@detector("task-wait-without-timeout", "timeouts", nodes=(ast.Call,), callees=_TASK_WAITS)
def task_wait_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`asyncio.wait(tasks)` with no timeout waits as long as the slowest task."""
    yield from _wait_without_timeout(node, context, _TASK_WAITS)


@detector("subprocess-without-timeout", "timeouts", nodes=(ast.Call,), callees=_CHILD_RUNS)
def subprocess_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A child process run with no timeout blocks its caller for as long as it hangs."""
    yield from _wait_without_timeout(node, context, _CHILD_RUNS)


def _wait_without_timeout(
    node: ast.AST,
    context: ModuleContext,
    waits: dict[str, _Wait],
    name: str | None = None,
    function: Function | None = None,
) -> Iterator[Hit]:
    """`name`: what the call makes, when its callee does not say (a class picked before), and
    `function` the one it is in, when that is not the one being visited."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    name = name or context.call_name(node)
    wait = waits.get(name) if name else None
    if (
        wait is None
        or _splat_may_carry(node, wait.keywords + wait.exempt, context, function)
        or any(keyword(node, kw) for kw in wait.keywords + wait.exempt)
    ):
        return
    if wait.position is not None and len(node.args) > wait.position:
        return
    if wait.dsn_key and _dsn_may_set(node, wait.dsn_key):
        return
    if wait.uses_socket_default and _sets_socket_default(context.tree):
        return
    if admin_only(context) or _inside_deadline(context):
        return
    if _prompts_at_a_terminal(function or context.enclosing_function(), context):
        return
    yield Hit(
        node,
        f"`{name}()` has no {' or '.join(wait.keywords)}=: {wait.why}",
        unless=(SOCKET_DEFAULT_TIMEOUT,) if wait.uses_socket_default else (),
    )


def _prompts_at_a_terminal(function: Function | None, context: ModuleContext) -> bool:
    """A function that asks its user for input (`input()`, `getpass()`) runs with someone at the
    terminal to interrupt a wait (modoboa's DMARC import from an IMAP mailbox)."""
    return function is not None and any(
        isinstance(node, ast.Call)
        and context.qualified_name(node.func) in {"input", "getpass.getpass"}
        for node in body_nodes(function)
    )


def _dsn_may_set(call: ast.Call, key: str) -> bool:
    """A literal DSN is read; a DSN from a variable may set the timeout, so it counts as set."""
    dsn_keyword = keyword(call, "dsn") or keyword(call, "conninfo") or keyword(call, "url")
    dsn = call.args[0] if call.args else (dsn_keyword.value if dsn_keyword else None)
    if dsn is None:
        return False
    text = string_parts(dsn)
    return key in text if text else True


@functools.lru_cache(maxsize=8)
def _sets_socket_default(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr == "setdefaulttimeout" for node in walk(tree)
    )


# Functions that start an application up: a socket timeout set in one holds for the process.
_START_UP = frozenset(
    {"main", "initialize", "initialise", "start", "startup", "bootstrap", "setup"}
)
# ... and the stages named after them (SickGear's `initialize` calls `init_stage_1`).
_START_UP_PREFIXES = frozenset({"init", "initialize", "initialise", "startup", "bootstrap"})


def _starts_up(name: str) -> bool:
    words = name_parts(name)
    return name in _START_UP or (len(words) > 1 and words[0] in _START_UP_PREFIXES)


def sets_socket_timeout(tree: ast.Module, entry_point: bool) -> bool:
    """`socket.setdefaulttimeout(30)` (not None) where the application starts up, in a start-up
    function (SickChill's `initialize`, Medusa's `Application.start`, SickGear's
    `init_stage_1`) or at the top of a module run as a program: every standard-library socket
    opened later without a timeout of its own gets this one. Set anywhere else (before one download, in a Windows service's __init__, as
    an import's side effect) it says nothing about the calls of other modules."""
    nodes = list(own_nodes(tree.body)) if entry_point else []
    for function in walk(tree):
        if isinstance(function, FUNCTIONS) and _starts_up(function.name):
            nodes += body_nodes(function)
    return any(
        isinstance(node, ast.Call)
        and last_name(node.func) == "setdefaulttimeout"
        and bool(node.args)
        and not is_none(node.args[0])
        for node in nodes
    )


def defines_timed_session(tree: ast.Module) -> bool:
    """A class with a base named *Session whose request() gives every call a timeout: a timeout
    parameter with a default (Medusa's MedusaSession: `def request(self, method, url, ...,
    timeout=30, **kwargs)`), or `setdefault("timeout", ...)`."""
    return any(
        isinstance(cls, ast.ClassDef)
        and any((last_name(base) or "").endswith("Session") for base in cls.bases)
        and _request_times_out(cls)
        for cls in walk(tree)
    )


def _request_times_out(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(method, FUNCTIONS)
        and method.name == "request"
        and (_defaults_timeout(method) or _sets_default_timeout(method))
        for method in cls.body
    )


def _defaults_timeout(method: Function) -> bool:
    """`timeout=30` among the parameters (not `timeout=None`)."""
    return any(
        arg.arg == "timeout" and default is not None and not is_none(default)
        for arg, default in named_parameters(method.args)
    )


def _sets_default_timeout(method: Function) -> bool:
    """`kwargs.setdefault("timeout", ...)` in the body."""
    return any(
        isinstance(node, ast.Call)
        and last_name(node.func) == "setdefault"
        and bool(node.args)
        and string_parts(node.args[0]) == "timeout"
        for node in body_nodes(method)
    )


_REQUESTS_ROOT = frozenset({"requests"})
# In a module that imports requests, a client held under one of these names is taken for a
# requests.Session even when it was built elsewhere (`self._http`, `request.http`,
# `self.session`): what else such a module calls `.post(url)` on is rarely anything else...
_HTTP_NAME = re.compile(r"(?:^|_)http(?:_|$)", re.IGNORECASE)
_SESSION_NAME = re.compile(r"(?:^|_)session(?:_|$)", re.IGNORECASE)
# ...unless the module also imports a library whose clients are something else: httpx and aiohttp
# clients have a default timeout, and an ORM session has `.get(Model, id)` and `.delete(obj)`.
_OTHER_CLIENTS = frozenset({"httpx", "aiohttp"})
_ORM_SESSIONS = frozenset({"sqlalchemy", "flask_sqlalchemy", "sqlmodel"})


# requests_oauthlib's OAuth 2 session is a requests.Session whose token calls take timeout= too
# (arches' and liberapay's sign-in callbacks fetch tokens with none).
_OAUTHLIB_ROOT = frozenset({"requests_oauthlib"})
_OAUTHLIB_SESSIONS = frozenset(
    {"requests_oauthlib.OAuth2Session", "requests_oauthlib.oauth2_session.OAuth2Session"}
)
_TOKEN_CALLS = frozenset({"fetch_token", "refresh_token"})
_SESSION_CALLS = HTTP_VERBS | {"send"}


@detector(
    "session-call-without-timeout",
    "timeouts",
    nodes=(ast.Call,),
    callees=_SESSION_CALLS | _TOKEN_CALLS,
)
def session_call_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`requests.Session()` has no default timeout; ruff's S113 does not follow session objects.
    Nor does requests_oauthlib's OAuth2Session, whose token requests wait as long."""
    called = method_call(node)
    if called is None or not context.imports_any(_REQUESTS_ROOT | _OAUTHLIB_ROOT):
        return
    assert isinstance(node, ast.Call)  # noqa: S101 - method_call matched a call
    if keyword(node, "timeout"):
        return
    forwarded = _forwards_what_callers_leave_out(node, "timeout", context)
    if not forwarded and _splat_may_carry(node, ("timeout",), context):
        return
    if _mounts_timeout_adapter(context.tree):
        return
    receiver = ast.unparse(called[0])
    if called[1] in _TOKEN_CALLS:
        if _oauthlib_session(called[0], context):
            yield Hit(
                node, f"`{receiver}.{called[1]}()` on an OAuth2Session has no timeout=: {_HANGS}"
            )
        return
    if called[1] not in _SESSION_CALLS:
        return
    made_by = factory_of(context, called[0], context.stack)
    if made_by is None:
        if not context.imports_any(_REQUESTS_ROOT):
            return
        if not _held_as_a_requests_session(node, called, context):
            return
    elif made_by not in _REQUESTS_SESSIONS | _OAUTHLIB_SESSIONS:
        return
    yield Hit(
        node,
        f"`{receiver}.{called[1]}()` on a requests.Session has no timeout=: {_HANGS}",
        # a session made elsewhere may be the project's own subclass that times out (Medusa's)
        unless=(SESSION_DEFAULT_TIMEOUT,) if made_by is None else (),
    )


def _forwards_what_callers_leave_out(call: ast.Call, key: str, context: ModuleContext) -> bool:
    """A method that passes its own `**kwargs` on (`def request(self, method, path, **kwargs)`)
    whose every call in this module, through `self` or an instance made here, gives no `key`
    (mwdb's remote API, insights' REST data source: `self.request("GET", endpoint, params=...)`)."""
    function, owner = context.enclosing_function(), enclosing_class(context)
    if function is None or owner is None or function.args.kwarg is None:
        return False
    forwarded = function.args.kwarg.arg
    splats = [argument.value for argument in call.keywords if argument.arg is None]
    if not splats or not all(is_name(splat, forwarded) for splat in splats):
        return False
    callers = list(_calls_of_method(function.name, owner, context.tree))
    return bool(callers) and not any(
        keyword(caller, key) or has_kwargs_splat(caller) for caller in callers
    )


def _calls_of_method(name: str, owner: ast.ClassDef, tree: ast.Module) -> Iterator[ast.Call]:
    """`self.<name>(...)` in the class's methods, and `<instance>.<name>(...)` where a function
    of the module binds the instance to `<Class>(...)` (mwdb's `remote = RemoteAPI(name)`)."""
    for function in (n for n in walk(tree) if isinstance(n, FUNCTIONS)):
        instances = {
            target.id
            for node in body_nodes(function)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and is_name(node.value.func, owner.name)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        inside = function in owner.body
        for node in body_nodes(function):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == name
            ):
                continue
            receiver = node.func.value
            if (inside and is_name(receiver, "self")) or (
                isinstance(receiver, ast.Name) and receiver.id in instances
            ):
                yield node


def _oauthlib_session(receiver: ast.expr, context: ModuleContext) -> bool:
    """requests_oauthlib's OAuth2Session, made here or, in a module that imports it, elsewhere."""
    if not context.imports_any(_OAUTHLIB_ROOT):
        return False
    made_by = factory_of(context, receiver, context.stack)
    return made_by is None or made_by in _OAUTHLIB_SESSIONS


_REQUEST_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})


@detector(
    "request-by-name-without-timeout",
    "timeouts",
    nodes=(ast.Call, ast.Assign),
    callees={"getattr"},
)
def request_by_name_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A requests function or Session method picked by name, or bound to a name, and called
    without timeout= (`getattr(requests, method)(url)`, `method = requests.post` then
    `method(url)`): one helper behind every outbound call of an application (Tautulli's
    notifiers, IntelOwl's generic analyzer, udata's resource events), which ruff's S113 does not
    see."""
    if isinstance(node, ast.Assign):
        if isinstance(node.value, ast.Attribute) and context.imports_any(_REQUESTS_ROOT):
            yield from _bound_verb_calls(node, context)
        return
    if not context.imports_any(_REQUESTS_ROOT):
        return
    assert isinstance(node, ast.Call)  # noqa: S101 - the detector asks for calls and assignments
    if len(node.args) < 2 or not _requests_client(node.args[0], context):
        return
    for call in _calls_of(node, context):
        if not keyword(call, "timeout") and not _splat_may_carry(call, ("timeout",), context):
            client = ast.unparse(node.args[0])
            yield Hit(call, f"a `{client}` method picked by getattr has no timeout=: {_HANGS}")


def _bound_verb_calls(node: ast.Assign, context: ModuleContext) -> Iterator[Hit]:
    """Calls, in the enclosing function, of a name bound here to `requests.<verb>` (or a
    Session's), without timeout=."""
    verb = node.value
    if not (
        isinstance(verb, ast.Attribute)
        and verb.attr in _REQUEST_VERBS
        and _requests_client(verb.value, context)
    ):
        return
    names = {target.id for target in node.targets if isinstance(target, ast.Name)}
    for call in walk(context.enclosing_function() or context.tree):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in names
            and not keyword(call, "timeout")
            and not _splat_may_carry(call, ("timeout",), context)
        ):
            name = call.func.id
            yield Hit(
                call, f"`{name}` holds a requests function, called without timeout=: {_HANGS}"
            )


def _requests_client(expr: ast.expr, context: ModuleContext) -> bool:
    """The requests module, or a requests.Session (made here or held under a session's name)."""
    if isinstance(expr, ast.Name) and context.aliases.get(expr.id) == "requests":
        return True
    made_by = factory_of(context, expr, context.stack)
    if made_by is not None:
        return made_by in _REQUESTS_SESSIONS
    stand_in = ast.Call(func=ast.Name("request"), args=[ast.Name("url")], keywords=[])
    return _held_as_a_requests_session(stand_in, (expr, "request"), context)


def _calls_of(picked: ast.Call, context: ModuleContext) -> Iterator[ast.Call]:
    """The calls, in the enclosing function, of what `picked` returns: at once
    (`getattr(...)(url)`) or through the name it is bound to."""
    scope = context.enclosing_function() or context.tree
    names = {
        target.id
        for statement in walk(scope)
        if isinstance(statement, ast.Assign) and statement.value is picked
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    for call in walk(scope):
        if isinstance(call, ast.Call) and (
            call.func is picked or (isinstance(call.func, ast.Name) and call.func.id in names)
        ):
            yield call


# authlib's requests-based OAuth 2 client, and the integrations that build one per provider. Its
# httpx clients (Starlette, httpx_client) have httpx's 5 s default.
_AUTHLIB_SESSIONS = frozenset(
    {"authlib.integrations.requests_client.OAuth2Session",
     "authlib.integrations.requests_client.oauth2_session.OAuth2Session"}
)  # fmt: skip
_AUTHLIB_REGISTRIES = re.compile(r"authlib\.integrations\.(?:flask_client|django_client)\b")
_PROVIDER_KEYWORDS = frozenset(
    {"client_id", "server_metadata_url", "access_token_url", "authorize_url", "api_base_url",
     "client_kwargs"}
)  # fmt: skip


@detector(
    "oauth-client-without-timeout",
    "timeouts",
    nodes=(ast.Call,),
    callees={"OAuth2Session", "register"},
)
def oauth_client_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """authlib's `OAuth2Session`, and the client `oauth.register(...)` builds in its Flask and
    Django integrations, send with no timeout unless given `default_timeout`: a login's metadata,
    token and userinfo calls wait forever on an identity provider that stops answering (lego's,
    mitxonline's and aleph's sign-in). S113 sees only direct requests calls."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if keyword(node, "default_timeout") or _splat_may_carry(node, ("default_timeout",), context):
        return
    if context.call_name(node) in _AUTHLIB_SESSIONS:
        yield Hit(node, f"authlib's `OAuth2Session` has no default_timeout=: {_HANGS}")
    elif _registers_requests_client(node, context):
        yield Hit(
            node,
            "`register()` builds an authlib requests client with no default_timeout: the "
            "provider's metadata, token and userinfo calls wait forever when it stops answering; "
            "pass client_kwargs={'default_timeout': ...}",
        )


def _registers_requests_client(call: ast.Call, context: ModuleContext) -> bool:
    """`oauth.register(name=..., client_id=..., client_kwargs={...})` from authlib's Flask or Django
    integration, for OAuth 2 (an OAuth 1 provider has a request_token_url), with client_kwargs a
    literal dict that sets no default_timeout (or none at all)."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr != "register":
        return False
    function = context.enclosing_function()
    given: dict[str, ast.expr] = {}
    for argument in call.keywords:
        splat = None if argument.arg else _local_dict_entries(argument.value, function)
        if argument.arg is None and splat is None:
            return False  # options from elsewhere may set the timeout
        given.update(splat or {str(argument.arg): argument.value})
    if not given.keys() & _PROVIDER_KEYWORDS or "request_token_url" in given:
        return False
    if not context.text_matches(_AUTHLIB_REGISTRIES):
        return False
    options = given.get("client_kwargs")
    if options is None:
        return True
    if isinstance(options, ast.Name):  # pgadmin's `client_kwargs = {"scope": ...}`
        return _local_dict_without(options, ("default_timeout", "timeout"), function)
    return isinstance(options, ast.Dict) and not any(
        key is None or string_parts(key) in {"default_timeout", "timeout"} for key in options.keys
    )


def _local_dict_entries(value: ast.expr, function: Function | None) -> dict[str, ast.expr] | None:
    """The literal entries of a local dict the function builds from literals alone (see
    _local_dict_without), or None."""
    if not _local_dict_without(value, (), function) or function is None:
        return None
    assert isinstance(value, ast.Name)  # noqa: S101 - _local_dict_without checked it
    entries: dict[str, ast.expr] = {}
    for node in walk(function):
        if (
            isinstance(node, ast.Assign)
            and any(is_name(t, value.id) for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            entries.update(
                (str(key.value), item)
                for key, item in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(key, ast.Constant)
            )
    return entries


def _splat_may_carry(
    call: ast.Call,
    keys: tuple[str, ...],
    context: ModuleContext,
    function: Function | None = None,
) -> bool:
    """Whether a `**options` of the call may hold one of `keys`: yes, unless `options` is a dict
    whose every binding is seen to leave them out: an attribute of `self` that its class only
    binds to literals without them (modoboa's CardDAV client sends `**self._settings`, built from
    `verify` and `auth` only, with nine session calls), or a local name the function builds the
    same way (jumpserver's SMS sender: `kwargs = {"json": params}`, then `action(url, **kwargs)`).
    """
    return any(
        not _self_dict_without(splat.value, keys, context)
        and not _local_dict_without(splat.value, keys, function or context.enclosing_function())
        for splat in call.keywords
        if splat.arg is None
    )


def timeout_splat_lines(tree: ast.Module) -> tuple[int, ...]:
    """Lines of calls that pass `**options` where the same function builds `options` as a dict
    literal with a "timeout" key (OctoPrint's webcam snapshot: `requests.get(url, **params)`,
    `params = {"timeout": ..., ...}`; tubearchivist's `request_kwargs: dict = {"timeout": 30}`)
    or stores one in it, or takes it from a function of the module that returns
    one (tubesync's `url, kwargs = self.make_request_args(...)`, `dict(..., timeout=...)`):
    ruff's S113 cannot see through the `**`. So are calls that forward the function's own
    `**kwargs` where every call of it in the module passes timeout= (frigate's llama.cpp client:
    `_get(url, **kwargs)` wraps requests.get, each of its eight callers sizes the timeout), the
    converse of _forwards_what_callers_leave_out."""
    found = list(_forwarded_by_timed_callers(tree))
    returners = {
        function.name
        for function in walk(tree)
        if isinstance(function, FUNCTIONS)
        and any(
            isinstance(node, ast.Return) and node.value is not None and _holds_timeout(node.value)
            for node in body_nodes(function)
        )
    }
    for function in walk(tree):
        if not isinstance(function, FUNCTIONS):
            continue
        nodes = list(body_nodes(function))
        carriers = {
            target.id
            for node in nodes
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and node.value is not None
            and (
                _literal_with(node.value, ("timeout",))
                or (isinstance(node.value, ast.Call) and last_name(node.value.func) in returners)
            )
            for target in (inner for assigned in _targets(node) for inner in walk(assigned))
            if isinstance(target, ast.Name)
        } | {name for node in nodes if (name := _stores_timeout(node))}
        found += [
            node.lineno
            for node in nodes
            if carriers
            and isinstance(node, ast.Call)
            and any(
                k.arg is None and isinstance(k.value, ast.Name) and k.value.id in carriers
                for k in node.keywords
            )
        ]
    return tuple(sorted(set(found)))


def _forwarded_by_timed_callers(tree: ast.Module) -> Iterator[int]:
    """Lines where a method forwards its own `**kwargs`, when the module calls that method at
    least once and always with timeout=."""
    for owner in (node for node in walk(tree) if isinstance(node, ast.ClassDef)):
        for method in owner.body:
            if not isinstance(method, FUNCTIONS) or method.args.kwarg is None:
                continue
            callers = list(_calls_of_method(method.name, owner, tree))
            if not callers or not all(keyword(call, "timeout") for call in callers):
                continue
            forwarded = method.args.kwarg.arg
            yield from (
                node.lineno
                for node in body_nodes(method)
                if isinstance(node, ast.Call)
                and any(k.arg is None and is_name(k.value, forwarded) for k in node.keywords)
            )


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _stores_timeout(node: ast.AST) -> str | None:
    """The dict `options["timeout"] = t` stores a timeout in (tubearchivist's subtitle client
    builds `request_kwargs` so before `requests.get(url, **request_kwargs)`)."""
    if not isinstance(node, ast.Assign):
        return None
    for target in node.targets:
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and isinstance(target.slice, ast.Constant)
            and target.slice.value == "timeout"
        ):
            return target.value.id
    return None


def _holds_timeout(value: ast.expr) -> bool:
    """A returned value with a dict literal naming "timeout" in it (alone, or in a tuple)."""
    return any(_literal_with(inner, ("timeout",)) for inner in walk(value))


def _self_dict_without(value: ast.expr, keys: tuple[str, ...], context: ModuleContext) -> bool:
    owner = enclosing_class(context)
    if owner is None or not is_self_attribute(value):
        return False
    assert isinstance(value, ast.Attribute)  # noqa: S101 - checked above

    def method_called(node: ast.AST) -> bool:  # `.update(...)`, `.setdefault(...)`: any key
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and is_self_attribute(node.func.value, value.attr)
        )

    return _bound_without(owner, is_self_attribute, value.attr, keys, method_called)


def _bound_without(
    scope: ast.AST,
    picks: Callable[[ast.AST, str], bool],
    name: str,
    keys: tuple[str, ...],
    rebinds: Callable[[ast.AST], bool],
) -> bool:
    """Whether `scope` binds the dict that `picks(node, name)` selects at least once, every time
    to a literal without the keys, and no node `rebinds` it otherwise."""
    bound = False
    for node in walk(scope):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                verdict = _binding_without(node, target, picks, name, keys)
                if verdict is False:
                    return False
                bound = bound or verdict is True
        elif rebinds(node):
            return False
    return bound


def _binding_without(
    statement: ast.Assign | ast.AnnAssign | ast.AugAssign,
    target: ast.expr,
    names: Callable[[ast.AST, str], bool],
    name: str,
    keys: tuple[str, ...],
) -> bool | None:
    """True: binds the dict `names(node, name)` picks out to a literal without the keys; False:
    may give it one (any other binding, or a store under one of them or an unknown key); None:
    not about it."""
    if names(target, name):
        return not isinstance(statement, ast.AugAssign) and _literal_without(statement.value, keys)
    if isinstance(target, ast.Subscript) and names(target.value, name):
        index = target.slice
        return False if not isinstance(index, ast.Constant) or index.value in keys else None
    if isinstance(target, ast.Tuple | ast.List):
        inside = any(names(item, name) for item in walk(target))
        return False if inside else None
    return None


def _literal_with(value: ast.AST, keys: tuple[str, ...]) -> bool:
    """`{"timeout": t}` or `dict(timeout=t)`: a dict literal naming one of the keys."""
    if isinstance(value, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value in keys for k in value.keys)
    return (
        isinstance(value, ast.Call)
        and last_name(value.func) == "dict"
        and any(k.arg in keys for k in value.keywords)
    )


def _literal_without(value: ast.expr | None, keys: tuple[str, ...]) -> bool:
    """`{"json": body}` or `dict(json=body)`, naming none of the keys."""
    if isinstance(value, ast.Dict):
        return all(isinstance(k, ast.Constant) and k.value not in keys for k in value.keys)
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "dict"
        and not value.args
        and all(k.arg is not None and k.arg not in keys for k in value.keywords)
    )


def _local_dict_without(value: ast.expr, keys: tuple[str, ...], function: Function | None) -> bool:
    """A local name `function` only binds to dict literals without the keys and stores other
    literal keys in; not a parameter, and given no other key by a method of its own."""
    if function is None or not isinstance(value, ast.Name):
        return False
    arguments = function.args
    parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    parameters += [extra for extra in (arguments.vararg, arguments.kwarg) if extra]
    if any(parameter.arg == value.id for parameter in parameters):
        return False
    rebinds = functools.partial(_rebinds, name=value.id, keys=keys)
    return _bound_without(function, is_name, value.id, keys, rebinds)


def _rebinds(node: ast.AST, name: str, keys: tuple[str, ...]) -> bool:
    """A binding other than an assignment (a loop, `with ... as`, `:=`, `global`), or a method
    call on the dict that may add one of the keys (any but `.update()` of a literal without
    them: FitTrackee's `params.update({"context": context})`)."""
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension | ast.NamedExpr):
        return any(is_name(item, name) for item in walk(node.target))
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return any(is_name(item, name) for item in walk(node.optional_vars))
    if isinstance(node, ast.Global | ast.Nonlocal):
        return name in node.names
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and is_name(node.func.value, name)
    ):
        return False
    if node.func.attr != "update" or len(node.args) > 1 or (node.args and node.keywords):
        return True
    literal = node.args[0] if node.args else ast.Call(ast.Name("dict"), [], node.keywords)
    return not _literal_without(literal, keys)


def _held_as_a_requests_session(
    call: ast.Call, called: tuple[ast.expr, str], context: ModuleContext
) -> bool:
    """A client built elsewhere, under a requests session's name, called with a URL."""
    receiver, method = called
    name = last_name(receiver) or ""
    if context.imports_any(_OTHER_CLIENTS) or _imports_a_session_with_a_timeout(context):
        return False
    if not call.args and not keyword(call, "url"):
        return False  # every requests method takes a URL: arches' `session.delete()` is a row
    if isinstance(receiver, ast.Name) and receiver.id in context.aliases:
        return False  # an imported name: flask's `session` is a mapping
    if _awaited(call, context):
        return False  # requests is synchronous: an awaited call is aiohttp's or httpx's
    if _used_as_orm_session(receiver, context) or _class_holds_a_container(receiver, context):
        return False
    if _SESSION_NAME.search(name):
        # an ORM's session (`db.session`: Flask-SQLAlchemy's, imported from the app's models),
        # or Django's and Flask's request.session (a mapping)
        if context.imports_any(_ORM_SESSIONS) or _on_request(receiver) or _on_db(receiver):
            return False
    elif not _HTTP_NAME.search(name):
        return False
    return method != "get" or _gets_a_url(call)


_ORM_METHODS = frozenset({"query", "commit", "rollback", "flush", "add", "execute", "scalars"})


def _awaited(call: ast.Call, context: ModuleContext) -> bool:
    """`await client.get(url)` or `async with session.get(url) as response` (music-assistant's
    Sonos probe on the server's aiohttp session)."""
    stack = context.stack
    if stack and isinstance(stack[-1], ast.Await):
        return True
    return (
        len(stack) > 1
        and isinstance(stack[-1], ast.withitem)
        and isinstance(stack[-2], ast.AsyncWith)
    )


def _used_as_orm_session(receiver: ast.expr, context: ModuleContext) -> bool:
    """The same name queried or committed in the function: a database session (SuperAGI's
    `session.delete(toolkit)` beside `session.query(...)` and `session.commit()`)."""
    function = context.enclosing_function()
    shown = ast.unparse(receiver)
    return function is not None and any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _ORM_METHODS
        and ast.unparse(node.func.value) == shown
        for node in body_nodes(function)
    )


def _class_holds_a_container(receiver: ast.expr, context: ModuleContext) -> bool:
    """`self.http_failed_request` where the class body binds it to `{}`, `[]` or `dict()`: a
    mapping (CouchPotato's failed-request counter per host), not a client."""
    owner = enclosing_class(context)
    if owner is None or not is_self_attribute(receiver):
        return False
    assert isinstance(receiver, ast.Attribute)  # noqa: S101 - checked above
    return any(
        isinstance(value, ast.Dict | ast.List | ast.Set)
        or (isinstance(value, ast.Call) and last_name(value.func) in {"dict", "list", "set"})
        for value in assigned_values(owner, receiver.attr)
    )


# requests.Session subclasses that set a default timeout themselves.
_SESSIONS_WITH_A_TIMEOUT = frozenset(
    {"google.auth.transport.requests.AuthorizedSession"}  # 120 s (indico's wallet client)
)


def _imports_a_session_with_a_timeout(context: ModuleContext) -> bool:
    """The client held under an http name may be a session class with its own default timeout."""
    return not _SESSIONS_WITH_A_TIMEOUT.isdisjoint(context.aliases.values())


def _on_request(receiver: ast.expr) -> bool:
    return isinstance(receiver, ast.Attribute) and last_name(receiver.value) == "request"


_DB_NAME = re.compile(r"(?:^|_)db$")


def _on_db(receiver: ast.expr) -> bool:
    """`db.session`, `self.db.session`, `app_db.session`: a database handle's session."""
    return isinstance(receiver, ast.Attribute) and bool(
        _DB_NAME.search(last_name(receiver.value) or "")
    )


def _gets_a_url(call: ast.Call) -> bool:
    """`.get(url)` or `.get(url=...)` (designate's Akamai client), not a mapping's `.get("key")`
    or `.get(key, default)`."""
    if not call.args and keyword(call, "url"):
        return True
    if len(call.args) != 1:
        return False
    text = string_parts(call.args[0])
    return not text or "/" in text


_HTTP_MODULES = frozenset({"httpx", "aiohttp"})  # requests: ruff's S113 flags timeout=None


@detector(
    "timeout-disabled",
    "timeouts",
    nodes=(ast.Call,),
    callees=HTTP_VERBS | {"send", "stream", "Client", "AsyncClient", "ClientSession", "Timeout"},
)
def timeout_disabled(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`timeout=None` on an httpx or aiohttp client or call switches the library's default timeout
    off: the call may now wait forever. A `.stream()` read by a generator that yields its events
    is a subscription (server-sent events, a long poll): waiting as long as the next event takes
    is its purpose, and such loops reconnect when the stream ends."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if not context.imports_any(_HTTP_MODULES):
        return
    given = keyword(node, "timeout")
    if given is None or not is_none(given.value):
        return
    name = context.call_name(node) or ""
    called = method_call(node)
    if called and called[1] == "stream" and _in_generator(context):
        return
    receiver = factory_of(context, called[0], context.stack) if called else None
    if name.split(".")[0] in _HTTP_MODULES or receiver in HTTP_CLIENT_FACTORIES:
        yield Hit(node, f"`{ast.unparse(node.func)}(timeout=None)` disables the timeout: {_HANGS}")


def _in_generator(context: ModuleContext) -> bool:
    function = context.enclosing_function()
    return function is not None and any(
        isinstance(inner, ast.Yield | ast.YieldFrom) for inner in body_nodes(function)
    )


# `.wait()` is left alone: it often waits for an interactive child (an editor, a pager) that
# should take as long as its user does.
_PROCESS_WAITS = frozenset({"communicate"})
_POPEN = frozenset({"subprocess.Popen"})


@detector("process-wait-without-timeout", "timeouts", nodes=(ast.Call,), callees=_PROCESS_WAITS)
def process_wait_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`Popen.communicate()` with no timeout: a child that hangs hangs its parent."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    called = method_call(node)
    if called is None or keyword(node, "timeout") or has_kwargs_splat(node):
        return
    receiver = called[0]
    made_by = (
        context.call_name(receiver)
        if isinstance(receiver, ast.Call)
        else factory_of(context, receiver, context.stack, _POPEN)
    )
    if made_by in _POPEN and len(node.args) < 2:  # communicate(input, timeout)
        yield Hit(node, f"`{ast.unparse(node.func)}()` has no timeout=: {_CHILD}")


@functools.lru_cache(maxsize=8)
def _mounts_timeout_adapter(tree: ast.Module) -> bool:
    """A transport adapter that sets a default timeout: one named for it (`TimeoutHTTPAdapter`),
    or one this module defines with its own `send()`. An adapter that only pins an address or
    TLS settings leaves the session without one."""
    own_senders = {
        node.name
        for node in walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(isinstance(item, FUNCTIONS) and item.name == "send" for item in node.body)
    }
    for node in walk(tree):
        called = method_call(node)
        if called and called[1] == "mount" and isinstance(node, ast.Call) and len(node.args) == 2:
            adapter = node.args[1]
            name = last_name(adapter.func if isinstance(adapter, ast.Call) else adapter) or ""
            if "timeout" in name.lower() or name in own_senders:
                return True
    return False


_REDIS_CACHE = re.compile(r"RedisCache")
# Options that bound a redis socket: Django's RedisCache passes OPTIONS to redis-py's pool
# (lower case), django-redis reads its own upper-case names.
_CACHE_TIMEOUT_OPTIONS = frozenset(
    {"socket_timeout", "SOCKET_TIMEOUT", "socket_connect_timeout", "SOCKET_CONNECT_TIMEOUT"}
)


# A Redis on this host written into the entry itself (EvaP's and WhoCanIVoteFor's settings):
# a deployment replaces the entry, while a name (mediacms' REDIS_LOCATION) is what its local
# settings rebind to the real server, so a name keeps the finding.
_LOOPBACK = re.compile(r"^(?:rediss?://(?:[^@/]*@)?(?:127\.0\.0\.1|localhost|\[::1\])\b|unix://)")


@detector("cache-backend-without-timeout", "timeouts", nodes=(ast.Dict,))
def cache_backend_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A Django `CACHES` entry on Redis with no socket timeout: redis-py waits forever, and the
    cache is read on most requests (sessions, permissions, throttles), so a stalled Redis hangs
    every worker thread. In the default selection: on 21 audited checkouts it finds 3 settings
    (recipes, peeringdb, mediacms), each judged worth fixing (bench/audit/), and nothing else."""
    assert isinstance(node, ast.Dict)  # noqa: S101 - registered for ast.Dict only
    if not context.text_matches(_REDIS_CACHE) or _in_development_configuration(context):
        return
    entries = _literal_entries(node)
    backend = string_parts(entries["BACKEND"]) if "BACKEND" in entries else ""
    if "RedisCache" not in backend:
        return
    options = entries.get("OPTIONS")
    if options is not None and not isinstance(options, ast.Dict):
        return  # built elsewhere: it may set the timeouts
    if options is not None and _sets_a_timeout(options):
        return
    location = entries.get("LOCATION")
    text = _location_text(location, context) if location is not None else ""
    if location is not None and (not text or "socket_timeout" in text or "?{}" in text):
        return  # a URL from a variable or with a query may carry ?socket_timeout=
    if isinstance(location, ast.Constant) and _LOOPBACK.search(text):
        return  # a development default: a deployment replaces the entry (a name it may rebind)
    yield Hit(
        node,
        f"the Redis cache backend ({backend.rpartition('.')[2]}) sets no socket timeout in "
        "OPTIONS: redis-py waits forever, and every request that reads the cache hangs with it",
    )


# django-configurations' classes for a developer's machine or the test run (richie's `Test`,
# which CI selects; its Production class builds the cache from the environment).
_DEVELOPMENT_CLASS = re.compile(
    r"(?:dev|devel|development|local|test|tests|testing|ci|continuousintegration)", re.IGNORECASE
)


def _in_development_configuration(context: ModuleContext) -> bool:
    return any(
        isinstance(node, ast.ClassDef) and _DEVELOPMENT_CLASS.fullmatch(node.name) is not None
        for node in context.stack
    )


def _location_text(location: ast.expr, context: ModuleContext) -> str:
    """The LOCATION's literal text; a name the module binds only to string literals reads as
    them (mediacms' `REDIS_LOCATION = "redis://127.0.0.1:6379/1"`), any other name as nothing."""
    if not isinstance(location, ast.Name):
        return string_parts(location)
    values = assigned_values(context.tree, location.id)
    if not values or not all(
        isinstance(value, ast.Constant) and isinstance(value.value, str) for value in values
    ):
        return ""
    return " ".join(string_parts(value) for value in values)


def _sets_a_timeout(options: ast.Dict) -> bool:
    """A timeout key anywhere in OPTIONS: django-redis also takes them inside
    CONNECTION_POOL_KWARGS and SENTINEL_KWARGS (peeringdb's Sentinel setup)."""
    return any(
        isinstance(inner, ast.Dict)
        and not _CACHE_TIMEOUT_OPTIONS.isdisjoint(_literal_entries(inner))
        for inner in walk(options)
    )


def _literal_entries(node: ast.Dict) -> dict[str, ast.expr]:
    """A dict literal's entries whose keys are string constants."""
    return {
        key.value: value
        for key, value in zip(node.keys, node.values, strict=True)
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }


# ---------------------------------------------------------------- retries

_PROCESS_EXITS = frozenset({"exit", "quit", "sys.exit", "os._exit"})
_SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "trio.sleep", "anyio.sleep", "gevent.sleep"})
_COUNTER_PARTS = frozenset({"attempt", "attempts", "retry", "retries", "tries", "try", "tried"})
_PURE_CALLS = frozenset(
    {"min", "max", "float", "int", "abs", "round", "pow", "math.pow", "math.exp", "math.ceil",
     "math.floor"}
)  # fmt: skip
_DEADLINE_SCOPES = frozenset(
    {"asyncio.timeout", "asyncio.timeout_at", "anyio.fail_after", "anyio.move_on_after",
     "trio.fail_after", "trio.move_on_after", "async_timeout.timeout"}
)  # fmt: skip
_Loop = ast.For | ast.AsyncFor | ast.While


@dataclass(frozen=True)
class _RetryLoop:
    """A loop that tries a call, sleeps after a failure and leaves on success."""

    loop: _Loop
    attempt: ast.Try
    sleeps: list[ast.Call]
    exits: list[ast.AST]  # return/raise/break that end the loop
    success_exits: list[ast.stmt]  # the unconditional return/break after the call succeeds


@detector("retry-unbounded", "retries", nodes=(ast.While,))
def retry_unbounded(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A `while True` retry loop that only leaves on success retries a dead dependency forever."""
    assert isinstance(node, ast.While)  # noqa: S101 - registered for ast.While only
    if not (isinstance(node.test, ast.Constant) and node.test.value is True):
        return
    retry = _retry_loop(node, context)
    if retry is None or _inside_deadline(context):
        return
    attempt_body = {id(inner) for inner in own_nodes(retry.attempt.body)}
    failure_exits = [
        exit_
        for exit_ in retry.exits
        if exit_ not in retry.success_exits and id(exit_) not in attempt_body
    ]
    if not failure_exits:
        yield Hit(
            node,
            "retry loop has no attempt limit or deadline: while the dependency is down it retries "
            "forever; cap attempts (3-5) or total time and then raise",
        )


@detector("retry-without-backoff", "retries", nodes=(ast.For, ast.AsyncFor, ast.While))
def retry_without_backoff(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """A retry loop whose sleep is fixed (no backoff) or grows without random jitter."""
    assert isinstance(node, _Loop)  # noqa: S101 - registered for loops only
    retry = _retry_loop(node, context)
    if retry is None:
        return
    scope = context.enclosing_function() or context.tree
    for sleep in retry.sleeps:
        delay = sleep.args[0] if sleep.args else _keyword_value(sleep, "seconds", "delay", "secs")
        verdict = _delay_verdict(delay, retry.loop, scope, context) if delay is not None else None
        if verdict:
            yield Hit(sleep, verdict)


def _retry_loop(loop: _Loop, context: ModuleContext) -> _RetryLoop | None:
    if not _looks_like_retry_header(loop, context):
        return None
    tries: list[ast.Try] = []
    sleeps: list[ast.Call] = []
    exits: list[ast.AST] = []
    for node, nested in _loop_nodes(loop):
        if isinstance(node, ast.Return | ast.Raise) or (isinstance(node, ast.Break) and not nested):
            exits.append(node)
        elif isinstance(node, ast.Call) and context.call_name(node) in _PROCESS_EXITS:
            exits.append(node)  # a command that gives up: `exit("not ready after 30 s")`
        elif nested:
            continue
        elif isinstance(node, ast.Try) and node.handlers and _has_call(node.body):
            tries.append(node)
        elif isinstance(node, ast.Call) and context.call_name(node) in _SLEEPS:
            sleeps.append(node)
    if not tries or not sleeps:
        return None
    attempt = tries[0]
    success = _success_exits(loop, attempt)
    if not success and isinstance(
        loop, ast.For
    ):  # counted: a worker loop is not `for attempt in range(n)`
        success = _checked_exits(attempt)
    return _RetryLoop(loop, attempt, sleeps, exits, success) if success else None


def _looks_like_retry_header(loop: _Loop, context: ModuleContext) -> bool:
    """`for _ in range(n)`, `while True` or `while attempt < n`."""
    if isinstance(loop, ast.While):
        if isinstance(loop.test, ast.Constant):
            return loop.test.value is True
        return any(
            isinstance(node, ast.Name) and _COUNTER_PARTS & set(name_parts(node.id))
            for node in walk(loop.test)
        )
    return _counts(loop, context)


def _success_exits(loop: _Loop, attempt: ast.Try) -> list[ast.stmt]:
    """Unconditional return/break right in the try body, its else, or the loop body after it.

    A worker loop leaves only on a condition (`if job is None: return`); a retry loop leaves as soon
    as the call succeeded. Requiring the unconditional exit keeps worker loops out.
    """
    after_try = loop.body[loop.body.index(attempt) + 1 :] if attempt in loop.body else []
    return [
        statement
        for statement in [*attempt.body, *attempt.orelse, *after_try]
        if isinstance(statement, ast.Return | ast.Break)
    ]


def _checked_exits(attempt: ast.Try) -> list[ast.stmt]:
    """`if response.status_code < 500: return ...` right in the try body: the attempt succeeded
    when its result passed the check."""
    return [
        statement
        for branch in attempt.body
        if isinstance(branch, ast.If)
        for statement in branch.body
        if isinstance(statement, ast.Return)
    ]


def _loop_nodes(loop: _Loop) -> Iterator[tuple[ast.AST, bool]]:
    """The loop body's own nodes, each with whether it sits inside a nested loop."""
    todo: list[tuple[ast.AST, bool]] = [(statement, False) for statement in reversed(loop.body)]
    while todo:
        node, nested = todo.pop()
        yield node, nested
        if isinstance(node, NESTED_SCOPES):
            continue
        inner = nested or isinstance(node, _Loop)
        todo.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))


def _has_call(statements: list[ast.stmt]) -> bool:
    return any(isinstance(node, ast.Call) for node in own_nodes(statements))


def _inside_deadline(context: ModuleContext) -> bool:
    """`async with asyncio.timeout(30):` around the loop or call bounds it, as does
    `asyncio.wait_for(...)` around a call."""
    for ancestor in context.stack:
        if isinstance(ancestor, ast.With | ast.AsyncWith):
            for item in ancestor.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and context.call_name(expr) in _DEADLINE_SCOPES:
                    return True
        elif isinstance(ancestor, ast.Call) and context.call_name(ancestor) == "asyncio.wait_for":
            return True
    return False


def _keyword_value(call: ast.Call, *names: str) -> ast.expr | None:
    found = next((kw for name in names if (kw := keyword(call, name))), None)
    return found.value if found else None


def _delay_verdict(
    delay: ast.expr, loop: _Loop, scope: ast.AST, context: ModuleContext
) -> str | None:
    """Why the delay is wrong, or None when it backs off with jitter or cannot be judged."""
    closure = _definitions(delay, scope, context)
    if closure is None:
        return None
    calls = [node for expr in closure for node in walk(expr) if isinstance(node, ast.Call)]
    if any(context.call_name(call) not in _PURE_CALLS for call in calls):
        return None  # a helper, a policy object or random: not judged here
    names = {node.id for expr in closure for node in walk(expr) if isinstance(node, ast.Name)}
    if not names & _assigned_in(loop):
        return (
            "retry sleeps a fixed delay: every client retries in lockstep and hammers a recovering "
            "dependency; back off exponentially (base 100 ms, cap a few s) with full jitter"
        )
    if _has_jitter(scope, context):
        return None
    return (
        "retry backoff has no random jitter: clients that failed together retry together; "
        "sleep random.uniform(0, backoff) (full jitter)"
    )


def _definitions(expr: ast.expr, scope: ast.AST, context: ModuleContext) -> list[ast.AST] | None:
    """The expression plus, transitively, the values assigned in the scope to the names it uses.

    None when one of those names is bound in a way whose value is not visible (unpacking, `with`).
    """
    assigned: dict[str, list[ast.AST]] = {}
    opaque: set[str] = set()
    for node in body_nodes(scope):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
                else:
                    opaque |= _names(target)
        elif isinstance(node, ast.For | ast.AsyncFor) and not _counts(node, context):
            opaque |= _names(node.target)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            opaque |= _names(node.optional_vars)
        elif isinstance(node, ast.NamedExpr):
            opaque |= _names(node.target)
    closure: list[ast.AST] = [expr]
    seen: set[str] = set()
    for current in closure:  # grows while iterating: a breadth-first closure
        for node in walk(current):
            if isinstance(node, ast.Name) and node.id not in seen:
                if node.id in opaque:
                    return None
                seen.add(node.id)
                closure.extend(assigned.get(node.id, []))
    return closure


def _counts(loop: ast.For | ast.AsyncFor, context: ModuleContext) -> bool:
    """`for attempt in range(n)` binds a plain counter."""
    return isinstance(loop.iter, ast.Call) and context.call_name(loop.iter) == "range"


def _names(node: ast.AST) -> set[str]:
    return {inner.id for inner in walk(node) if isinstance(inner, ast.Name)}


def _assigned_in(loop: _Loop) -> set[str]:
    """Names that change between iterations: the loop target and the names stored in the body."""
    changed = set() if isinstance(loop, ast.While) else _names(loop.target)
    for node, _nested in _loop_nodes(loop):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            changed.add(node.id)
    return changed


def _has_jitter(scope: ast.AST, context: ModuleContext) -> bool:
    for node in body_nodes(scope):
        if isinstance(node, ast.Call) and (context.call_name(node) or "").startswith(
            ("random.", "secrets.")
        ):
            return True
        identifier = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(identifier, str) and "jitter" in identifier.lower():
            return True
    return False


# ---------------------------------------------------------------- retry decorators

_TENACITY = frozenset({"tenacity.retry", "tenacity.Retrying", "tenacity.AsyncRetrying"})
_TENACITY_JITTER = frozenset(
    {"tenacity.wait_random", "tenacity.wait_random_exponential", "tenacity.wait_full_jitter",
     "tenacity.wait_exponential_jitter"}
)  # fmt: skip
_BACKOFF = frozenset({"backoff.on_exception", "backoff.on_predicate"})


@detector(
    "retry-decorator-defaults",
    "retries",
    nodes=(ast.Call, ast.FunctionDef, ast.AsyncFunctionDef),
    callees=_TENACITY | _BACKOFF,
)
def retry_decorator_defaults(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """tenacity retries forever with no pause unless told otherwise; backoff retries forever too."""
    if isinstance(node, FUNCTIONS):
        for decorator in node.decorator_list:
            if (
                not isinstance(decorator, ast.Call)
                and context.qualified_name(decorator) == "tenacity.retry"
            ):
                yield Hit(decorator, _tenacity_message(["no stop=", "no wait="]))
        return
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for calls and functions only
    name = context.call_name(node)
    if has_kwargs_splat(node) or name not in _TENACITY | _BACKOFF:
        return
    if name in _BACKOFF:
        if not (keyword(node, "max_tries") or keyword(node, "max_time")):
            yield Hit(node, f"`{name}` has no max_tries= or max_time=: it retries forever")
        return
    problems = _tenacity_problems(node, context)
    if problems:
        yield Hit(node, _tenacity_message(problems))


def _tenacity_problems(call: ast.Call, context: ModuleContext) -> list[str]:
    problems = [] if keyword(call, "stop") else ["no stop="]
    wait = keyword(call, "wait")
    if wait is None:
        problems.append("no wait=")
        return problems
    names = [context.call_name(n) or "" for n in walk(wait.value) if isinstance(n, ast.Call)]
    if (
        names
        and all(name.startswith("tenacity.") for name in names)
        and not set(names) & _TENACITY_JITTER
    ):
        problems.append("a wait= without jitter")
    return problems


def _tenacity_message(problems: list[str]) -> str:
    consequences = {
        "no stop=": "retries forever",
        "no wait=": "retries immediately, hammering the dependency",
        "a wait= without jitter": "clients retry in lockstep",
    }
    said = "; ".join(f"{problem} ({consequences[problem]})" for problem in problems)
    return f"tenacity retry with {said}: use stop_after_attempt(3-5) and wait_random_exponential"


# ---------------------------------------------------------------- mail over SMTP

_EMAIL_HOST = re.compile(r"\bEMAIL_HOST\b")
# In a backend's dotted path: Django's own SMTP backend, and subclasses named after it (froide's
# foirequest.smtp.EmailBackend, kitsune's SMTPEmailBackendWithSentryCapture).
_SMTP_BACKEND = "smtp"


# LDAP logins: ldap3's Server waits on the connect as long as the OS does unless given
# connect_timeout (its eighth parameter); python-ldap's connections wait forever unless
# OPT_NETWORK_TIMEOUT / OPT_TIMEOUT (or `.timeout`) is set, globally or on the connection.
# Judged on seven applications: 9 of 10 worth fixing (logins in web requests, a sync signal, a
# monitoring checker; not an operator's sync command).
_LDAP3_SERVER = _Wait(
    ("connect_timeout",),
    "ldap3 waits on an LDAP server that does not answer as long as the OS keeps trying, and every "
    "login waits with it; set connect_timeout here and receive_timeout on the Connection",
    position=7,
)
_LDAP_SETS_TIMEOUT = re.compile(r"OPT_NETWORK_TIMEOUT|OPT_TIMEOUT|\.timeout\s*=")


_LDAP_SERVER_URI = re.compile(r"\bAUTH_LDAP_SERVER_URI\b")


@detector(
    "ldap-without-timeout",
    "timeouts",
    nodes=(ast.Call, ast.Module),
    callees={"Server", "initialize"},
)
def ldap_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """An LDAP connection for logins with no network timeout (Radicale's, zou's, tracim's recall
    notes): `ldap3.Server(uri)` without connect_timeout, `ldap.initialize(uri)` in a module
    that sets neither OPT_NETWORK_TIMEOUT nor OPT_TIMEOUT, or django-auth-ldap settings
    (`AUTH_LDAP_SERVER_URI`) whose connection options set neither (Archery's recall notes)."""
    if isinstance(node, ast.Module):
        yield from _django_auth_ldap_without_timeout(node, context)
        return
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for calls and modules only
    name = context.call_name(node)
    if name == "ldap3.Server":
        yield from _wait_without_timeout(node, context, {"ldap3.Server": _LDAP3_SERVER})
    elif name == "ldap.initialize" and not context.text_matches(_LDAP_SETS_TIMEOUT):
        yield Hit(
            node,
            "`ldap.initialize()` with no OPT_NETWORK_TIMEOUT or OPT_TIMEOUT set in this module: "
            "python-ldap waits forever on an LDAP server that stops answering, and every login "
            "waits with it; set both on the connection",
        )


def _django_auth_ldap_without_timeout(module: ast.Module, context: ModuleContext) -> Iterator[Hit]:
    if not context.text_matches(_LDAP_SERVER_URI) or context.text_matches(_LDAP_SETS_TIMEOUT):
        return
    assignments = _settings_assignments(module)
    uri = next((value for name, value, _ in assignments if name == "AUTH_LDAP_SERVER_URI"), None)
    if uri is None:
        return
    yield Hit(
        uri,
        "django-auth-ldap logs users in with no OPT_NETWORK_TIMEOUT or OPT_TIMEOUT: python-ldap "
        "waits forever on an LDAP server that stops answering, and every login waits with it; "
        "set both in AUTH_LDAP_CONNECTION_OPTIONS",
    )


# Frappe's integration helpers call a requests session with no timeout and take none.
_FRAPPE_REQUESTS = {
    f"frappe.integrations.utils.{name}": _Wait(
        ("timeout",),
        "Frappe's helper sends with requests and no timeout, and takes none: a service that "
        "stops answering holds the worker forever; call requests with timeout=(connect, read)",
    )
    for name in ("make_request", "make_get_request", "make_post_request", "make_put_request",
                 "make_patch_request", "make_delete_request")
}  # fmt: skip


@detector("frappe-request-without-timeout", "timeouts", nodes=(ast.Call,), callees=_FRAPPE_REQUESTS)
def frappe_request_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`make_get_request(url)`, `frappe.integrations.utils.make_post_request(url, data=...)`:
    Frappe sends through a requests session with no timeout, and the helpers take none, so a
    partner that stops answering holds the web worker or the scheduled job forever (the recall
    notes of crm's Facebook lead sync and lms' persona post; insights' survey post). No offline
    rewrite: the fix is a requests call with a timeout, not an argument."""
    yield from _wait_without_timeout(node, context, _FRAPPE_REQUESTS)


_FLASK_MAIL = frozenset({"flask_mail.Mail"})


@detector("flask-mail-without-timeout", "timeouts", nodes=(ast.Call,), callees=_FLASK_MAIL)
def flask_mail_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """`mail = Mail(app)` from Flask-Mail: its connection opens `smtplib.SMTP(server, port)` with
    no timeout and it has no setting for one, so a mail server that stops answering blocks the
    request or task sending forever (five judges' recall notes: aleph, flaskbb, ihatemoney,
    PowerDNS-Admin, zou). A module that sets `socket.setdefaulttimeout()` bounds it."""
    assert isinstance(node, ast.Call)  # noqa: S101 - registered for ast.Call only
    if context.call_name(node) not in _FLASK_MAIL or _sets_socket_default(context.tree):
        return
    yield Hit(
        node,
        "Flask-Mail opens its SMTP connection with no timeout and has no setting for one: a "
        "mail server that stops answering blocks the request or task sending forever; call "
        "`socket.setdefaulttimeout()` where the app starts, or move to Flask-Mailman "
        "(MAIL_TIMEOUT)",
    )


@detector("smtp-without-timeout", "timeouts", nodes=(ast.Module,))
def smtp_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """Django settings that send mail over SMTP (`EMAIL_HOST`) with no `EMAIL_TIMEOUT`: Django's
    SMTP backend then passes timeout=None to smtplib, and a mail server that stops answering
    hangs the request or worker that sends, a password reset or a notification task. Three
    audits' recall notes found it (bookwyrm's password reset in the request, froide's and plane's
    mail workers with no task time limit)."""
    assert isinstance(node, ast.Module)  # noqa: S101 - registered for ast.Module only
    if not context.text_matches(_EMAIL_HOST) or not _django_settings(context):
        return
    assignments = _settings_assignments(node)
    host = next((value for name, value, _ in assignments if name == "EMAIL_HOST"), None)
    if host is None or any(name == "EMAIL_TIMEOUT" for name, _, _ in assignments):
        return
    if not _may_use_smtp(assignments):
        return
    yield Hit(
        host,
        "mail goes out over SMTP with no EMAIL_TIMEOUT: smtplib waits forever on a mail server "
        "that stops answering, and the request or task sending it hangs; set EMAIL_TIMEOUT",
        # Django leaves smtplib on the process's socket timeout; SickChill's settings.py is
        # not Django's
        unless=(SOCKET_DEFAULT_TIMEOUT, NO_DJANGO),
    )


_OIDC_TOKEN_ENDPOINT = re.compile(r"\bOIDC_OP_TOKEN_ENDPOINT\b")


@detector("oidc-login-without-timeout", "timeouts", nodes=(ast.Module,))
def oidc_login_without_timeout(node: ast.AST, context: ModuleContext) -> Iterator[Hit]:
    """Django settings for mozilla-django-oidc (`OIDC_OP_TOKEN_ENDPOINT`) with no `OIDC_TIMEOUT`:
    the library passes that setting, None unless set, as the timeout of its token, userinfo,
    JWKS and refresh requests, so a sign-in waits forever on an identity provider that stops
    answering (EvaP's recall notes; linkding's, kitsune's and socorro's settings too)."""
    assert isinstance(node, ast.Module)  # noqa: S101 - registered for ast.Module only
    if (
        not context.text_matches(_OIDC_TOKEN_ENDPOINT)
        or "mozilla_django_oidc" not in context.source
    ):
        return
    assignments = _settings_assignments(node)
    endpoint = next((v for name, v, _ in assignments if name == "OIDC_OP_TOKEN_ENDPOINT"), None)
    if endpoint is None or any(name == "OIDC_TIMEOUT" for name, _, _ in assignments):
        return
    yield Hit(
        endpoint,
        "mozilla-django-oidc signs users in with no OIDC_TIMEOUT: its token and userinfo "
        "requests wait forever on an identity provider that stops answering, and the login "
        "request hangs; set OIDC_TIMEOUT",
    )


def _django_settings(context: ModuleContext) -> bool:
    return "settings" in context.path.lower() or "INSTALLED_APPS" in context.source


# Classes whose upper-case attributes are fields of a form, not settings: jumpserver's settings
# page serializers name their fields EMAIL_HOST and AUTH_LDAP_SERVER_URI.
_FIELD_HOLDERS = ("Serializer", "Form", "Model", "Schema")


def _settings_assignments(module: ast.Module) -> list[tuple[str, ast.expr, bool]]:
    """(name, value, unconditional) for each assignment to an upper-case name at module level or
    in a class body (django-configurations; not a form's or serializer's fields), inside `if`
    branches too."""
    found: list[tuple[str, ast.expr, bool]] = []

    def visit(statements: list[ast.stmt], unconditional: bool) -> None:
        for statement in statements:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        found.append((target.id, statement.value, unconditional))
            elif isinstance(statement, ast.ClassDef) and not _holds_fields(statement):
                visit(statement.body, unconditional)
            elif isinstance(statement, ast.If | ast.Try):
                for branch in _branches(statement):
                    visit(branch, False)

    visit(module.body, True)
    return found


def _holds_fields(definition: ast.ClassDef) -> bool:
    return any((last_name(base) or "").endswith(_FIELD_HOLDERS) for base in definition.bases)


def _branches(statement: ast.If | ast.Try) -> list[list[ast.stmt]]:
    if isinstance(statement, ast.If):
        return [statement.body, statement.orelse]
    return [statement.body, *(handler.body for handler in statement.handlers), statement.orelse]


def _may_use_smtp(assignments: list[tuple[str, ast.expr, bool]]) -> bool:
    """Unless a backend that is not SMTP is set unconditionally and nothing names an SMTP one
    (`CELERY_EMAIL_BACKEND = "...smtp.EmailBackend"` counts), Django's default SMTP backend or
    one chosen at run time may send."""
    backends = [
        (value, always) for name, value, always in assignments if name.endswith("EMAIL_BACKEND")
    ]
    literal = [(string_parts(value), always) for value, always in backends]
    if any(_SMTP_BACKEND in text.lower() for text, _ in literal if text):
        return True
    return not any(always and text for text, always in literal)
