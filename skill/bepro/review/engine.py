"""`bepro review`: walk the files, run ruff once and bepro's detectors in one AST pass per file,
map everything to catalogue rules, apply suppressions and selection, order by priority."""

from __future__ import annotations

import ast
import gc
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.review import across, ruff_adapter
from bepro.review.cache import COUNTED, FileReview, ResultCache
from bepro.review.context import ModuleContext
from bepro.review.detectors.resilience import timeout_splat_lines
from bepro.review.detectors.security import plain_http_lines
from bepro.review.finding import FileIssue, Finding, RawFinding, ReviewResult
from bepro.review.globs import matches
from bepro.review.modern_syntax import parse_module
from bepro.review.registry import (
    REWRITES,
    CodeInfo,
    Detector,
    Hit,
    callee_name,
    code_table,
    load_detectors,
)
from bepro.review.roles import (
    ROLES,
    Role,
    project_root,
    role_of,
    vendored_folders,
)

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 2_000_000
PARALLEL_MIN_FILES = 40
_SUPPRESSION = re.compile(r"#\s*bepro:\s*ignore\[([A-Za-z0-9,:\s-]+)\]")
# bandit's own marker, which ruff does not read: `# nosec` or `# nosec B305, B608`. A project
# that moved from bandit keeps its reviewed exceptions (privacyidea's AES-ECB for Yubikey OTP).
_NOSEC = re.compile(r"#\s*nosec\b:?((?:[\s,]*B\d{3}\b)*)")
_ANY_BANDIT_CODE = "nosec"
_BANDIT_CODE = re.compile(r"ruff:S\d{3}")
_LEAVES = frozenset({ast.Name, ast.Constant})
# Fields that never hold a node (identifiers, flags, the Load/Store context), or only operator
# singletons (`+`, `==`, `and`), which no detector reads so far: the walk does not look at them.
_NOT_CHILDREN = frozenset(
    {"ctx", "id", "attr", "arg", "asname", "name", "module", "level", "conversion", "is_async",
     "kind", "n", "s", "simple", "tag", "type_comment", "kwd_attrs", "op", "ops"}
)  # fmt: skip


@dataclass(frozen=True)
class ReviewOptions:
    """What a review reports. `enabled` holds detector sources (`bepro:random-id`, `ruff:S113`);
    None means the default selection. Per-file-ignores map a glob to sources."""

    enabled: frozenset[str] | None = None
    min_priority: int = 8
    per_file_ignores: dict[str, frozenset[str]] = field(default_factory=dict)
    role_overrides: dict[str, Role] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    use_ruff: bool = True
    all_roles: bool = False  # report tests, migrations, scripts, examples and vendored code too
    roots: tuple[str, ...] = ()  # the targets' project folders (roles.project_root), deepest first

    def role(self, path: str, entry_point: bool = False) -> Role:
        """The file's role (roles.role_of), its path judged from inside its project."""
        return role_of(path, self.role_overrides, entry_point, self._within_project(path))

    def _within_project(self, path: str) -> str | None:
        if not self.roots:
            return None
        absolute = os.path.abspath(path)
        for root in self.roots:
            if absolute.startswith(root.rstrip(os.sep) + os.sep):
                return absolute[len(root.rstrip(os.sep)) + 1 :]
        return None

    def wants(self, info: CodeInfo, priority: int, path: str, role: Role) -> bool:
        enabled = info.default if self.enabled is None else info.source in self.enabled
        applies = self.all_roles or role in info.roles
        if not enabled or not applies or priority > self.min_priority:
            return False
        return not any(
            info.source in sources and matches(path, pattern)
            for pattern, sources in self.per_file_ignores.items()
        )

    def detectors(self) -> frozenset[str]:
        """bepro's own codes whose findings this review can report: the others' detectors do
        not run, as ruff runs only the rules it selects (the preview ones were half of the
        detector time on InvenTree)."""
        table = code_table()
        return frozenset(
            found.source
            for found in load_detectors().values()
            if (
                table[found.source].default
                if self.enabled is None
                else found.source in self.enabled
            )
        )


