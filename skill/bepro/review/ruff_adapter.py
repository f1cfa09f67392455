"""Run the ruff binary over the files (JSON output) and map its codes to catalogue rules.

Ruff runs with the reviewed project's own configuration, as the project's CI runs it: its
per-file-ignores, excludes and target-version apply, and so do the codes it ignores project-wide
(`lint.ignore`), since `--select` on the command line would otherwise bring them back. Ruff also
lists the files to review: it walks a tree with gitignore semantics at every level."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from bepro.errors import BeproError
from bepro.review.finding import RawFinding
from bepro.review.registry import RUFF_CODES, ruff_rule

log = logging.getLogger(__name__)

RUFF_TIMEOUT_S = 300.0
_ARGS_PER_CALL = 2000  # keep command lines well under the OS limit


class RuffUnavailableError(BeproError):
    code = "BEPRO007"


def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as exc:
        raise RuffUnavailableError(
            "ruff is not installed", "pip install 'ruff>=0.17,<0.18'"
        ) from exc
    return str(find_ruff_bin())


def _command(
    extra: list[str], ignore: Iterable[str] = (), cache_dir: Path | None = None
) -> list[str]:
    select = ",".join(sorted(RUFF_CODES))
    ignored = [f"--ignore={','.join(sorted(ignore))}"] if ignore else []
    # ruff's own cache lives inside bepro's, never as a .ruff_cache the user did not ask for
    caching = ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    return [
        ruff_binary(), "check", *caching, "--exit-zero", "--force-exclude",
        "--output-format", "json", "--select", select, *ignored, *extra,
    ]  # fmt: skip


def list_files(targets: Iterable[Path]) -> list[Path]:
    """The Python files under the targets that the project's ruff would check: .gitignore at
    every level, the project's `exclude`, hidden and virtual-env folders left out. A file named
    on the command line is kept (as ruff does) unless the project's configuration excludes it."""
    targets = list(targets)
    names = [str(target) for target in targets]
    listing = [ruff_binary(), "check", "--show-files", "--force-exclude", "--no-cache", *names]
    completed = _ruff(listing, None)
    if completed.returncode not in (0, 1) and not completed.stdout:
        raise RuffUnavailableError(
            f"ruff could not list the files (exit {completed.returncode}): "
            f"{completed.stderr.strip()[:200]}",
            "check the project's ruff configuration",
        )
    given = [(str(target.resolve()), target) for target in targets]
    found = {
        _as_given(line.strip(), given)
        for line in completed.stdout.splitlines()
        if line.strip().endswith(".py")
    }
    return sorted(found)


def _as_given(path: str, given: list[tuple[str, Path]]) -> Path:
    """A listed file (an absolute path, as ruff prints it) spelt from the target the user named
    (`../app/x.py` stays relative). Compared as text: a large tree lists thousands of files."""
    for resolved, target in given:
        if path == resolved:
            return target
        folder = resolved.rstrip(os.sep) + os.sep
        if path.startswith(folder):
            return target / path[len(folder) :]
    return Path(path)


def run(paths: list[str], cache_dir: Path | None = None) -> dict[str, list[RawFinding]]:
    """Ruff's findings per path (as given), for the codes bepro maps to rules; with a cache
    folder, ruff reuses its results for unchanged files."""
    forget_configuration()
    hits: dict[str, list[RawFinding]] = {}
    by_resolved = {_resolved(path): path for path in paths}
    for ignore, group in _by_project_ignores(by_resolved).items():
        for start in range(0, len(group), _ARGS_PER_CALL):
            command = _command(group[start : start + _ARGS_PER_CALL], ignore, cache_dir)
            output = _execute(command, None)
            for item in output:
                filename = _resolved(item["filename"])
                original = by_resolved.get(filename, item["filename"])
                finding = _to_raw(item)
                if finding is not None:
                    hits.setdefault(original, []).append(finding)
    return hits


def forget_configuration() -> None:
    """The folder and configuration caches hold for one run: a long-lived process (the server,
    MCP, the Python API) may review from another working directory, or after an edited
    pyproject.toml, next time."""
    for per_run in (_resolved_folder, _nearest_config, _codes_ignored_by, _parsed_toml, _key_of):
        per_run.cache_clear()


def settings_key(path: str) -> str:
    """What ruff's hits in a file depend on besides its bytes and bepro's code (which selects
    the codes): the ruff binary, and the project configuration that governs the file (its
    nearest ruff configuration and the one that extends)."""
    return _key_of(_nearest_config(Path(_resolved(path)).parent))


@cache
def _key_of(config: Path | None) -> str:
    binary = os.stat(ruff_binary())
    digest = hashlib.sha256(f"{binary.st_size} {binary.st_mtime_ns}".encode())
    sources = [] if config is None else [config]
    extended = (_ruff_table(config) or {}).get("extend") if config is not None else None
    if config is not None and isinstance(extended, str):
        sources.append(config.parent / extended)
    for source in sources:
        digest.update(str(source).encode())
        digest.update(source.read_bytes() if source.is_file() else b"")
    return digest.hexdigest()[:16]


