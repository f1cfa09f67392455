"""Which modules import which, within the reviewed tree: an entry point that production code
imports is production code, a module that only hand-run programs reach is not, and a function
an async view imports from another module can be looked up where it is defined.

A name resolves to a file through its packages (folders holding an `__init__.py`): the longest
tail of two parts or more that names a module wins, and a one-word import names a module beside
the importer (`import helpers` in a folder that holds helpers.py). What does not resolve is no
edge, which can only keep a module in production: a module that nothing known imports is a root.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import PurePath

_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}

# Modules a framework loads by their name or folder, whoever else imports them: Django's apps,
# models, views, URL confs, admin, signals and template tags, Celery's autodiscovered tasks,
# WSGI/ASGI and settings modules named in deployment files, an application factory's app/main.
_LOADED_BY_NAME = frozenset(
    {"__init__", "admin", "api", "app", "application", "apps", "asgi", "celery", "conf", "config",
     "consumers", "context_processors", "handlers", "hooks", "jobs", "main", "middleware",
     "models", "receivers", "routes", "routing", "schema", "schemas", "serializers", "server",
     "settings", "signals", "tasks", "urls", "views", "wsgi"}
)  # fmt: skip
_LOADED_BY_FOLDER = frozenset({"settings", "templatetags", "plugins", "tasks", "views", "models"})

# A dotted name in quotes: a settings entry ("app.middleware.Audit"), a Celery task name, an
# import_module() argument, an entry point ("app.wsgi:application").
_QUOTED_NAME = re.compile(r"""["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?::[A-Za-z_]\w*)?["']""")


def imported_modules(imports: Iterable[ast.Import | ast.ImportFrom], path: str) -> tuple[str, ...]:
    """The dotted names a module imports anywhere in it (`from a.b import c` gives a.b and
    a.b.c: c may be a module), relative imports resolved against its path; the standard
    library left out."""
    package = PurePath(path).parent.parts
    names: set[str] = set()
    for node in imports:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        else:
            base = _from_module(node, package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return tuple(sorted(name for name in names if name and name.partition(".")[0] not in _STDLIB))


def imported_names(imports: Iterable[ast.Import | ast.ImportFrom], path: str) -> dict[str, str]:
    """The names `from m import f` binds, as the dotted name they stand for (`f` ->
    `m.f`), relative imports resolved against the module's path; the standard library left
    out."""
    package = PurePath(path).parent.parts
    bound: dict[str, str] = {}
    for node in imports:
        if isinstance(node, ast.ImportFrom):
            base = _from_module(node, package)
            if base and base.partition(".")[0] not in _STDLIB:
                for alias in node.names:
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bound


def _from_module(node: ast.ImportFrom, package: tuple[str, ...]) -> str:
    base = node.module or ""
    if node.level:
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return base


def quoted_names(source: str) -> tuple[str, ...]:
    """The dotted names a module's source quotes, which may load a module by its name."""
    if "." not in source:
        return ()
    return tuple(sorted(set(_QUOTED_NAME.findall(source))))


def imported_by(paths: Iterable[str], imports: Iterable[str], packages: set[str]) -> set[str]:
    """Those of `paths` that some name in `imports` refers to: `archivebox/machine/detect.py`
    is imported as `archivebox.machine.detect` or `machine.detect` when those folders are
    packages (`packages`: the folders that hold an `__init__.py`, `/`-separated), never as a
    bare `detect`, which could be any module."""
    names = _ModuleNames(paths, packages)
    return {path for name in imports for path in names.resolve(name)}


def run_by_hand_only(
    imports: Mapping[str, Iterable[str]],
    by_hand: set[str],
    quoted: Iterable[str],
    packages: set[str],
) -> set[str]:
    """Modules of `imports` (path -> names it imports: production code and the programs run
    by hand, tests left out) that programs run by hand reach and nothing else does: a helper
    only the operators' management commands import, and what only it imports (fecfile's Cloud
    Foundry API client, used to rotate credentials by hand). Roots are the modules that nothing
    imports, those a framework loads by name, and those a `quoted` name in production code
    names; what a root reaches, through any chain of imports, stays production code."""
    names = _ModuleNames(imports, packages)
    edges = {
        path: {target for name in found for target in names.resolve(name, path)} - {path}
        for path, found in imports.items()
    }
    imported: set[str] = {target for targets in edges.values() for target in targets}
    named = {path for name in quoted for path in names.resolve_prefix(name)}
    roots = [
        path
        for path in imports
        if path not in by_hand and (path not in imported or path in named or _loaded_by_name(path))
    ]
    return _reached(by_hand, edges) - _reached(roots, edges) - by_hand


def importers_of(
    targets: set[str], imports: Mapping[str, Iterable[str]], packages: set[str]
) -> set[str]:
    """The modules of `imports` (path -> names it imports) that reach one of `targets` through
    any chain of imports, the targets themselves included."""
    names = _ModuleNames(imports, packages)
    reverse: dict[str, set[str]] = defaultdict(set)
    for path, found in imports.items():
        for name in found:
            for target in names.resolve(name, path) - {path}:
                reverse[target].add(path)
    return _reached(targets, reverse)


def functions_defined(
    calls: Mapping[str, Iterable[tuple[str, str]]],
    defined: Mapping[str, Mapping[str, str]],
    packages: set[str],
) -> dict[str, list[tuple[str, str, str]]]:
    """For each file's calls (path -> (key, dotted name of a function another module defines)),
    the ones whose function `defined` (path -> function name -> what it says of it) holds:
    path -> [(key, the defining module's path, what `defined` says)]."""
    names = _ModuleNames(defined, packages)
    found: dict[str, list[tuple[str, str, str]]] = {}
    for path, wanted in calls.items():
        for key, dotted in wanted:
            module, _, function = dotted.rpartition(".")
            for target in names.resolve(module, path) if module else ():
                said = defined[target].get(function)
                if said is not None and target != path:
                    found.setdefault(path, []).append((key, target, said))
                    break
    return found


def _loaded_by_name(path: str) -> bool:
    folder, _, filename = path.replace("\\", "/").rpartition("/")
    parent = folder.rpartition("/")[2]
    return filename.removesuffix(".py") in _LOADED_BY_NAME or parent in _LOADED_BY_FOLDER


def _reached(starts: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(starts)
    pending = list(seen)
    while pending:
        for target in edges.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


class _ModuleNames:
    """The files of a tree by the dotted names they can be imported under."""

    def __init__(self, paths: Iterable[str], packages: set[str]) -> None:
        self._paths: dict[str, set[str]] = defaultdict(set)
        self._files: set[str] = set()
        self._resolved: dict[str, set[str]] = {}  # most names are imported by many files
        self._stems: set[str] = set()
        for path in paths:
            self._files.add(path)
            self._stems.add(path.replace("\\", "/").rpartition("/")[2].removesuffix(".py"))
            for name in _dotted_names(path, packages):
                self._paths[name].add(path)
                self._stems.add(name.rpartition(".")[2])  # a package's name

    def resolve(self, name: str, importer: str | None = None) -> set[str]:
        """The files `name` imports: its longest tail that names a module, or for a one-word
        name read from `importer`, a module beside it."""
        words = name.split(".")
        if len(words) == 1:
            if importer is None or name not in self._stems:
                return set()
            sibling = str(PurePath(importer).with_name(f"{name}.py"))
            return {sibling} if sibling in self._files else set()
        if words[-1] not in self._stems:
            return set()  # a tail ends with a module's or a package's own name
        known = self._resolved.get(name)
        if known is None:
            tails = (self._paths.get(".".join(words[start:])) for start in range(len(words) - 1))
            known = self._resolved[name] = next((found for found in tails if found), set())
        return known

    def resolve_prefix(self, name: str) -> set[str]:
        """The module a quoted name starts with ("app.tasks.send" names app/tasks.py)."""
        words = name.split(".")
        for end in range(len(words), 1, -1):
            found = self._paths.get(".".join(words[:end]))
            if found:
                return found
        return set()


def _dotted_names(path: str, packages: set[str]) -> list[str]:
    """The names of two parts or more a module can be imported under, through its packages
    (folders as `/`-separated text: string splits, asked of every file)."""
    folder, _, filename = path.replace("\\", "/").rpartition("/")
    stem = filename.removesuffix(".py")
    parts = [] if stem == "__init__" else [stem]
    names: list[str] = []
    while folder in packages:
        folder, _, name = folder.rpartition("/")
        if not name:
            break
        parts.insert(0, name)
        if len(parts) > 1:
            names.append(".".join(parts))
    return names
