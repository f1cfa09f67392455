"""UTC codemods: naive datetimes made timezone-aware, in UTC.

utc-datetime   datetime.utcnow() / now() / today() -> datetime.now(UTC), and
               utcfromtimestamp(x) / fromtimestamp(x) -> fromtimestamp(x, UTC)
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_DATETIME = "datetime.datetime"


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


TRANSFORMS = {"utc-datetime": utc_datetime}