def run_source(source: str, filename: str) -> list[RawFinding]:
    """Code given as text is checked in isolation: it belongs to no project on this disk."""
    command = _command(["--isolated", "--stdin-filename", Path(filename).name, "-"])
    output = _execute(command, source)
    return [finding for item in output if (finding := _to_raw(item)) is not None]


def _resolved(path: str) -> str:
    """`Path(path).resolve()` as text, resolving each folder once: a tree has hundreds of
    folders and thousands of files, and resolving a path stats every one of its parts."""
    if os.path.islink(path):
        return str(Path(path).resolve())
    folder, name = os.path.split(path)
    return os.path.join(_resolved_folder(folder), name)


@cache
def _resolved_folder(folder: str) -> str:
    return str(Path(folder).resolve())


def _by_project_ignores(by_resolved: dict[str, str]) -> dict[frozenset[str], list[str]]:
    """The paths (as given) grouped by the codes their project's ruff configuration ignores."""
    groups: dict[frozenset[str], list[str]] = {}
    for resolved, path in by_resolved.items():
        groups.setdefault(_ignored_codes(Path(resolved).parent), []).append(path)
    return groups


def _ignored_codes(directory: Path) -> frozenset[str]:
    """The codes of ours that the nearest ruff configuration ignores project-wide."""
    config = _nearest_config(directory)
    return frozenset() if config is None else _codes_ignored_by(config)


@cache
def _nearest_config(directory: Path) -> Path | None:
    """The nearest file holding a ruff configuration, looked up once per folder (a tree's
    folders share their parent's answer)."""
    for name in (".ruff.toml", "ruff.toml", "pyproject.toml"):
        candidate = directory / name
        if not candidate.is_file():
            continue
        if _parsed_toml(candidate) is None:
            return None  # ruff itself reports a broken configuration
        if _ruff_table(candidate) is not None:
            return candidate
    parent = directory.parent
    return None if parent == directory else _nearest_config(parent)


def _ruff_table(config: Path) -> dict[str, Any] | None:
    data = _parsed_toml(config) or {}
    table = data.get("tool", {}).get("ruff") if config.name == "pyproject.toml" else data
    return table if isinstance(table, dict) else None


@cache
def _codes_ignored_by(config: Path) -> frozenset[str]:
    table = _ruff_table(config) or {}
    ignored = {*table.get("ignore", ()), *table.get("extend-ignore", ())}
    lint = table.get("lint", {})
    ignored |= {*lint.get("ignore", ()), *lint.get("extend-ignore", ())}
    return frozenset(code for code in RUFF_CODES if any(code.startswith(i) for i in ignored))


@cache
def _parsed_toml(path: Path) -> dict[str, Any] | None:
    """A configuration file parsed once, however many folders it governs."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


# ruff stops at the first configuration file it cannot parse anywhere under the targets: a
# project template's pyproject.toml with Jinja in it (richie's cookiecutter) stopped a review.
_UNREADABLE_CONFIG = re.compile(r"Failed to parse (.+?\.toml)")
_WARNED: set[str] = set()


def _ruff(command: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    """Run ruff; where a configuration file under the targets cannot be parsed, run it again
    with no configuration files (`--isolated`), and say so."""
    completed = _run_ruff(command, stdin)
    broken = _UNREADABLE_CONFIG.search(completed.stderr) if completed.returncode > 1 else None
    if broken is None:
        return completed
    if broken.group(1) not in _WARNED:
        _WARNED.add(broken.group(1))
        log.warning(
            "ruff cannot parse %s; ruff runs without the project's configuration files",
            broken.group(1),
        )
    return _run_ruff([*command[:2], "--isolated", *command[2:]], stdin)


def _run_ruff(command: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed argv to the ruff binary, no shell
        command, input=stdin, capture_output=True, text=True, timeout=RUFF_TIMEOUT_S, check=False
    )


def _execute(command: list[str], stdin: str | None) -> list[dict[str, Any]]:
    completed = _ruff(command, stdin)
    if completed.returncode != 0:
        raise RuffUnavailableError(
            f"ruff failed (exit {completed.returncode}): {completed.stderr.strip()[:200]}",
            "run with --no-ruff to review without it",
        )
    try:
        data = json.loads(completed.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise RuffUnavailableError(f"ruff printed output that is not JSON: {exc}") from exc
    return [item for item in data if isinstance(item, dict)]


def _to_raw(item: dict[str, Any]) -> RawFinding | None:
    code = item.get("code")
    if not isinstance(code, str):
        return None  # a syntax error: bepro reports parse errors itself
    rule_id = ruff_rule(code)
    if rule_id is None:
        return None
    location = item.get("location") or {}
    end = item.get("end_location") or {}
    line = int(location.get("row", 1))
    return RawFinding(
        rule_id=rule_id,
        source=f"ruff:{code}",
        line=line,
        column=int(location.get("column", 1)),
        end_line=int(end.get("row", line)),
        message=str(item.get("message", code)),
    )
