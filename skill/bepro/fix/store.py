"""Writing fixes to disk: atomically (a temp file in the same directory, then os.replace), only
inside the paths the user gave, and with an undo copy of every file before its first change.

    .bepro/undo/<UTC timestamp>/manifest.json   [{"path", "backup", "sha256"}] per file written
    .bepro/undo/<UTC timestamp>/files/<n>       the bytes each file had before `bepro fix --apply`

`bepro fix --undo` restores the newest apply whose files still hold what bepro wrote (a file
edited since is reported, not overwritten), then renames its folder to `<timestamp>.restored`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bepro.errors import UsageError

UNDO_DIR = Path(".bepro") / "undo"
_MANIFEST = "manifest.json"
_RESTORED = ".restored"


class OutsideTargetsError(UsageError):
    """A write would land outside the paths given on the command line (a symlink, say)."""


def read_exact(path: Path) -> str:
    """The file's text with its newlines as they are on disk."""
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def atomic_write(path: Path, text: str) -> None:
    """Replace the file's content in one step: readers see the old or the new file, never half."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
        "w",
        encoding="utf-8",
        newline="",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
    )
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, handle.name)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def ensure_inside(path: Path, targets: list[Path]) -> None:
    """Refuse a path that resolves outside every target (following symlinks)."""
    real = path.resolve()
    roots = [target.resolve() for target in targets]
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise OutsideTargetsError(
            f"{path} resolves to {real}, outside the paths given",
            "pass that path explicitly to fix it",
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class UndoStore:
    """One apply's undo folder, created on its first write."""

    base: Path
    folder: Path | None = None
    entries: list[dict[str, str]] = field(default_factory=list)

    def write(self, path: Path, original: str, fixed: str) -> None:
        """Keep the original, then write the fix; the manifest is saved after every file."""
        folder = self._folder()
        backup = Path("files") / str(len(self.entries) + 1)
        (folder / backup).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / backup, original)
        self.entries.append(
            {"path": str(path.resolve()), "backup": backup.as_posix(), "sha256": _sha256(fixed)}
        )
        atomic_write(folder / _MANIFEST, json.dumps(self.entries, indent=2))
        atomic_write(path, fixed)

    def _folder(self) -> Path:
        if self.folder is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            self.folder = self.base / stamp
            self.folder.mkdir(parents=True)
        return self.folder


@dataclass(frozen=True)
class UndoResult:
    folder: Path
    restored: list[str]
    changed_since: list[str]


def undo_last(base: Path) -> UndoResult:
    """Restore the files of the newest apply under `base` (.bepro/undo of the current directory)."""
    folders = (
        sorted(
            folder
            for folder in base.glob("*")
            if folder.is_dir() and not folder.name.endswith(_RESTORED)
        )
        if base.is_dir()
        else []
    )
    if not folders:
        raise UsageError(
            f"nothing to undo in {base}", "run `bepro fix --apply` first, from this directory"
        )
    folder = folders[-1]
    try:
        entries = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"cannot read {folder / _MANIFEST}: {exc}", "restore from version control"
        ) from exc
    restored: list[str] = []
    changed: list[str] = []
    for entry in entries:
        path = Path(entry["path"])
        current = read_exact(path) if path.is_file() else ""
        if _sha256(current) != entry["sha256"]:
            changed.append(str(path))
            continue
        atomic_write(path, read_exact(folder / entry["backup"]))
        restored.append(str(path))
    if not changed:
        folder.rename(folder.with_name(folder.name + _RESTORED))
    return UndoResult(folder=folder, restored=restored, changed_since=changed)
