"""A per-file cache of bepro's own review results, as ruff keeps one: a file whose bytes have not
changed is not parsed again.

Entries are keyed by the file's path and the hash of its bytes; the whole cache is keyed by the
code that produced it (the hash of the review package's source, bepro's version and the Python
minor version, whose `ast` the detectors read), so an upgrade or an edited detector starts a new
cache. Selection (--select, roles, per-file ignores) is applied after the cache, so a different
selection reuses it. A file whose status (modification and change times, size, inode) is the
one recorded with its hash is not read again, as git trusts its index: the status is recorded
only once the file has been left alone for a while (a file written in the same clock tick as it
was read could change without its status showing it). Files reviewed only to be counted (tests,
migrations by default) keep their line count the same way. It lives in `.bepro_cache/` in the
directory bepro runs from, with a `.gitignore` that keeps it out of git. It is JSON, never
pickle: loading it cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bepro import __version__
from bepro.atomic import write_atomically
from bepro.review.finding import FileIssue, RawFinding

log = logging.getLogger(__name__)

CACHE_DIR = ".bepro_cache"
# Kinds of file issue that say something about the file, not about this run: safe to remember.
_STABLE_ISSUES = frozenset({"parse-error", "skipped-binary", "skipped-too-large"})
# How long a file must have been left alone before its status stands for its bytes: well over
# the coarsest timestamp granularity of common file systems.
SETTLED_NS = 3_000_000_000
REVIEWED, COUNTED = "result", "counted"  # an entry's two kinds of result, under these keys
RUFF = "ruff"  # and ruff's hits, with the key of the ruff configuration that found them


@dataclass
class FileReview:
    """bepro's own findings in one file, before selection (what the cache holds)."""

    path: str
    lines: int = 0
    raw: list[RawFinding] = field(default_factory=list)
    issue: FileIssue | None = None
    suppressed: dict[int, frozenset[str]] = field(default_factory=dict)
    entry_point: bool = False  # run as a program: `if __name__ == "__main__":`
    imports: tuple[str, ...] = ()  # reach.imported_modules: is an entry point imported?
    commands: tuple[str, ...] = ()  # the management commands it runs (call_command("name"))
    quoted: tuple[str, ...] = ()  # reach.quoted_names: may it load a module by name?
    scheduled: bool = False  # a management command whose help says cron or a daemon runs it
    # detectors/blocking.py's facts joined across files: plain functions that block (name ->
    # the blocking call), and async calls to imported functions (line, column, end line, name,
    # the dotted name it was imported as)
    blocking: dict[str, str] = field(default_factory=dict)
    async_calls: tuple[tuple[int, int, int, str, str], ...] = ()
    # ruff code -> lines where bepro reads the call better and drops ruff's hit (engine's
    # _ruff_voided: S113 with the timeout in `**options`, S501 on a plain http URL)
    ruff_voided: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # facts across.project_facts joins: the module sets a process-wide socket timeout; it
    # defines a *Session subclass whose request() gives every call a timeout
    sets_socket_timeout: bool = False
    defines_timed_session: bool = False

    def cacheable(self) -> bool:
        return self.issue is None or self.issue.kind in _STABLE_ISSUES

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "raw": [list(_raw_fields(raw)) for raw in self.raw],
            "issue": self.issue.model_dump() if self.issue else None,
            "suppressed": {str(line): sorted(codes) for line, codes in self.suppressed.items()},
            "entry_point": self.entry_point,
            "imports": list(self.imports),
            "commands": list(self.commands),
            "quoted": list(self.quoted),
            "scheduled": self.scheduled,
            "blocking": self.blocking,
            "async_calls": [list(call) for call in self.async_calls],
            "ruff_voided": {code: list(lines) for code, lines in self.ruff_voided.items()},
            "sets_socket_timeout": self.sets_socket_timeout,
            "defines_timed_session": self.defines_timed_session,
        }

    @classmethod
    def from_json(cls, path: str, data: dict[str, Any]) -> FileReview:
        issue = data["issue"]
        return cls(
            path=path,
            lines=int(data["lines"]),
            raw=[_raw(fields) for fields in data["raw"]],
            issue=FileIssue.model_validate({**issue, "path": path}) if issue else None,
            suppressed={int(line): frozenset(codes) for line, codes in data["suppressed"].items()},
            entry_point=bool(data["entry_point"]),
            imports=tuple(str(name) for name in data.get("imports", ())),
            commands=tuple(str(name) for name in data.get("commands", ())),
            quoted=tuple(str(name) for name in data.get("quoted", ())),
            scheduled=bool(data.get("scheduled", False)),
            blocking={str(k): str(v) for k, v in data.get("blocking", {}).items()},
            async_calls=tuple(_async_call(call) for call in data.get("async_calls", ())),
            ruff_voided={
                str(code): tuple(int(line) for line in lines)
                for code, lines in data.get("ruff_voided", {}).items()
            },
            sets_socket_timeout=bool(data.get("sets_socket_timeout", False)),
            defines_timed_session=bool(data.get("defines_timed_session", False)),
        )