def snippet_options(
    enabled: frozenset[str] | None = None, min_priority: int = 8, use_ruff: bool = True
) -> ReviewOptions:
    """How code asked about (text, not a project's files) is judged: with every code unless
    `enabled` says otherwise, as production code whatever its name. A question about a piece of
    code asks for everything accurate about it: the preview codes are accurate, only often not
    worth a change across a whole code base."""
    return ReviewOptions(
        enabled=frozenset(code_table()) if enabled is None else enabled,
        min_priority=min_priority,
        role_overrides={"*": "production"},
        use_ruff=use_ruff,
    )


def collect_files(targets: Iterable[Path], exclude: Iterable[str] = ()) -> list[Path]:
    """Python files under the targets, as the project's ruff would list them (gitignore at every
    level, its excludes), less bepro's own `exclude` globs."""
    patterns = tuple(exclude)
    return [
        path
        for path in ruff_adapter.list_files(targets)
        if not any(matches(str(path), pattern) for pattern in patterns)
    ]


def review_files(
    targets: list[Path],
    catalogue: Catalogue,
    options: ReviewOptions,
    cache: ResultCache | None = None,
) -> ReviewResult:
    """Review files and folders; with a cache, files unchanged since it was written are not
    parsed again, nor checked by ruff again under the same ruff configuration. Files whose role
    no selected code applies to (tests, migrations, scripts by default) are read and counted,
    not analysed: nothing found in them would be reported."""
    files = collect_files(targets, options.exclude)
    names = [str(path) for path in files]
    roots = sorted({project_root(target) for target in targets}, key=len, reverse=True)
    options = _with_vendored_roles(replace(options, roots=tuple(roots)), names)
    silent = _silent_roles(options)
    analysed = [name for name in names if not _in_silent_role(name, options, silent)]
    ruff_known, ruff_todo = _ruff_cached(analysed, cache) if options.use_ruff else ({}, [])
    # ruff (native, fast) runs in a thread while bepro's detectors run; its hits for files that
    # turn out unreadable or unparsable are dropped when the results are joined.
    with ThreadPoolExecutor(max_workers=1) as background:
        ruff_cache = cache.folder / "ruff" if cache is not None else None
        ruff_future = (
            background.submit(ruff_adapter.run, ruff_todo, ruff_cache) if ruff_todo else None
        )
        chosen = set(analysed)
        counted_only = [name for name in names if name not in chosen]
        by_path, fresh, counted = _file_reviews(analysed, counted_only, options.detectors(), cache)
        ruff_new = ruff_future.result() if ruff_future is not None else {}
    if cache is not None:
        checked = {path: ruff_new.get(path, []) for path in ruff_todo}
        cache.save(fresh, counted, checked, ruff_adapter.settings_key)
    folders = [target for target in targets if target.is_dir()]
    return _assemble(
        [by_path[name] for name in names],
        {**ruff_known, **ruff_new},
        catalogue,
        options,
        folders=folders,
    )


def _ruff_cached(
    analysed: list[str], cache: ResultCache | None
) -> tuple[dict[str, list[RawFinding]], list[str]]:
    """Ruff's remembered hits for the files unchanged under the same ruff configuration, and the
    files ruff must check (a warm review of a large tree runs no ruff process at all)."""
    if cache is None:
        return {}, analysed
    ruff_adapter.forget_configuration()
    return cache.lookup_ruff(analysed, ruff_adapter.settings_key)


