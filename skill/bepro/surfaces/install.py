"""`bepro install` and `bepro uninstall`: put the skill where a coding agent looks for skills,
or take it away.

Each agent's skills folder, in the project (the current directory) or in the home folder, is in
SKILLS_DIRS, as the agents' own docs give it. The install copies SKILL.md and references/ from the
pack and writes a marker file (`.bepro-install.json`: the bepro version and a sha256 per file)
that tells a later run the folder is bepro's to update. A folder of the same name without that
marker is someone else's skill: it is replaced only with --force. Inside bepro's folder, a file
the user added is kept on update, and a file the user edited (its hash differs from the marker's)
is overwritten, or removed by uninstall, only with --force: both are listed.

Every file is written into a staging folder beside the target, which is then renamed into place, so
a failed install leaves either the previous skill or nothing, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from bepro import __version__
from bepro.errors import UsageError

MARKER = ".bepro-install.json"
# The Agent Skills rule for a skill name, which is also the folder name: it must be a safe path part.
_SKILL_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SKILL_NAME_MAX = 64


class Agent(StrEnum):
    claude = "claude"
    codex = "codex"
    copilot = "copilot"
    cursor = "cursor"
    gemini = "gemini"
    opencode = "opencode"


class Scope(StrEnum):
    user = "user"
    project = "project"


# (in the project, in the home folder) per agent, from each agent's documentation of skills.
SKILLS_DIRS: dict[Agent, tuple[Path, Path]] = {
    Agent.claude: (Path(".claude", "skills"), Path(".claude", "skills")),
    Agent.codex: (Path(".agents", "skills"), Path(".agents", "skills")),
    Agent.copilot: (Path(".github", "skills"), Path(".copilot", "skills")),  # and VS Code
    Agent.cursor: (Path(".cursor", "skills"), Path(".cursor", "skills")),
    Agent.gemini: (Path(".gemini", "skills"), Path(".gemini", "skills")),
    Agent.opencode: (Path(".opencode", "skills"), Path(".config", "opencode", "skills")),
}

FileStatus = Literal["new", "update", "same", "remove", "keep"]


@dataclass(frozen=True)
class InstallPlan:
    """What an install would do: the target folder and, per relative path, what happens to it."""

    name: str
    target: Path
    files: dict[str, bytes]  # everything the folder holds after the install, kept files included
    changes: dict[str, FileStatus]

    @property
    def changed(self) -> int:
        return sum(status not in ("same", "keep") for status in self.changes.values())


@dataclass(frozen=True)
class UserFiles:
    """Files in bepro's skill folder that bepro did not write as they are."""

    added: list[str]  # not in the marker: the user's own notes, say
    edited: list[str]  # in the marker, with another hash

    def describe(self) -> str:
        parts = [f"edited: {', '.join(self.edited)}"] if self.edited else []
        parts += [f"added: {', '.join(self.added)}"] if self.added else []
        return "; ".join(parts)


def skill_dir(agent: Agent, scope: Scope, project: Path, home: Path, name: str) -> Path:
    """Where this agent looks for a skill of this name, in the project or in the user's home."""
    in_project, in_home = SKILLS_DIRS[agent]
    return project / in_project / name if scope is Scope.project else home / in_home / name


def plan_install(pack: Path, name: str, target: Path, *, force: bool) -> InstallPlan:
    """Compare the pack with what is installed; refuse a foreign skill, or overwriting a file
    the user edited, unless forced. Files the user added are kept."""
    _check_name(name)
    if target.exists() and not force and not _installed_by_bepro(target):
        raise UsageError(
            f"{target} holds another skill named {name!r} that bepro did not install",
            "pass --force to replace it, or move it away first",
        )
    files = dict(_pack_files(pack))
    files[MARKER] = _marker(files)
    installed = dict(_installed_files(target)) if target.is_dir() else {}
    mine = user_files(target, installed) if _installed_by_bepro(target) else UserFiles([], [])
    edited = [path for path in mine.edited if files.get(path) != installed[path]]
    if edited and not force:
        raise UsageError(
            f"{target} has files you edited that the install would overwrite or remove: "
            f"{', '.join(edited)}",
            "copy your changes elsewhere, then pass --force",
        )
    kept = {path: installed[path] for path in mine.added if path not in files}
    changes: dict[str, FileStatus] = {
        path: "new" if path not in installed else "same" if installed[path] == data else "update"
        for path, data in files.items()
    }
    changes.update({path: "keep" for path in kept})
    changes.update({path: "remove" for path in installed if path not in files and path not in kept})
    return InstallPlan(
        name=name, target=target, files=files | kept, changes=dict(sorted(changes.items()))
    )


