"""Deterministic codemods (libcst, formatting and comments kept), each aimed at one finding.

A codemod receives the parsed file and the finding it should fix, and changes only the code the
finding points at (its line, and its column when several calls share the line), plus the import or
module constant the new code needs. It returns None when the shape is not one it can rewrite
safely; the finding is then reported as skipped (or left to an LLM proposer).

    add-timeout    requests/httpx calls (and Session/Client methods) without a timeout
                   -> `timeout=HTTP_TIMEOUT_S`, a module constant of 10.0 s
    utc-datetime   datetime.utcnow() / now() / today() -> datetime.now(UTC), and
                   utcfromtimestamp(x) / fromtimestamp(x) -> fromtimestamp(x, UTC)
    monotonic      time.time() at both ends of a duration -> time.monotonic() (durations.py)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools, durations
from bepro.fix.lines import unchanged_line
from bepro.fix.model import Candidate
from bepro.review.finding import Finding
from bepro.review.registry import REWRITES

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
_DATETIME = "datetime.datetime"

Transform = Callable[[MetadataWrapper, Finding], cst.Module | None]


@dataclass(frozen=True)
class Codemod:
    name: str
    rule_id: str
    transform: Transform


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


def utc_datetime(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        method = _datetime_method(wrapper, call)
        if method is None or not isinstance(call.func, cst.Attribute):
            continue
        reference = _utc_reference(wrapper, call.func.value)
        if reference is None:
            return None
        utc, needs_import = reference
        new_call = _aware_call(call, call.func, method, utc)
        if new_call is None:
            continue
        module = wrapper.module.deep_replace(call, new_call)
        assert isinstance(module, cst.Module)  # noqa: S101 - replacing a call keeps the module
        return cst_tools.import_from_name(module, "datetime", "UTC") if needs_import else module
    return None


def _datetime_method(wrapper: MetadataWrapper, call: cst.Call) -> str | None:
    for name in cst_tools.qualified_names(wrapper, call.func):
        owner, _, method = name.rpartition(".")
        if owner == _DATETIME:
            return method
    return None


def _aware_call(
    call: cst.Call, func: cst.Attribute, method: str, utc: cst.BaseExpression
) -> cst.Call | None:
    """The timezone-aware equivalent of a naive datetime constructor call, or None."""
    utc_arg = cst.Arg(value=utc)
    if method in ("utcnow", "today", "now") and not call.args:
        return call.with_changes(func=func.with_changes(attr=cst.Name("now")), args=[utc_arg])
    positional = len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star
    if method in ("utcfromtimestamp", "fromtimestamp") and positional:
        args = cst_tools.append_item(call.args, utc_arg, call.whitespace_before_args)
        return call.with_changes(func=func.with_changes(attr=cst.Name("fromtimestamp")), args=args)
    return None


def _utc_reference(
    wrapper: MetadataWrapper, owner: cst.BaseExpression
) -> tuple[cst.BaseExpression, bool] | None:
    """How to spell UTC here, and whether `from datetime import UTC` must be added; None when the
    module binds `UTC` to something else."""
    if isinstance(owner, cst.Attribute) and cst_tools.qualified_names(wrapper, owner.value) == {
        "datetime"
    }:
        return cst.Attribute(value=owner.value.deep_clone(), attr=cst.Name("UTC")), False
    binding = cst_tools.global_binding(wrapper, "UTC")
    if binding is None:
        return cst.Name("UTC"), True
    if binding == {"datetime.UTC"}:
        return cst.Name("UTC"), False
    return None


CODEMODS: tuple[Codemod, ...] = (
    Codemod("add-timeout", "timeouts", add_timeout),
    Codemod("utc-datetime", "time-utc", utc_datetime),
    Codemod("monotonic", "time-utc", durations.monotonic),
)


def codemod_candidate(source: str, finding: Finding) -> Candidate | None:
    """The codemod the rewrite table names for the finding's code, as a whole-file candidate."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return None
    for codemod in CODEMODS:
        if codemod.name != REWRITES.get(finding.source):
            continue
        rewritten = codemod.transform(MetadataWrapper(module), finding)
        if rewritten is not None and rewritten.code != source:
            return Candidate(f"codemod:{codemod.name}", rewritten.code)
    return None


def batch_candidate(source: str, target: Finding, others: list[Finding]) -> Candidate | None:
    """The target's codemod applied to every finding it also rewrites, as one candidate: a change
    such as naive -> aware datetimes must often land everywhere in a module at once to keep working."""
    first = codemod_candidate(source, target)
    if first is None:
        return None
    rewritten, count = first.source, 1
    for finding in others:
        moved = _follow(finding, source, rewritten)
        candidate = codemod_candidate(rewritten, moved) if moved is not None else None
        if candidate is not None and candidate.origin == first.origin:
            rewritten, count = candidate.source, count + 1
    return Candidate(f"{first.origin} (batch)", rewritten) if count > 1 else None


def _follow(finding: Finding, before: str, after: str) -> Finding | None:
    """The finding at its place in `after`, when its line survived the rewrite unchanged."""
    line = unchanged_line(before, after, finding.line)
    if line is None:
        return None
    return finding.model_copy(
        update={"line": line, "end_line": line + finding.end_line - finding.line}
    )