def _file_reviews(
    analysed: list[str],
    counted_only: list[str],
    detectors: frozenset[str],
    cache: ResultCache | None,
) -> tuple[dict[str, FileReview], list[FileReview], list[FileReview]]:
    """Each file's review by these detectors, or for the files only counted its line count;
    with a cache (of the same detectors), those of files unchanged since it was written come
    from it. Also the fresh reviews and counts, for the cache to remember."""
    if cache is None:
        found = [*_review_all(analysed, detectors), *map(_counted, counted_only)]
        return {review.path: review for review in found}, [], []
    cached, missing = cache.lookup(analysed)
    kept, uncounted = cache.lookup(counted_only, COUNTED)
    fresh = _review_all(missing, detectors)
    counted = [_counted(name) for name in uncounted]
    reviews = {**cached, **kept, **{review.path: review for review in [*fresh, *counted]}}
    return reviews, fresh, counted


def _with_vendored_roles(options: ReviewOptions, names: list[str]) -> ReviewOptions:
    """Folders of copied dependencies are vendored code, unless the project's own role globs
    say otherwise (the first matching glob decides)."""
    found: dict[str, Role] = {f"{folder}/**": "vendored" for folder in vendored_folders(names)}
    if not found:
        return options
    return replace(options, role_overrides={**options.role_overrides, **found})


def _silent_roles(options: ReviewOptions) -> frozenset[Role]:
    """The roles that no code the options enable applies to."""
    if options.all_roles:
        return frozenset()
    enabled = [
        info
        for info in code_table().values()
        if (info.default if options.enabled is None else info.source in options.enabled)
    ]
    return frozenset(role for role in ROLES if not any(role in info.roles for info in enabled))


def _in_silent_role(path: str, options: ReviewOptions, silent: frozenset[Role]) -> bool:
    """Whether the file's role is silent whatever its code says (a production file run as a
    program is a script: that takes the parse to know)."""
    role = options.role(path)
    return role in silent and (role != "production" or "script" in silent)


