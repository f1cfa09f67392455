"""Timeout codemods: a call that can wait forever gets a bound, a named module constant.

add-timeout    requests/httpx calls (and Session/Client methods) without a timeout, or with
               timeout=None -> `timeout=HTTP_TIMEOUT_S`, a module constant of 10.0 s
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools
from bepro.review.finding import Finding

# The default when a call has none: a ceiling that stops a hung dependency from holding a worker
# forever, generous enough not to cut off a slow but healthy third-party API (their p99.9 plus
# margin is typically 5-10 s, see references/rules/timeouts.md). Tune it per dependency.
HTTP_TIMEOUT_S = 10.0
TIMEOUT_CONSTANT = "HTTP_TIMEOUT_S"
_TIMEOUT_DEFINITION = (
    "# Seconds before an HTTP call gives up (added by `bepro fix`): tune per dependency.\n"
    f"{TIMEOUT_CONSTANT} = {HTTP_TIMEOUT_S}\n"
)
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
    value = cst.Name(TIMEOUT_CONSTANT)
    existing = cst_tools.keyword_arg(call, "timeout")
    if existing is None:
        timeout = cst.Arg(
            keyword=cst.Name("timeout"),
            value=value,
            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
        )
        args = cst_tools.append_item(call.args, timeout, call.whitespace_before_args)
        new_call = call.with_changes(args=args)
    elif isinstance(existing.value, cst.Name) and existing.value.value == "None":
        args = [arg.with_changes(value=value) if arg is existing else arg for arg in call.args]
        new_call = call.with_changes(args=args)
    else:
        return None
    module = wrapper.module.deep_replace(call, new_call)
    assert isinstance(module, cst.Module)  # noqa: S101 - replacing a call keeps the module
    binding = cst_tools.global_binding(wrapper, TIMEOUT_CONSTANT)
    if binding is None:
        module = cst_tools.insert_after_imports(module, cst.parse_statement(_TIMEOUT_DEFINITION))
    return module


def _http_call(wrapper: MetadataWrapper, finding: Finding) -> cst.Call | None:
    """The HTTP call the finding points at: a requests/httpx function, or (at the exact position
    the finding names) a verb method on a session or client in a module that imports either."""
    calls = cst_tools.calls_at(wrapper, finding.line, finding.column)
    for call in calls:
        if cst_tools.qualified_names(wrapper, call.func) & _HTTP_CALLS:
            return call
    exact = calls[0] if calls else None
    if exact is None or not isinstance(exact.func, cst.Attribute):
        return None
    if exact.func.attr.value in _HTTP_VERBS and _imports_http(wrapper.module):
        return exact
    return None


def _imports_http(module: cst.Module) -> bool:
    """Whether an import statement (not a comment or a string) brings in requests or httpx."""
    for node in m.findall(module, m.Import() | m.ImportFrom()):
        if isinstance(node, cst.Import):
            names = [module.code_for_node(alias.name) for alias in node.names]
        else:
            names = (
                [module.code_for_node(node.module)]
                if isinstance(node, cst.ImportFrom) and node.module
                else []
            )
        if any(name.split(".")[0] in ("requests", "httpx") for name in names):
            return True
    return False


TRANSFORMS = {"add-timeout": add_timeout}
