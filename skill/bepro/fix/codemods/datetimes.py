"""UTC codemods: naive datetimes made timezone-aware, in UTC.

utc-datetime   datetime.utcnow() / now() / today() -> datetime.now(UTC);
               utcfromtimestamp(x) / fromtimestamp(x) -> fromtimestamp(x, UTC);
               datetime(2024, 5, 1) -> datetime(2024, 5, 1, tzinfo=UTC);
               datetime.strptime(s, "%Y-%m-%d") -> ....replace(tzinfo=UTC) (no %z in the format);
               date.today() -> datetime.now(UTC).date(), and
               date.fromtimestamp(x) -> datetime.fromtimestamp(x, UTC).date()
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools
from bepro.fix.target import oldest_python
from bepro.review.finding import Finding

_DATETIME = "datetime.datetime"
_DATE = "datetime.date"
_DATETIME_FIELDS = 7  # year .. microsecond: an eighth positional argument is tzinfo
_UTC_ALIAS = (3, 11)  # datetime.UTC; before it, datetime.timezone.utc


def utc_datetime(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        names = cst_tools.qualified_names(wrapper, call.func)
        owner, method = _method(names)
        if owner is None:
            continue
        reference = _utc_reference(wrapper, call.func, finding.path)
        if reference is None:
            return None
        utc, needs_utc = reference
        new_call: cst.BaseExpression | None
        if owner == "constructor":
            new_call = _constructed(call, utc)
        elif owner == _DATETIME and isinstance(call.func, cst.Attribute):
            new_call = _aware_call(call, call.func, method, utc)
        else:
            return _utc_date(wrapper, call, method, utc, needs_utc)
        if new_call is None:
            continue
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return cst_tools.import_from_name(module, "datetime", needs_utc) if needs_utc else module
    return None


def _method(names: set[str]) -> tuple[str | None, str]:
    """("constructor", "") for `datetime(...)`, (class, method) for a datetime or date method."""
    if _DATETIME in names:
        return "constructor", ""
    for name in names:
        owner, _, method = name.rpartition(".")
        if owner in (_DATETIME, _DATE):
            return owner, method
    return None, ""


def _constructed(call: cst.Call, utc: cst.BaseExpression) -> cst.Call | None:
    positional = [arg for arg in call.args if arg.keyword is None]
    if cst_tools.has_star_args(call) or len(positional) > _DATETIME_FIELDS:
        return None
    if cst_tools.keyword_arg(call, "tzinfo") is not None:
        return None
    return cst_tools.with_keyword(call, "tzinfo", utc)


def _aware_call(
    call: cst.Call, func: cst.Attribute, method: str, utc: cst.BaseExpression
) -> cst.BaseExpression | None:
    """The timezone-aware equivalent of a naive datetime constructor call, or None."""
    utc_arg = cst.Arg(value=utc)
    if method in ("utcnow", "today", "now") and not call.args:
        return call.with_changes(func=func.with_changes(attr=cst.Name("now")), args=[utc_arg])
    positional = len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star
    if method in ("utcfromtimestamp", "fromtimestamp") and positional:
        args = cst_tools.append_item(call.args, utc_arg, call.whitespace_before_args)
        return call.with_changes(func=func.with_changes(attr=cst.Name("fromtimestamp")), args=args)
    if method == "strptime" and _naive_format(call):
        replace = cst.Attribute(call, cst.Name("replace"))
        tzinfo = cst.Arg(utc, keyword=cst.Name("tzinfo"), equal=_EQUAL)
        return cst.Call(replace, [tzinfo])
    return None


_EQUAL = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _naive_format(call: cst.Call) -> bool:
    """`strptime(text, "<format with no %z/%Z>")`: the parsed time carries no offset."""
    if len(call.args) != 2 or any(arg.keyword or arg.star for arg in call.args):
        return False
    fmt = call.args[1].value
    if not isinstance(fmt, cst.SimpleString):
        return False
    text = str(fmt.evaluated_value)
    return "%z" not in text and "%Z" not in text


def _utc_date(
    wrapper: MetadataWrapper,
    call: cst.Call,
    method: str,
    utc: cst.BaseExpression,
    needs_utc: str | None,
) -> cst.Module | None:
    """`date.today()` -> `datetime.now(UTC).date()`, `date.fromtimestamp(x)` ->
    `datetime.fromtimestamp(x, UTC).date()`."""
    if method == "today" and not call.args:
        args = [cst.Arg(utc)]
    elif method == "fromtimestamp" and len(call.args) == 1 and not call.args[0].keyword:
        args = [call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT), cst.Arg(utc)]
    else:
        return None
    spelled = _datetime_class(wrapper, call.func)
    if spelled is None:
        return None
    cls, needs_class = spelled
    aware = cst.Call(cst.Attribute(cls, cst.Name("now" if method == "today" else method)), args)
    as_date = cst.Call(cst.Attribute(aware, cst.Name("date")))
    module = cst_tools.replace_node(wrapper.module, call, as_date)
    date_name = call.func.value if isinstance(call.func, cst.Attribute) else None
    if isinstance(date_name, cst.Name) and cst_tools.only_used_at(
        wrapper, date_name.value, [date_name]
    ):
        module = cst_tools.drop_import_name(module, "datetime", date_name.value)
    if needs_utc:
        module = cst_tools.import_from_name(module, "datetime", needs_utc)
    return cst_tools.import_from_name(module, "datetime", "datetime") if needs_class else module


def _datetime_class(
    wrapper: MetadataWrapper, func: cst.BaseExpression
) -> tuple[cst.BaseExpression, bool] | None:
    """How to spell the datetime class where `date.<method>` is called, and whether
    `from datetime import datetime` must be added."""
    owner = func.value if isinstance(func, cst.Attribute) else None
    module_owner = owner.value if isinstance(owner, cst.Attribute) else None
    if module_owner is not None and cst_tools.qualified_names(wrapper, module_owner) == {
        "datetime"
    }:
        return cst.Attribute(module_owner.deep_clone(), cst.Name("datetime")), False
    binding = cst_tools.global_binding(wrapper, "datetime")
    if binding is None:
        return cst.Name("datetime"), True
    if binding == {_DATETIME}:
        return cst.Name("datetime"), False
    return None


def _utc_reference(
    wrapper: MetadataWrapper, func: cst.BaseExpression, path: str
) -> tuple[cst.BaseExpression, str | None] | None:
    """How to spell UTC here (`UTC`, or `timezone.utc` where the project supports a Python before
    3.11), and the name `from datetime import ...` must add, if any; None when the module binds
    that name to something else."""
    oldest = oldest_python(path)
    legacy = oldest is not None and oldest < _UTC_ALIAS
    for owner in _owners(func):
        if m.matches(owner, m.Name()) and cst_tools.qualified_names(wrapper, owner) == {"datetime"}:
            if legacy:
                zone = cst.Attribute(value=owner.deep_clone(), attr=cst.Name("timezone"))
                return cst.Attribute(value=zone, attr=cst.Name("utc")), None
            return cst.Attribute(value=owner.deep_clone(), attr=cst.Name("UTC")), None
    name = "timezone" if legacy else "UTC"
    spelled: cst.BaseExpression = (
        cst.Attribute(value=cst.Name("timezone"), attr=cst.Name("utc"))
        if legacy
        else cst.Name(name)
    )
    binding = cst_tools.global_binding(wrapper, name)
    if binding is None:
        return spelled, name
    if binding == {f"datetime.{name}"}:
        return spelled, None
    return None


def _owners(func: cst.BaseExpression) -> list[cst.BaseExpression]:
    """`datetime` and `datetime.datetime` in `datetime.datetime.now`: the names a method hangs on."""
    owners: list[cst.BaseExpression] = []
    while isinstance(func, cst.Attribute):
        func = func.value
        owners.append(func)
    return owners


TRANSFORMS = {"utc-datetime": utc_datetime}