def _review_all(names: list[str], detectors: frozenset[str]) -> list[FileReview]:
    """Each file's review, in the order given; a large tree is spread over worker processes
    (forked: they inherit the loaded detectors and their dispatch table)."""
    review = partial(_review_file, detectors=detectors)
    workers = min(4, os.cpu_count() or 1)
    if workers > 1 and len(names) >= PARALLEL_MIN_FILES:
        _dispatch(detectors)
        # chunks large enough to keep the messages between processes few, small enough (eight
        # a worker) that one slow chunk does not leave the other workers idle at the end
        chunk = max(16, len(names) // (workers * 8))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(review, names, chunksize=chunk))
    return [review(name) for name in names]


def review_source(
    source: str, filename: str, catalogue: Catalogue, options: ReviewOptions | None = None
) -> ReviewResult:
    """Review code given as text (MCP, HTTP): nothing is read from or written to disk."""
    options = options or ReviewOptions()
    result = _review_text(filename, source, options.detectors())
    ruff_hits: dict[str, list[RawFinding]] = {}
    if options.use_ruff and result.issue is None:
        ruff_hits = {filename: ruff_adapter.run_source(source, filename)}
    return _assemble([result], ruff_hits, catalogue, options, {filename: source})


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing a file builds thousands of short-lived AST nodes, and CPython's cyclic GC rescans
    them over and over: a third of review time on a large tree. They form no cycles (see
    `_run_detectors`), so reference counting frees them; GC resumes after each file and then
    collects anything a detector did leave in a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _review_file(path: str, detectors: frozenset[str]) -> FileReview:
    with _gc_paused():
        source = _read_source(path)
        return source if isinstance(source, FileReview) else _review_text(path, source, detectors)


def _counted(path: str) -> FileReview:
    """A file read and counted, not analysed (what it sets for the whole process is noted)."""
    source = _read_source(path)
    if isinstance(source, FileReview):
        return source
    result = FileReview(path, _line_count(source))
    across.record_settings(result, source)
    return result


def _line_count(source: str) -> int:
    return source.count("\n") + 1


def _read_source(path: str) -> str | FileReview:
    """The file's text, or a review saying why it cannot be read."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            message = f"{size} bytes is over the {MAX_FILE_BYTES} byte limit"
            return FileReview(
                path, issue=FileIssue(path=path, kind="skipped-too-large", message=message)
            )
        data = Path(path).read_bytes()
    except OSError as exc:
        return FileReview(
            path, issue=FileIssue(path=path, kind="read-error", message=str(exc.strerror))
        )
    if looks_binary(data):
        return FileReview(
            path, issue=FileIssue(path=path, kind="skipped-binary", message="binary file")
        )
    # utf-8-sig: a byte-order mark opens some files (Windows editors); Python runs them
    return data.decode("utf-8-sig", errors="replace")


def _ruff_voided(tree: ast.Module, source: str) -> dict[str, tuple[int, ...]]:
    """Lines where bepro reads more than ruff sees: S113 where the timeout rides in a
    `**options` dict, S501 where the URL is plain http (verify= does nothing there)."""
    voided: dict[str, tuple[int, ...]] = {}
    if "**" in source and "timeout" in source:
        voided[_S113] = timeout_splat_lines(tree)
    if "verify" in source and "http://" in source:
        voided[_S501] = plain_http_lines(tree)
    return {code: lines for code, lines in voided.items() if lines}


def _review_text(path: str, source: str, detectors: frozenset[str]) -> FileReview:
    result = FileReview(path, lines=_line_count(source))
    try:
        # Syntax newer than the running Python (PEP 695, 701, 750, 758) is lowered first.
        tree = parse_module(source, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        message = f"cannot parse: {getattr(exc, 'msg', None) or exc}{where}"
        result.issue = FileIssue(path=path, kind="parse-error", message=message)
        return result
    context = ModuleContext.build(path, source, tree)
    across.record_facts(result, tree, context, detectors)
    result.ruff_voided = _ruff_voided(tree, source)
    try:
        result.raw = _run_detectors(tree, context, detectors)
    except RecursionError:
        result.issue = FileIssue(
            path=path, kind="parse-error", message="nesting too deep to analyse"
        )
        return result
    except Exception as exc:  # a detector bug costs this file, not the whole review
        log.exception("a detector failed on %s", path)
        message = f"a bepro detector failed ({type(exc).__name__}); please report it"
        result.issue = FileIssue(path=path, kind="internal-error", message=message)
        return result
    if "bepro:" in source or "nosec" in source:  # most files have none: skip the line scan
        result.suppressed = _suppressions(context.lines)
        _spread_nosec(tree, result.suppressed)
    return result


@dataclass(frozen=True)
class _Dispatch:
    """Which detectors see which nodes: by node type, and for calls by the callee's last name."""

    by_type: dict[type[ast.AST], list[Detector]]
    calls_by_callee: dict[str, list[Detector]]
    any_call: list[Detector]
    skipped: frozenset[type[ast.AST]]
    children: dict[type[ast.AST], tuple[str, ...]]  # node type -> the fields the walk reads


@lru_cache(maxsize=8)
def _dispatch(detectors: frozenset[str]) -> _Dispatch:
    """Which of these detectors each node type (and each callee name) goes to."""
    by_type: dict[type[ast.AST], list[Detector]] = {}
    for found in load_detectors().values():
        if found.source not in detectors:
            continue
        for node_type in found.nodes:
            by_type.setdefault(node_type, []).append(found)
    calls = by_type.pop(ast.Call, [])
    any_call = [found for found in calls if found.callees is None]
    by_callee: dict[str, list[Detector]] = {}
    for found in calls:
        for name in found.callees or ():
            by_callee.setdefault(name, list(any_call)).append(found)
    skipped = frozenset(_LEAVES - by_type.keys())
    return _Dispatch(by_type, by_callee, any_call, skipped, _child_fields(by_type.keys()))


def _child_fields(wanted: Iterable[type[ast.AST]]) -> dict[type[ast.AST], tuple[str, ...]]:
    """Per node type, the fields that can hold nodes a detector sees; global/nonlocal `names`
    are identifiers, import `names` are alias nodes."""
    operators = (ast.operator, ast.cmpop, ast.boolop, ast.unaryop)
    skipped = _NOT_CHILDREN
    if any(issubclass(node_type, operators) for node_type in wanted):
        skipped -= {"op", "ops"}
    fields: dict[type[ast.AST], tuple[str, ...]] = {}
    todo: list[type[ast.AST]] = [ast.AST]
    while todo:
        node_type = todo.pop()
        todo.extend(node_type.__subclasses__())
        identifiers = {"names"} if node_type in (ast.Global, ast.Nonlocal) else set()
        fields[node_type] = tuple(
            name for name in node_type._fields if name not in skipped | identifiers
        )
    return fields


def _run_detectors(
    tree: ast.Module, context: ModuleContext, detectors: frozenset[str]
) -> list[RawFinding]:
    """One depth-first walk keeping the ancestor stack, dispatching each node to the detectors
    registered for it. After parsing, the walk is most of the cost, so it is a plain recursion
    with local names that skips what no detector reads: fields that hold identifiers, contexts
    or operators, and names and constants, the leaves that make up half of a tree."""
    table = _dispatch(detectors)
    findings: list[RawFinding] = []
    stack = context.stack
    dispatch = table.by_type.get
    by_callee = table.calls_by_callee.get
    any_call = table.any_call
    aliases = context.aliases
    skipped = table.skipped
    children = table.children
    node_class = ast.AST
    call_class = ast.Call

    def visit(node: ast.AST) -> None:
        detectors: list[Detector] | None
        if type(node) is call_class:
            detectors = by_callee(callee_name(node, aliases) or "", any_call)
        else:
            detectors = dispatch(type(node))
        if detectors:
            for found in detectors:
                for hit in found.check(node, context):
                    findings.append(_raw(found, hit))
        stack.append(node)
        for name in children[type(node)]:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, node_class) and type(item) not in skipped:
                        visit(item)
            elif isinstance(value, node_class) and type(value) not in skipped:
                visit(value)
        stack.pop()

    try:
        visit(tree)
    finally:
        # `visit` refers to itself through its closure cell: clearing the cell breaks that cycle,
        # so the tree is freed by reference counting when the file is done, even with GC paused.
        visit = None  # type: ignore[assignment]
    return findings


