"""Deterministic codemods (libcst, formatting and comments kept), each aimed at one finding.

A codemod receives the parsed file and the finding it should fix, and changes only the code the
finding points at (its line, and its column when several calls share the line), plus the import or
module constant the new code needs. It returns None when the shape is not one it can rewrite
safely; the finding is then reported as skipped (or left to an LLM proposer).

Which code gets which codemod, and whether it is safe, is the rewrite table in
bepro/review/registry.py (REWRITES); each family module here names its codemods in TRANSFORMS:

    timeouts.py    add-timeout, blocking-timeout, enable-timeout, wait-timeout, mail-timeout,
                   oauth-timeout
    datetimes.py   utc-datetime
    durations.py   monotonic
    async_io.py    async-sleep, thread-file-io, keep-task
    ids.py         secure-random, uuid4, whole-uuid (unsafe)
    queues.py      bound-queue (unsafe)
    log_calls.py   lazy-log-args, print-to-log (unsafe), module-logger (unsafe)
    credentials.py secret-from-env (unsafe), required-env (unsafe)
    hardening.py   verify-tls (unsafe), safe-yaml, literal-eval (unsafe), except-exception,
                   verifying-context (unsafe)
    errors.py      raise-built-error (unsafe)
    retries.py     bounded-retry
    cache.py       cache-ttl
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper

from bepro.fix.codemods import (
    async_io,
    cache,
    credentials,
    datetimes,
    durations,
    errors,
    hardening,
    ids,
    log_calls,
    queues,
    retries,
    timeouts,
)
from bepro.fix.lines import unchanged_line
from bepro.fix.model import Candidate
from bepro.review.finding import Finding
from bepro.review.registry import REWRITES, Rewrite

Transform = Callable[[MetadataWrapper, Finding], cst.Module | None]

_FAMILIES: tuple[Mapping[str, Transform], ...] = (
    timeouts.TRANSFORMS,
    datetimes.TRANSFORMS,
    durations.TRANSFORMS,
    async_io.TRANSFORMS,
    ids.TRANSFORMS,
    queues.TRANSFORMS,
    log_calls.TRANSFORMS,
    credentials.TRANSFORMS,
    hardening.TRANSFORMS,
    errors.TRANSFORMS,
    retries.TRANSFORMS,
    cache.TRANSFORMS,
)
TRANSFORMS: dict[str, Transform] = {name: t for family in _FAMILIES for name, t in family.items()}


def _check_table() -> None:
    """The rewrite table names only codemods that exist, and every codemod serves a code."""
    named = {rewrite.codemod for rewrite in REWRITES.values()}
    if named != TRANSFORMS.keys():
        missing = sorted(named - TRANSFORMS.keys())
        unused = sorted(TRANSFORMS.keys() - named)
        raise RuntimeError(f"rewrite table and codemods differ: missing {missing}, unused {unused}")


_check_table()


def rewrite_for(finding: Finding, unsafe: bool = False) -> Rewrite | None:
    """The rewrite the table has for the finding's code; unsafe ones only when asked for."""
    rewrite = REWRITES.get(finding.source)
    if rewrite is None or not (rewrite.safe or unsafe):
        return None
    return rewrite


def codemod_candidate(source: str, finding: Finding, unsafe: bool = False) -> Candidate | None:
    """The codemod the rewrite table names for the finding's code, as a whole-file candidate."""
    rewrite = rewrite_for(finding, unsafe)
    if rewrite is None:
        return None
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return None
    rewritten = TRANSFORMS[rewrite.codemod](MetadataWrapper(module), finding)
    if rewritten is None or rewritten.code == source:
        return None
    return Candidate(f"codemod:{rewrite.codemod}", rewritten.code, rewrite.safe)


def batch_candidate(
    source: str, target: Finding, others: list[Finding], unsafe: bool = False
) -> Candidate | None:
    """The target's codemod applied to every finding it also rewrites, as one candidate: a change
    such as naive -> aware datetimes must often land everywhere in a module at once to keep working."""
    first = codemod_candidate(source, target, unsafe)
    if first is None:
        return None
    rewritten, count = first.source, 1
    for finding in others:
        moved = _follow(finding, source, rewritten)
        candidate = codemod_candidate(rewritten, moved, unsafe) if moved is not None else None
        if candidate is not None and candidate.origin == first.origin:
            rewritten, count = candidate.source, count + 1
    if count == 1:
        return None
    return Candidate(f"{first.origin} (batch)", rewritten, first.safe)


def _follow(finding: Finding, before: str, after: str) -> Finding | None:
    """The finding at its place in `after`, when its line survived the rewrite unchanged."""
    line = unchanged_line(before, after, finding.line)
    if line is None:
        return None
    return finding.model_copy(
        update={"line": line, "end_line": line + finding.end_line - finding.line}
    )
