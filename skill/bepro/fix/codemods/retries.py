"""Retry codemods: a retry policy that retries forever, or without pause, gets a limit and backoff.

bounded-retry   tenacity `@retry` / `@retry(...)` / `Retrying(...)` without stop= or wait= ->
                `stop=stop_after_attempt(RETRY_ATTEMPTS)` and
                `wait=wait_random_exponential(multiplier=RETRY_BASE_S, max=RETRY_MAX_WAIT_S)`
                (capped exponential backoff with full jitter); backoff's `on_exception` /
                `on_predicate` without max_tries= or max_time= -> `max_tries=RETRY_ATTEMPTS`.
                A wait= the call already has is kept: only what is missing is added
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_TENACITY = frozenset({"tenacity.retry", "tenacity.Retrying", "tenacity.AsyncRetrying"})
_BACKOFF = frozenset({"backoff.on_exception", "backoff.on_predicate"})
_TUNE = "per call"
_ATTEMPTS = (
    "RETRY_ATTEMPTS",
    "4",
    cst_tools.added("Attempts before a retried call gives up", _TUNE),
)
_STOP = ("RETRY_STOP", "{}stop_after_attempt(4)", cst_tools.added("When retries give up", _TUNE))
_WAIT = (
    "RETRY_WAIT",
    "{}wait_random_exponential(multiplier=0.5, max=10.0)",
    cst_tools.added("Seconds between retries, growing, with jitter", _TUNE),
)
_TENACITY_HELPERS = ("stop_after_attempt", "wait_random_exponential")


def bounded_retry(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    target = _policy_at(wrapper, finding)
    if target is None:
        return None
    call = target if isinstance(target, cst.Call) else cst.Call(target)
    names = cst_tools.qualified_names(wrapper, call.func)
    if cst_tools.has_star_args(call) or not names & (_TENACITY | _BACKOFF):
        return None
    if names & _BACKOFF:
        new_call = _keyword_if_missing(call, "max_tries", _ATTEMPTS[0], ("max_time",))
        module = cst_tools.replace_node(wrapper.module, target, new_call)
        return cst_tools.ensure_constant(wrapper, module, *_ATTEMPTS)
    spelled = _tenacity_helpers(wrapper, call.func)
    if spelled is None:
        return None
    prefix, unbound = spelled
    new_call, renamed = _with_jitter(wrapper, call)
    added = [
        constant
        for constant in (_STOP, _WAIT)
        if not cst_tools.keyword_arg(call, _KEYWORD[constant[0]])
    ]
    if renamed is None and not added:
        return None
    for name, _, _ in added:
        new_call = cst_tools.with_keyword(new_call, _KEYWORD[name], cst.Name(name))
    module = cst_tools.replace_node(wrapper.module, target, new_call)
    if renamed is not None:
        module = cst_tools.drop_unused_import(wrapper, module, renamed, "tenacity")
    for name, value, comment in reversed(added):
        module = cst_tools.ensure_constant(wrapper, module, name, value.format(prefix), comment)
    needed = {_HELPER[name] for name, _, _ in added} | ({_JITTER} if renamed is not None else set())
    for helper in sorted(needed & set(unbound)):
        module = cst_tools.import_from_name(module, "tenacity", helper)
    return module


_EXPONENTIAL_OPTIONS = frozenset({"multiplier", "min", "max", "exp_base"})
_JITTER = "wait_random_exponential"
_KEYWORD = {"RETRY_STOP": "stop", "RETRY_WAIT": "wait"}
_HELPER = {"RETRY_STOP": "stop_after_attempt", "RETRY_WAIT": _JITTER}


def _with_jitter(
    wrapper: MetadataWrapper, call: cst.Call
) -> tuple[cst.Call, cst.BaseExpression | None]:
    """`wait=wait_exponential(...)` -> `wait=wait_random_exponential(...)` (same arguments), and
    the function replaced; the call as it is when its wait is anything else."""
    wait = cst_tools.keyword_arg(call, "wait")
    growth = wait.value if wait is not None else None
    if not isinstance(growth, cst.Call) or "tenacity.wait_exponential" not in (
        cst_tools.qualified_names(wrapper, growth.func)
    ):
        return call, None
    if any(
        arg.keyword is None or arg.keyword.value not in _EXPONENTIAL_OPTIONS for arg in growth.args
    ):
        return call, None
    if isinstance(growth.func, cst.Attribute):
        func: cst.BaseExpression = growth.func.with_changes(attr=cst.Name(_JITTER))
    elif cst_tools.global_binding(wrapper, _JITTER) in (None, {f"tenacity.{_JITTER}"}):
        func = cst.Name(_JITTER)
    else:
        return call, None
    jittered = growth.with_changes(func=func)
    args = [arg.with_changes(value=jittered) if arg is wait else arg for arg in call.args]
    return call.with_changes(args=args), growth.func


def _policy_at(wrapper: MetadataWrapper, finding: Finding) -> cst.BaseExpression | None:
    """The decorator expression (`retry` or `retry(...)`) or call the finding points at."""
    positions = wrapper.resolve(PositionProvider)
    for node, where in positions.items():
        if isinstance(node, cst.Decorator) and where.start.line == finding.line:
            return node.decorator
    calls = cst_tools.calls_at(wrapper, finding.line, finding.column)
    return calls[0] if calls else None


def _keyword_if_missing(
    call: cst.Call, name: str, code: str, alternatives: tuple[str, ...] = ()
) -> cst.Call:
    if any(cst_tools.keyword_arg(call, kw) for kw in (name, *alternatives)):
        return call
    return cst_tools.with_keyword(call, name, cst.parse_expression(code))


def _tenacity_helpers(
    wrapper: MetadataWrapper, func: cst.BaseExpression
) -> tuple[str, list[str]] | None:
    """`tenacity.` when the decorator is spelled through the module, else "" and the helpers to
    import; None when a helper's name is bound to something else."""
    if isinstance(func, cst.Attribute) and cst_tools.qualified_names(wrapper, func.value) == {
        "tenacity"
    }:
        return f"{cst.Module([]).code_for_node(func.value)}.", []
    missing = []
    for helper in _TENACITY_HELPERS:
        binding = cst_tools.global_binding(wrapper, helper)
        if binding is None:
            missing.append(helper)
        elif binding != {f"tenacity.{helper}"}:
            return None
    return "", missing


TRANSFORMS = {"bounded-retry": bounded_retry}
