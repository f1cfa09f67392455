"""Id codemods: identifiers and tokens drawn from an unpredictable source.

secure-random   `random.choice/choices/sample/randint/randrange/getrandbits/random(...)` for an
                id or token -> the same draw from the OS's CSPRNG: `secrets.choice`,
                `secrets.randbits`, `secrets.randbelow(n)` for `randrange(n)`, else
                `secrets.SystemRandom().<same method>(<same arguments>)`: the same alphabet,
                length and range, so the id keeps its format
uuid4           `uuid.uuid1()` -> `uuid.uuid4()`: still a UUID, no longer a timestamp and MAC
whole-uuid      `str(uuid4())[:8]` / `uuid4().hex[:12]` -> the whole uuid (unsafe: the id gets
                longer, and a column or a format check may expect the short one)
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from bepro.fix import cst_tools
from bepro.review.finding import Finding

# random.<name> -> the secrets function that draws the same way, when there is one
_SECRETS_TWINS = {"choice": "choice", "getrandbits": "randbits"}
_SYSTEM_RANDOM = frozenset({"choices", "sample", "randint", "randrange", "random"})


def secure_random(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        method = _random_method(wrapper, call)
        if method is None:
            continue
        new_call = call.with_changes(func=_secure_func(call, method))
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        module = cst_tools.drop_unused_import(wrapper, module, call.func, "random")
        return cst_tools.import_module(wrapper, module, "secrets")
    return None


def _random_method(wrapper: MetadataWrapper, call: cst.Call) -> str | None:
    for name in cst_tools.qualified_names(wrapper, call.func):
        owner, _, method = name.rpartition(".")
        if owner == "random" and method in _SECRETS_TWINS.keys() | _SYSTEM_RANDOM:
            return method
    return None


def _secure_func(call: cst.Call, method: str) -> cst.BaseExpression:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if method in _SECRETS_TWINS:
        return cst.parse_expression(f"secrets.{_SECRETS_TWINS[method]}")
    if method == "randrange" and len(positional) == len(call.args) == 1:
        return cst.parse_expression("secrets.randbelow")
    return cst.parse_expression(f"secrets.SystemRandom().{method}")


def uuid4(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if "uuid.uuid1" not in cst_tools.qualified_names(wrapper, call.func) or call.args:
            continue
        if isinstance(call.func, cst.Attribute):
            new_func: cst.BaseExpression = call.func.with_changes(attr=cst.Name("uuid4"))
            return cst_tools.replace_node(wrapper.module, call, call.with_changes(func=new_func))
        binding = cst_tools.global_binding(wrapper, "uuid4")
        if binding not in (None, {"uuid.uuid4"}) or not isinstance(call.func, cst.Name):
            return None
        module = cst_tools.replace_node(
            wrapper.module, call, call.with_changes(func=cst.Name("uuid4"))
        )
        module = cst_tools.drop_unused_import(wrapper, module, call.func, "uuid")
        return cst_tools.import_from_name(module, "uuid", "uuid4") if binding is None else module
    return None


_UUID4_TEXT = m.Call(func=m.Name("str"), args=[m.Arg(value=m.Call())]) | m.Attribute(
    value=m.Call(), attr=m.Name("hex")
)
_PREFIX = m.Subscript(value=_UUID4_TEXT, slice=[m.SubscriptElement(m.Slice(lower=None, step=None))])


def whole_uuid(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    """`str(uuid4())[:8]` -> `str(uuid4())`: the slice the finding points at is dropped."""
    positions = wrapper.resolve(PositionProvider)
    for node in positions:
        where = positions[node]
        if (
            isinstance(node, cst.Subscript)
            and (where.start.line, where.start.column + 1) == (finding.line, finding.column)
            and m.matches(node, _PREFIX)
        ):
            return cst_tools.replace_node(wrapper.module, node, node.value)
    return None


TRANSFORMS = {"secure-random": secure_random, "uuid4": uuid4, "whole-uuid": whole_uuid}
