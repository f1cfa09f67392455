"""What no single file tells: joins over every file's review.

A file's review records facts about it (what it imports, the commands it runs, the dotted names
it quotes, the functions it defines that block, the calls its async functions make to imported
functions); the review cache keeps them with it. Joined over the whole tree they decide which
programs are production code after all, which production modules only hand-run programs
reach, and the findings that span two modules (an async view calling another module's blocking
helper). The joins run on every review, cached files included, so a change to one file
reaches the findings of the files that depend on it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from bepro.review.cache import FileReview
from bepro.review.context import ModuleContext
from bepro.review.detectors.blocking import async_calls_to, blocking_definitions
from bepro.review.detectors.resilience import defines_timed_session, sets_socket_timeout
from bepro.review.finding import RawFinding
from bepro.review.modern_syntax import parse_module
from bepro.review.reach import (
    functions_defined,
    imported_by,
    imported_modules,
    imported_names,
    importers_of,
    quoted_names,
    run_by_hand_only,
)
from bepro.review.registry import (
    NO_DJANGO,
    SESSION_DEFAULT_TIMEOUT,
    SOCKET_DEFAULT_TIMEOUT,
    load_detectors,
)
from bepro.review.roles import (
    RUNS_COMMAND,
    Role,
    command_name,
    deployed_commands,
    is_entry_point,
    is_management_command,
    says_scheduled,
)

BLOCKING_HELPER = "blocking-helper-in-async"


def record_facts(
    result: FileReview, tree: ast.Module, context: ModuleContext, detectors: frozenset[str]
) -> None:
    """The facts of one file the joins read (blocking ones only when that code is selected)."""
    source, path = context.source, result.path
    result.entry_point = is_entry_point(tree, source)
    result.imports = imported_modules(context.import_statements, path)
    result.commands = _called_commands(source)
    result.quoted = quoted_names(source)
    result.scheduled = is_management_command(path) and says_scheduled(tree)
    record_settings(result, source, tree)
    if f"bepro:{BLOCKING_HELPER}" in detectors:
        _blocking_facts(result, context)


def record_settings(result: FileReview, source: str, tree: ast.Module | None = None) -> None:
    """What one file sets for the whole process (project_facts). A file only counted, not
    analysed (a start-up script), is parsed for it only when its text may hold one."""
    socket = "setdefaulttimeout" in source
    session = "Session" in source and "def request" in source
    if not (socket or session):
        return
    entry_point = result.entry_point  # record_facts has read it; a counted file has not
    if tree is None:
        try:
            tree = parse_module(source, result.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        entry_point = is_entry_point(tree, source)
    start_up = entry_point and not is_management_command(result.path)
    result.sets_socket_timeout = socket and sets_socket_timeout(tree, start_up)
    result.defines_timed_session = session and defines_timed_session(tree)


@dataclass(frozen=True)
class Joined:
    """What the joins decided for one review."""

    in_production: set[str] = field(default_factory=set)  # programs that are production code
    by_hand_only: set[str] = field(default_factory=set)  # modules only hand-run programs reach
    findings: dict[str, list[RawFinding]] = field(default_factory=dict)  # across modules
    facts: frozenset[str] = frozenset()  # project facts that void findings (RawFinding.unless)
    timed_sessions: set[str] = field(default_factory=set)  # see sessions_that_time_out

    def voids(self, result: FileReview, raw: RawFinding) -> bool:
        """Whether what the project sets bounds the finding after all."""
        facts = self.facts | (
            {SESSION_DEFAULT_TIMEOUT} if result.path in self.timed_sessions else set()
        )
        return not facts.isdisjoint(raw.unless)

    def run_by_hand(self, result: FileReview) -> bool:
        """Whether the file is a script whatever its path says (roles.role_of's entry_point)."""
        runs = _runs_as_program(result) and result.path not in self.in_production
        return runs or result.path in self.by_hand_only


def join(results: list[FileReview], roles: dict[str, Role], folders: Iterable[Path]) -> Joined:
    """The joins over a review's files (`roles`: each file's role by its path)."""
    packages = _packages(results)
    folders = list(folders)
    in_production = _production_entry_points(results, roles, folders, packages)
    return Joined(
        in_production,
        _reached_by_hand_only(results, roles, in_production, packages),
        _blocking_imports(results, packages),
        project_facts(results, roles, whole_tree=bool(folders)),
        sessions_that_time_out(results, roles, packages),
    )


def sessions_that_time_out(
    results: list[FileReview], roles: dict[str, Role], packages: set[str]
) -> set[str]:
    """The modules that import, through any chain, one of the application's modules defining a
    requests.Session subclass whose request() gives every call a timeout: there a session made
    elsewhere and held under a session's name is most likely one of those (Medusa's providers
    inherit `self.session`, a ProviderSession, from the base provider)."""
    timed = {r.path for r in results if r.defines_timed_session and roles[r.path] == "production"}
    if not timed:
        return set()
    imports = {r.path: r.imports for r in results if roles[r.path] == "production"}
    return importers_of(timed, imports, packages)


def project_facts(
    results: list[FileReview], roles: dict[str, Role], whole_tree: bool
) -> frozenset[str]:
    """What the application's own code (production modules and programs) sets for every call,
    a socket timeout at start-up; and, when a whole folder was reviewed (not a file or a
    snippet), whether nothing in it imports Django."""
    own = [r for r in results if roles[r.path] in ("production", "script")]
    facts: set[str] = set()
    if any(r.sets_socket_timeout for r in own):
        facts.add(SOCKET_DEFAULT_TIMEOUT)
    if whole_tree and not any(
        name.split(".")[0] == "django" for r in results for name in r.imports
    ):
        facts.add(NO_DJANGO)
    return frozenset(facts)


def _production_entry_points(
    results: list[FileReview], roles: dict[str, Role], folders: list[Path], packages: set[str]
) -> set[str]:
    """Modules run as programs that are production code all the same: those production code
    imports, the management commands it or a deployment file under `folders` runs, and those
    whose own help says a cron job or a daemon runs them."""
    production = [r for r in results if roles[r.path] == "production"]
    entry_points = [r.path for r in production if r.entry_point]
    commands = [r.path for r in production if is_management_command(r.path)]
    found: set[str] = set()
    if entry_points:
        imports = (name for r in production if not r.entry_point for name in r.imports)
        found |= imported_by(entry_points, imports, packages)
    if commands:
        run = {name for r in production if not _runs_as_program(r) for name in r.commands}
        run |= deployed_commands(folders)
        found.update(path for path in commands if command_name(path) in run)
        found.update(r.path for r in production if r.scheduled)
    return found


def _blocking_facts(result: FileReview, context: ModuleContext) -> None:
    """What `_blocking_imports` joins across files (see detectors/blocking.py)."""
    result.blocking = blocking_definitions(context)
    imported = imported_names(context.import_statements, result.path)
    result.async_calls = tuple(
        (call.lineno, call.col_offset, call.end_lineno or call.lineno, name, dotted)
        for call, dotted in async_calls_to(imported, context)
        if isinstance(call.func, ast.Name) and (name := call.func.id)
    )


def _blocking_imports(results: list[FileReview], packages: set[str]) -> dict[str, list[RawFinding]]:
    """blocking-helper-in-async across modules: an async function's call to a plain function
    another reviewed module defines, which blocks."""
    defined = {r.path: r.blocking for r in results if r.blocking}
    calls = {
        r.path: [(str(index), call[4]) for index, call in enumerate(r.async_calls)]
        for r in results
        if r.async_calls
    }
    if not defined or not calls:
        return {}
    rule_id = load_detectors()[BLOCKING_HELPER].rule_id
    by_path = {r.path: r for r in results}
    found: dict[str, list[RawFinding]] = {}
    for path, hits in functions_defined(calls, defined, packages).items():
        for key, module, blocking in hits:
            line, column, end_line, name, _ = by_path[path].async_calls[int(key)]
            message = (
                f"`{name}()` blocks the event loop (it calls `{blocking}`, in "
                f"{PurePath(module).name}): make it async, or run it with "
                f"`await asyncio.to_thread({name}, ...)`"
            )
            raw = RawFinding(rule_id, f"bepro:{BLOCKING_HELPER}", line, column, end_line, message)
            found.setdefault(path, []).append(raw)
    return found


def _reached_by_hand_only(
    results: list[FileReview], roles: dict[str, Role], in_production: set[str], packages: set[str]
) -> set[str]:
    """Production modules that only the programs run by hand import, directly or not: the
    management commands no deployment file runs and the files of script folders."""
    by_hand = {
        r.path
        for r in results
        if (roles[r.path] == "script" and PurePath(r.path).name not in _MAIN_MODULES)
        or (is_management_command(r.path) and r.path not in in_production)
    }
    if not by_hand:
        return set()
    production = [r for r in results if roles[r.path] == "production" and r.path not in by_hand]
    imports = {r.path: r.imports for r in [*production, *(r for r in results if r.path in by_hand)]}
    quoted = (name for r in production for name in r.quoted)
    return run_by_hand_only(imports, by_hand, quoted, packages)


# The application's own entry: it imports the application, which is not run by hand.
_MAIN_MODULES = frozenset({"manage.py", "__main__.py"})


def _packages(results: list[FileReview]) -> set[str]:
    """The folders that hold an `__init__.py`, `/`-separated (reach.py's form)."""
    paths = (r.path.replace("\\", "/") for r in results)
    return {path.rpartition("/")[0] for path in paths if path.endswith("/__init__.py")}


# `call_command("name", ...)`, `management.call_command(\n "name")`: read from the text, as a
# walk of the whole tree cost a large module tens of milliseconds.
_CALLS_COMMAND = re.compile(r"""\bcall_command\(\s*["']([A-Za-z_][\w-]*)["']""")


# A module that schedules programs: an AWS CDK or Pulumi stack's `cron(30 * * * ? *)`.
_SCHEDULES = re.compile(r"\b(?:cron|schedule)", re.IGNORECASE)


def _called_commands(source: str) -> tuple[str, ...]:
    """The management commands a module runs itself (a Celery task running an import daily) or
    schedules (EveryElection's CDK stack runs `manage-py-command snoop` hourly)."""
    names = set(_CALLS_COMMAND.findall(source)) if "call_command" in source else set()
    if "manage" in source and _SCHEDULES.search(source):
        names.update(a or b for a, b in RUNS_COMMAND.findall(source))
    return tuple(sorted(names))


def _runs_as_program(result: FileReview) -> bool:
    return result.entry_point or is_management_command(result.path)
