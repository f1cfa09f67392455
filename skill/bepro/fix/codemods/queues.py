"""Backpressure codemods: a queue gets a bound, so producers slow down instead of memory growing.

bound-queue   `asyncio.Queue()`, `queue.Queue()` (and their Lifo/Priority kinds,
              multiprocessing.Queue) with no maxsize, or maxsize <= 0 ->
              `maxsize=QUEUE_MAXSIZE`, a module constant. `put()` then waits while the queue
              is full: that wait is the backpressure. A module that calls `put_nowait()` is
              left alone: there a full queue would raise where it never did.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from bepro.fix import cst_tools
from bepro.review.finding import Finding

_QUEUES = frozenset(
    {"asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "queue.Queue",
     "queue.LifoQueue", "queue.PriorityQueue", "multiprocessing.Queue"}
)  # fmt: skip
MAXSIZE = "QUEUE_MAXSIZE"
# Room for bursts of small items; a full queue makes producers wait until consumers catch up.
_MAXSIZE_VALUE = "1000"
_COMMENT = cst_tools.added("Items a queue holds before its producers wait", "per queue")


def bound_queue(wrapper: MetadataWrapper, finding: Finding) -> cst.Module | None:
    for call in cst_tools.calls_at(wrapper, finding.line, finding.column):
        if not cst_tools.qualified_names(wrapper, call.func) & _QUEUES:
            continue
        if cst_tools.has_star_args(call) or m.findall(
            wrapper.module, m.Attribute(attr=m.Name("put_nowait"))
        ):
            return None
        new_call = _with_maxsize(call)
        if new_call is None:
            return None
        module = cst_tools.replace_node(wrapper.module, call, new_call)
        return cst_tools.ensure_constant(wrapper, module, MAXSIZE, _MAXSIZE_VALUE, _COMMENT)
    return None


def _with_maxsize(call: cst.Call) -> cst.Call | None:
    """The call with its maxsize (keyword or first positional) set to the constant."""
    bound = cst.Name(MAXSIZE)
    given = cst_tools.keyword_arg(call, "maxsize") or next(
        (arg for arg in call.args if arg.keyword is None), None
    )
    if given is None:
        return cst_tools.with_keyword(call, "maxsize", bound)
    if not m.matches(given.value, m.Integer() | m.UnaryOperation(m.Minus(), m.Integer())):
        return None  # a computed size: the detector saw a value <= 0 we cannot see here
    return call.with_changes(
        args=[arg.with_changes(value=bound) if arg is given else arg for arg in call.args]
    )


TRANSFORMS = {"bound-queue": bound_queue}
