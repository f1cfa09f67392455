"""Cache codemods: a read-through fill gets a time to live.

cache-ttl   `<redis client>.set(key, value)` after a `get` of the same key ->
            `.set(key, value, ex=CACHE_TTL_S)`, a module constant of 300 s: the entry is
            refilled from the source after it expires instead of being served stale forever.
            Only in a module that imports redis-py, valkey or aioredis (their `ex=` is seconds);
            other clients spell the TTL differently and are left alone
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_REDIS_LIKE = ("redis", "valkey", "aioredis")
_TTL = (
    "CACHE_TTL_S",
    "300",
    cst_tools.added("Seconds a cached value is served before it is refilled", "per key"),
)


def cache_ttl(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    if not any(cst_tools.imports(wrapper.module, library) for library in _REDIS_LIKE):
        return None
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if not m.matches(call.func, m.Attribute(attr=m.Name("set"))):
            continue
        positional = [arg for arg in call.args if arg.keyword is None]
        if len(positional) != len(call.args) or len(positional) != 2:
            return None  # keywords such as nx= or get= change what set does: left alone
        new_call = cst_tools.with_keyword(call, "ex", cst.Name(_TTL[0]))
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return cst_tools.ensure_constant(wrapper, module, *_TTL)
    return None


TRANSFORMS = {"cache-ttl": cache_ttl}