def _raw(found: Detector, hit: Hit) -> RawFinding:
    line = getattr(hit.node, "lineno", 1)
    return RawFinding(
        rule_id=found.rule_id,
        source=found.source,
        line=line,
        column=getattr(hit.node, "col_offset", 0) + 1,
        end_line=getattr(hit.node, "end_lineno", None) or line,
        message=hit.message,
        unless=hit.unless,
    )


def _suppressions(lines: list[str]) -> dict[int, frozenset[str]]:
    found: dict[int, frozenset[str]] = {}
    for number, text in enumerate(lines, start=1):
        names: set[str] = set()
        match = _SUPPRESSION.search(text) if "bepro:" in text else None
        if match:
            names.update(part.strip() for part in match[1].split(",") if part.strip())
        nosec = _NOSEC.search(text) if "nosec" in text else None
        if nosec:
            tests = re.findall(r"B(\d{3})", nosec[1])
            names.update([f"ruff:S{test}" for test in tests] or [_ANY_BANDIT_CODE])
        if names:
            found[number] = frozenset(names)
    return found


def _spread_nosec(tree: ast.Module, suppressed: dict[int, frozenset[str]]) -> None:
    """bandit reads `# nosec` on any line of a statement (after a call's closing parenthesis,
    typically), while ruff reports the line where the flagged expression is: a marker in a
    simple statement that spans lines covers all of them."""
    bandit = {
        line: frozenset(n for n in names if n == _ANY_BANDIT_CODE or _BANDIT_CODE.fullmatch(n))
        for line, names in suppressed.items()
    }
    bandit = {line: names for line, names in bandit.items() if names}
    if not bandit:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or hasattr(node, "body"):
            continue  # a compound statement's lines are its body's
        last = node.end_lineno or node.lineno
        for line, names in bandit.items():
            if node.lineno <= line <= last:
                for covered in range(node.lineno, last + 1):
                    suppressed[covered] = suppressed.get(covered, frozenset()) | names