def _async_call(fields: list[Any]) -> tuple[int, int, int, str, str]:
    line, column, end_line, name, dotted = fields
    return int(line), int(column), int(end_line), str(name), str(dotted)


def _raw_fields(raw: RawFinding) -> tuple[str, str, int, int, int, str, list[str]]:
    fields = (raw.rule_id, raw.source, raw.line, raw.column, raw.end_line, raw.message)
    return (*fields, list(raw.unless))


@cache
def code_key() -> str:
    """What the cached results depend on besides the files: bepro's review code and Python."""
    digest = hashlib.sha256(f"{__version__} {sys.version_info[:2]}".encode())
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ResultCache:
    """The cache file of one code key: read once, written once (atomically) after a review."""

    def __init__(
        self,
        folder: Path,
        detectors: frozenset[str],
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.folder = folder
        # results hold what these detectors found: another selection has its own file
        selection = hashlib.sha256("\n".join(sorted(detectors)).encode()).hexdigest()[:8]
        self.file = folder / f"review-{code_key()}-{selection}.json"
        self._clock = clock  # UTC nanoseconds: when a file's status is old enough to trust
        self._entries = self._load()
        self._digests: dict[str, str] = {}
        self._statuses: dict[str, list[int]] = {}
        self.hits = 0

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def lookup(
        self, paths: list[str], kind: str = REVIEWED
    ) -> tuple[dict[str, FileReview], list[str]]:
        """The cached results (reviews, or with COUNTED line counts) of files that have not
        changed, and the paths to do again."""
        found: dict[str, FileReview] = {}
        missing: list[str] = []
        for path in paths:
            review = self._cached(path, kind)
            if review is None:
                missing.append(path)
            else:
                found[path] = review
        if kind == REVIEWED:
            self.hits = len(found)
        return found, missing

    def lookup_ruff(
        self, paths: list[str], key: Callable[[str], str]
    ) -> tuple[dict[str, list[RawFinding]], list[str]]:
        """Ruff's hits in files that have not changed since ruff checked them under the same
        configuration (`key` of a path), and the paths ruff must check."""
        found: dict[str, list[RawFinding]] = {}
        missing: list[str] = []
        for path in paths:
            hits = self._cached_ruff(path, key)
            if hits is None:
                missing.append(path)
            else:
                found[path] = hits
        return found, missing

    def _cached_ruff(self, path: str, key: Callable[[str], str]) -> list[RawFinding] | None:
        entry = self._entries.get(path)
        entry = entry if isinstance(entry, dict) else {}
        stored = entry.get(RUFF)
        if not isinstance(stored, dict):
            return None
        digest = self._digest(path, entry.get("status"), entry.get("digest"))
        if digest is None or entry.get("digest") != digest or stored.get("key") != key(path):
            return None
        try:
            return [_raw(fields) for fields in stored["raw"]]
        except (KeyError, TypeError, ValueError):
            return None

    def _cached(self, path: str, kind: str) -> FileReview | None:
        entry = self._entries.get(path)
        entry = entry if isinstance(entry, dict) else {}
        digest = self._digest(path, entry.get("status"), entry.get("digest"))
        if digest is None or entry.get("digest") != digest or kind not in entry:
            return None
        try:
            return FileReview.from_json(path, entry[kind])
        except (KeyError, TypeError, ValueError):
            return None  # a damaged entry is reviewed again

    def _digest(self, path: str, status: object, digest: object) -> str | None:
        """The hash of the file's bytes: the recorded one while its status is unchanged."""
        try:
            now = _status(os.stat(path))
        except OSError:
            return None  # the review reports it
        if status == now and isinstance(digest, str):
            self._digests[path], self._statuses[path] = digest, now
            return digest
        try:
            with open(path, "rb") as handle:  # thousands of files: no Path object for each
                digest = content_digest(handle.read())
        except OSError:
            return None
        self._digests[path] = digest
        if self._clock() - max(now[0], now[1]) > SETTLED_NS:
            self._statuses[path] = now
        return digest

    def save(
        self,
        fresh: Iterable[FileReview],
        counted: Iterable[FileReview] = (),
        ruff_hits: Mapping[str, list[RawFinding]] | None = None,
        ruff_key: Callable[[str], str] | None = None,
    ) -> None:
        """Remember the fresh results, ruff's hits in the files it checked (under `ruff_key`)
        and the files' statuses (files already gone from disk are forgotten); a cache that
        cannot be written costs the next run time, nothing else. A run that changed nothing
        writes nothing (a warm review of a large tree would spend a tenth of its time
        re-encoding the same JSON)."""
        changed = any([self._remember(review, REVIEWED) for review in fresh])
        changed = any([self._remember(review, COUNTED) for review in counted]) or changed
        if ruff_hits and ruff_key is not None:
            remembered = [self._remember_ruff(p, h, ruff_key) for p, h in ruff_hits.items()]
            changed = any(remembered) or changed
        for path, digest in self._digests.items():
            entry = self._entries.get(path)
            if not isinstance(entry, dict) or entry.get("digest") != digest:
                continue
            status = self._statuses.get(path)
            if entry.get("status") != status:
                changed = True
                if status is None:
                    entry.pop("status", None)
                else:
                    entry["status"] = status
        kept = {
            path: entry
            for path, entry in self._entries.items()
            if path in self._digests or os.path.exists(path)
        }
        changed = changed or len(kept) != len(self._entries)
        self._entries = kept
        if changed:
            self._write()

    def _write(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# written by bepro: a cache, never committed\n*\n")
            write_atomically(self.file, json.dumps(self._entries, separators=(",", ":")))
            for stale in self.folder.glob("review-*.json"):  # an older bepro's or Python's
                if not stale.name.startswith(f"review-{code_key()}-"):
                    stale.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot write the review cache %s: %s", self.file, exc.strerror)

    def _remember(self, review: FileReview, kind: str) -> bool:
        """Add a result to the file's entry, which keeps its other kinds if the bytes match."""
        if not review.cacheable():
            return False
        entry = self._entry(review.path)
        if entry is None:
            return False
        entry[kind] = review.to_json()
        return True

    def _remember_ruff(self, path: str, hits: list[RawFinding], key: Callable[[str], str]) -> bool:
        entry = self._entry(path)
        if entry is None:
            return False
        entry[RUFF] = {"key": key(path), "raw": [list(_raw_fields(raw)) for raw in hits]}
        return True

    def _entry(self, path: str) -> dict[str, Any] | None:
        """The file's entry for the bytes this run read (a new one when they changed); None when
        this run never read the file."""
        digest = self._digests.get(path)
        if digest is None:
            return None
        entry = self._entries.get(path)
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            entry = {"digest": digest}
            self._entries[path] = entry
        return entry


def _raw(fields: list[Any]) -> RawFinding:
    rule_id, source, line, column, end_line, message, unless = fields
    return RawFinding(
        str(rule_id),
        str(source),
        int(line),
        int(column),
        int(end_line),
        str(message),
        tuple(str(fact) for fact in unless),
    )


def _status(result: os.stat_result) -> list[int]:
    """What changes when a file is written, moved over or touched (as JSON keeps it)."""
    return [result.st_mtime_ns, result.st_ctime_ns, result.st_size, result.st_ino]
