"""Timeout codemods: a call that can wait forever gets a bound, a named module constant.

    add-timeout       requests/httpx calls (and Session/Client methods) without a timeout, or
                      with timeout=None -> `timeout=HTTP_TIMEOUT_S`, a module constant of 10.0 s
    blocking-timeout  subprocess, urlopen, sockets, mail and FTP clients, redis-py and psycopg
                      connects, OpenAI SDK clients -> the timeout keyword each takes, from a
                      module constant per kind of wait
    enable-timeout    httpx/aiohttp `timeout=None` -> HTTP_TIMEOUT_S (aiohttp: a ClientTimeout)
    wait-timeout      `Popen.communicate()` -> `communicate(timeout=SUBPROCESS_TIMEOUT_S)`
    mail-timeout      Django settings' `EMAIL_HOST = ...` -> followed by `EMAIL_TIMEOUT = 10`
                      in the same block (a class body or an `if` branch keeps it there)
    oauth-timeout     authlib's `OAuth2Session(...)` -> `default_timeout=HTTP_TIMEOUT_S`; its
                      Flask/Django `oauth.register(...)` -> `"default_timeout": HTTP_TIMEOUT_S`
                      in `client_kwargs` (added when the call has none)

A constant the module already binds is used as it is: the user may have tuned it.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from bepro.fix import cst_tools
from bepro.fix.cst_tools import added
from bepro.review.detectors._scope import SOCKET_TIMEOUT_CLIENTS
from bepro.review.finding import Finding


@dataclass(frozen=True)
class _Bound:
    """A module constant that bounds one kind of wait."""

    name: str
    value: str
    comment: str


# Generous ceilings that stop a hung dependency from holding a worker forever; the comment the
# codemod writes above each constant asks for tuning per dependency (references/rules/timeouts.md).
_HTTP = _Bound("HTTP_TIMEOUT_S", "10.0", added("Seconds before an HTTP call gives up"))
_SOCKET = _Bound("SOCKET_TIMEOUT_S", "10.0", added("Seconds a network connection may stall"))
_CHILD = _Bound(
    "SUBPROCESS_TIMEOUT_S", "60.0", added("Seconds a child process may run", "per command")
)
_REDIS = _Bound("REDIS_TIMEOUT_S", "5.0", added("Seconds a redis command or connect may take"))
_MAIL = _Bound(
    "EMAIL_TIMEOUT",
    "10",
    added("Seconds Django waits on the mail server", "per server"),
)
_OIDC = _Bound(
    "OIDC_TIMEOUT",
    "10",
    added("Seconds the OIDC login waits on the provider", "per provider"),
)
_DB_CONNECT = _Bound(
    "DB_CONNECT_TIMEOUT_S", "10", added("Whole seconds a database connect may take")
)
_LLM = _Bound("LLM_TIMEOUT_S", "60.0", added("Seconds a model call may take", "per model and call"))
_SUBPROCESS_CALLS = ("run", "call", "check_call", "check_output")
_REDIS_KEYWORDS = ("socket_timeout", "socket_connect_timeout")
# qualified name -> the keywords that bound its wait, and the constant they take
_BLOCKING: dict[str, tuple[tuple[str, ...], _Bound]] = {
    **{f"subprocess.{name}": (("timeout",), _CHILD) for name in _SUBPROCESS_CALLS},
    "urllib.request.urlopen": (("timeout",), _HTTP),
    "http.client.HTTPConnection": (("timeout",), _HTTP),
    "http.client.HTTPSConnection": (("timeout",), _HTTP),
    "socket.create_connection": (("timeout",), _SOCKET),
    **dict.fromkeys(SOCKET_TIMEOUT_CLIENTS, (("timeout",), _SOCKET)),
    **dict.fromkeys(
        ("redis.Redis", "redis.StrictRedis", "redis.client.Redis", "redis.asyncio.Redis",
         "redis.asyncio.StrictRedis", "redis.from_url", "redis.Redis.from_url",
         "redis.asyncio.from_url"),
        (_REDIS_KEYWORDS, _REDIS),
    ),
    **dict.fromkeys(
        ("psycopg2.connect", "psycopg.connect", "psycopg.Connection.connect",
         "psycopg.AsyncConnection.connect"),
        (("connect_timeout",), _DB_CONNECT),
    ),
    **dict.fromkeys(
        ("openai.OpenAI", "openai.AsyncOpenAI", "openai.AzureOpenAI", "openai.AsyncAzureOpenAI"),
        (("timeout",), _LLM),
    ),
}  # fmt: skip

_HTTP_VERBS = (
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "request",
    "stream",
    "send",
)
_HTTP_CALLS = frozenset(
    {f"{library}.{verb}" for library in ("requests", "httpx") for verb in _HTTP_VERBS}
    | {"httpx.Client", "httpx.AsyncClient"}
)


def add_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    call = _http_call(wrapper, finding)
    if call is None or cst_tools.has_star_args(call):
        return None
    value = cst.Name(_HTTP.name)
    existing = cst_tools.keyword_arg(call, "timeout")
    if existing is None:
        new_call = cst_tools.with_keyword(call, "timeout", value)
    elif isinstance(existing.value, cst.Name) and existing.value.value == "None":
        args = [arg.with_changes(value=value) if arg is existing else arg for arg in call.args]
        new_call = call.with_changes(args=args)
    else:
        return None
    module = cst_tools.replace_node(wrapper.module, call, new_call)
    return cst_tools.ensure_constant(wrapper, module, _HTTP.name, _HTTP.value, _HTTP.comment)


def _http_call(wrapper: MetadataWrapper, finding: Finding) -> cst.Call | None:
    """The HTTP call the finding points at: a requests/httpx function, or (at the exact position
    the finding names) a verb method on a session or client in a module that imports either."""
    calls = cst_tools.calls_at(wrapper, finding.line, finding.column)
    for call in calls:
        if cst_tools.qualified_names(wrapper, call.func) & _HTTP_CALLS:
            return call
    # Several calls can start there: `_init_session().post(url)` holds `_init_session()` too.
    verb_call = next(
        (
            call
            for call in calls
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in _HTTP_VERBS
        ),
        None,
    )
    return verb_call if verb_call is not None and _imports_http(wrapper.module) else None


def _imports_http(module: cst.Module) -> bool:
    return cst_tools.imports(module, "requests") or cst_tools.imports(module, "httpx")


def blocking_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        names = cst_tools.qualified_names(wrapper, call.func) & _BLOCKING.keys()
        if not names or cst_tools.has_star_args(call):
            continue
        keywords, bound = _BLOCKING[next(iter(names))]
        missing = [kw for kw in keywords if cst_tools.keyword_arg(call, kw) is None]
        if not missing:
            return None
        new_call = call
        for keyword in missing:
            new_call = cst_tools.with_keyword(new_call, keyword, cst.Name(bound.name))
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return cst_tools.ensure_constant(wrapper, module, bound.name, bound.value, bound.comment)
    return None


def enable_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    """`timeout=None` -> the HTTP constant: a float for httpx, a ClientTimeout for aiohttp."""
    call = next(
        (
            call
            for call in cst_tools.calls_at(wrapper, finding.line, finding.column)
            if m.matches(call, m.Call(args=[m.ZeroOrMore(), _TIMEOUT_NONE, m.ZeroOrMore()]))
        ),
        None,
    )
    if call is None:
        return None
    existing = cst_tools.keyword_arg(call, "timeout")
    assert existing is not None  # noqa: S101 - the matcher found it
    library = _http_library(wrapper, call)
    if library is None:
        return None
    value: cst.BaseExpression = cst.Name(_HTTP.name)
    if library == "aiohttp":
        timeout_class = cst.parse_expression("aiohttp.ClientTimeout")
        value = cst.Call(timeout_class, [cst.Arg(value, keyword=cst.Name("total"), equal=_EQUAL)])
        if cst_tools.global_binding(wrapper, "aiohttp") != {"aiohttp"}:
            return None  # `aiohttp` is not the module here: spelling ClientTimeout is not safe
    new_call = call.with_changes(
        args=[arg.with_changes(value=value) if arg is existing else arg for arg in call.args]
    )
    module = cst_tools.replace_node(wrapper.module, call, new_call)
    return cst_tools.ensure_constant(wrapper, module, _HTTP.name, _HTTP.value, _HTTP.comment)


_TIMEOUT_NONE = m.Arg(keyword=m.Name("timeout"), value=m.Name("None"))
_EQUAL = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _http_library(wrapper: MetadataWrapper, call: cst.Call) -> str | None:
    """httpx or aiohttp: by the call's own name, else by the one of them the module imports."""
    for name in cst_tools.qualified_names(wrapper, call.func):
        root = name.split(".")[0]
        if root in ("httpx", "aiohttp"):
            return root
    imported = {root for root in ("httpx", "aiohttp") if cst_tools.imports(wrapper.module, root)}
    return imported.pop() if len(imported) == 1 else None