class _LineTexts:
    """A finding's line of code, read once per file that has findings (for fingerprints)."""

    def __init__(self, sources: dict[str, str]) -> None:
        self._lines = {path: text.splitlines() for path, text in sources.items()}

    def line(self, path: str, number: int) -> str:
        if path not in self._lines:
            try:
                text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                text = ""
            self._lines[path] = text.splitlines()
        lines = self._lines[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""


BINARY_SNIFF_BYTES = 8192


def looks_binary(data: bytes) -> bool:
    """A NUL byte early in the file means binary, as git decides."""
    return b"\0" in data[:BINARY_SNIFF_BYTES]


def fingerprint(path: str, source: str, line_text: str) -> str:
    """Stable across edits elsewhere in the file: the file's name, the code and the flagged line's
    text, not its number (as SARIF's partialFingerprints and ruff-style baselines do)."""
    key = f"{Path(path).as_posix()}\0{source}\0{' '.join(line_text.split())}"
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def _suppressed(raw: RawFinding, info: CodeInfo, names: frozenset[str] | None) -> bool:
    """`# bepro: ignore[...]` names rule ids or codes, qualified or not; a bare `# nosec`
    silences ruff's ports of bandit's tests (S1xx-S7xx) on its line, as it silenced bandit."""
    if not names:
        return False
    if _ANY_BANDIT_CODE in names and _BANDIT_CODE.fullmatch(info.source):
        return True
    return not names.isdisjoint({raw.rule_id, info.source, info.code})


_S113 = "ruff:S113"
_S501 = "ruff:S501"


def _assemble(
    results: list[FileReview],
    ruff_hits: dict[str, list[RawFinding]],
    catalogue: Catalogue,
    options: ReviewOptions,
    sources: dict[str, str] | None = None,
    folders: Iterable[Path] = (),
) -> ReviewResult:
    findings: list[Finding] = []
    texts = _LineTexts(sources or {})
    issues = [result.issue for result in results if result.issue is not None]
    table = code_table()
    joined = across.join(results, {r.path: options.role(r.path) for r in results}, folders)
    for result in results:
        # A file bepro could not parse still gets ruff's findings: ruff parses what CPython does.
        role = options.role(result.path, joined.run_by_hand(result))
        spanning = joined.findings.get(result.path, [])
        for raw in [*result.raw, *ruff_hits.get(result.path, []), *spanning]:
            if raw.line in result.ruff_voided.get(raw.source, ()):
                continue  # bepro reads the line better (_ruff_voided)
            if raw.unless and joined.voids(result, raw):
                continue  # bounded by what the project sets for every call
            rule = catalogue.rule(raw.rule_id)
            info = table.get(raw.source)
            if rule is None or info is None:
                continue
            if _suppressed(raw, info, result.suppressed.get(raw.line)):
                continue
            if not options.wants(info, rule.priority, result.path, role):
                continue
            findings.append(
                Finding(
                    rule_id=rule.id,
                    category=rule.category,
                    priority=rule.priority,
                    severity=rule.severity,
                    path=result.path,
                    line=raw.line,
                    column=raw.column,
                    end_line=raw.end_line,
                    message=raw.message,
                    source=raw.source,
                    role=role,
                    fix_available=raw.source in REWRITES,
                    fingerprint=fingerprint(
                        result.path, raw.source, texts.line(result.path, raw.line)
                    ),
                )
            )
    unique = {(f.path, f.line, f.column, f.rule_id, f.source): f for f in findings}
    ordered = sorted(unique.values(), key=Finding.sort_key)
    return ReviewResult(
        findings=ordered,
        issues=sorted(issues, key=lambda issue: issue.path),
        files=len(results),
        lines=sum(result.lines for result in results),
    )