def user_files(target: Path, installed: dict[str, bytes] | None = None) -> UserFiles:
    """What the user added to or edited in bepro's skill folder since bepro wrote it."""
    found = installed if installed is not None else dict(_installed_files(target))
    written = _marker_hashes(target)
    added = sorted(path for path in found if path not in written and path != MARKER)
    edited = sorted(
        path
        for path, data in found.items()
        if path in written and hashlib.sha256(data).hexdigest() != written[path]
    )
    return UserFiles(added, edited)


def uninstall(target: Path, *, force: bool) -> None:
    """Remove bepro's skill folder; refuse someone else's, or one with the user's own files in
    it, unless forced. The folder is renamed away first, so it never stays half removed."""
    if not target.exists():
        raise UsageError(f"nothing is installed in {target}", "check --agent and --scope")
    if not _installed_by_bepro(target) and not force:
        raise UsageError(f"{target} holds a skill that bepro did not install", "remove it yourself")
    mine = user_files(target)
    if (mine.added or mine.edited) and not force:
        raise UsageError(
            f"{target} has files you added or edited ({mine.describe()})",
            "move them elsewhere, or pass --force to remove them too",
        )
    retired = target.with_name(f".{target.name}.removing")
    try:
        target.rename(retired)
    except OSError as exc:
        raise _write_error(target, exc) from exc
    _remove(retired)


def apply_install(plan: InstallPlan) -> None:
    """Write the skill into a staging folder beside the target, then swap it into place."""
    parent = plan.target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plan.name}.", suffix=".staging", dir=parent))
    except OSError as exc:
        raise _write_error(parent, exc) from exc
    try:
        for relative, data in plan.files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _swap_into_place(staging, plan.target)
    except OSError as exc:
        raise _write_error(plan.target, exc) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists() and not target.is_symlink():
        staging.rename(target)
        return
    retired = staging.with_suffix(".previous")
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)  # put the previous skill back rather than leave nothing
        raise
    _remove(retired)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write_error(where: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"cannot write {where}: {exc.strerror or exc}",
        "check that the folder is writable, or choose the other --scope",
    )


def _check_name(name: str) -> None:
    if len(name) > _SKILL_NAME_MAX or not _SKILL_NAME.match(name):
        raise UsageError(
            f"the skill name {name!r} in SKILL.md is not a valid folder name",
            "use 1-64 lowercase letters, digits and single hyphens",
        )


def _pack_files(pack: Path) -> Iterator[tuple[str, bytes]]:
    """SKILL.md and every file under references/, skipping hidden files and caches."""
    yield "SKILL.md", (pack / "SKILL.md").read_bytes()
    for path in sorted((pack / "references").rglob("*")):
        relative = path.relative_to(pack)
        if path.is_file() and not any(part.startswith((".", "__")) for part in relative.parts):
            yield relative.as_posix(), path.read_bytes()


def _installed_files(target: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(target.rglob("*")):
        if path.is_file():
            yield path.relative_to(target).as_posix(), path.read_bytes()


def _marker(files: dict[str, bytes]) -> bytes:
    hashes = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    record = {"installed_by": "bepro", "version": __version__, "files": hashes}
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def _marker_record(target: Path) -> dict[str, object]:
    try:
        record = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def _installed_by_bepro(target: Path) -> bool:
    return _marker_record(target).get("installed_by") == "bepro"


def _marker_hashes(target: Path) -> dict[str, str]:
    """Each file's sha256 as bepro wrote it, from the marker."""
    files = _marker_record(target).get("files")
    if not isinstance(files, dict):
        return {}
    return {str(path): str(digest) for path, digest in files.items()}


def describe(plan: InstallPlan) -> Iterator[str]:
    """One line per file that changes, for --dry-run and for the install report."""
    for path, status in plan.changes.items():
        if status not in ("same", "keep"):
            yield f"  {status:<7} {path}"