def wait_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    """`proc.communicate()` or `communicate(data)` -> with `timeout=SUBPROCESS_TIMEOUT_S`."""
    call = next(
        (
            call
            for call in cst_tools.calls_at(wrapper, finding.line, finding.column)
            if m.matches(call.func, m.Attribute(attr=m.Name("communicate")))
        ),
        None,
    )
    if (
        call is None
        or cst_tools.has_star_args(call)
        or len(call.args) > 1
        or cst_tools.keyword_arg(call, "timeout") is not None
    ):
        return None
    new_call = cst_tools.with_keyword(call, "timeout", cst.Name(_CHILD.name))
    module = cst_tools.replace_node(wrapper.module, call, new_call)
    return cst_tools.ensure_constant(wrapper, module, _CHILD.name, _CHILD.value, _CHILD.comment)


def mail_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    """`EMAIL_HOST = ...` -> followed by `EMAIL_TIMEOUT = 10`."""
    return _setting_after(wrapper, finding, "EMAIL_HOST", _MAIL)


def oidc_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    """`OIDC_OP_TOKEN_ENDPOINT = ...` -> followed by `OIDC_TIMEOUT = 10`."""
    return _setting_after(wrapper, finding, "OIDC_OP_TOKEN_ENDPOINT", _OIDC)


def _setting_after(
    wrapper: MetadataWrapper, finding: Finding, anchor: str, setting: _Bound
) -> cst.Module | None:
    """The settings module with `setting` right after the assignment to `anchor` on the
    finding's line, in whatever block holds it."""
    positions = wrapper.resolve(PositionProvider)
    assignment = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(anchor))])])
    found = next(
        (
            node
            for node, where in positions.items()
            if isinstance(node, cst.SimpleStatementLine)
            and where.start.line == finding.line
            and m.matches(node, assignment)
        ),
        None,
    )
    if found is None:
        return None
    statement = cst.parse_statement(f"# {setting.comment}\n{setting.name} = {setting.value}\n")
    updated = wrapper.module.visit(_InsertAfter(found, statement))
    assert isinstance(updated, cst.Module)  # noqa: S101 - a transformer keeps the module
    return updated


class _InsertAfter(cst.CSTTransformer):
    """Puts `new` right after `anchor`, in whatever block holds it."""

    def __init__(self, anchor: cst.SimpleStatementLine, new: cst.BaseStatement) -> None:
        super().__init__()
        self.anchor = anchor
        self.new = new

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.BaseStatement]:
        if original_node is self.anchor:
            return cst.FlattenSentinel([updated_node, self.new])
        return updated_node


_AUTHLIB_SESSIONS = frozenset(
    {"authlib.integrations.requests_client.OAuth2Session",
     "authlib.integrations.requests_client.oauth2_session.OAuth2Session"}
)  # fmt: skip


def oauth_timeout(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    value = cst.Name(_HTTP.name)
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if cst_tools.has_star_args(call):
            return None
        if cst_tools.qualified_names(wrapper, call.func) & _AUTHLIB_SESSIONS:
            new_call: cst.Call | None = cst_tools.with_keyword(call, "default_timeout", value)
        elif m.matches(call.func, m.Attribute(attr=m.Name("register"))):
            new_call = _client_kwargs_with_timeout(call, value)
        else:
            continue
        if new_call is None:
            return None
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return cst_tools.ensure_constant(wrapper, module, _HTTP.name, _HTTP.value, _HTTP.comment)
    return None


def _client_kwargs_with_timeout(call: cst.Call, value: cst.BaseExpression) -> cst.Call | None:
    entry = cst.DictElement(cst.SimpleString('"default_timeout"'), value)
    options = cst_tools.keyword_arg(call, "client_kwargs")
    if options is None:
        return cst_tools.with_keyword(call, "client_kwargs", cst.Dict([entry]))
    if not isinstance(options.value, cst.Dict):
        return None  # built elsewhere: what it holds is not known here
    elements = options.value.elements
    grown = options.value.with_changes(
        elements=cst_tools.append_item(elements, entry, options.value.lbrace.whitespace_after)
    )
    args = [arg.with_changes(value=grown) if arg is options else arg for arg in call.args]
    return call.with_changes(args=args)


TRANSFORMS = {
    "add-timeout": add_timeout,
    "oauth-timeout": oauth_timeout,
    "mail-timeout": mail_timeout,
    "oidc-timeout": oidc_timeout,
    "blocking-timeout": blocking_timeout,
    "enable-timeout": enable_timeout,
    "wait-timeout": wait_timeout,
}
