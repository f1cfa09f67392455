"""Files replaced in one step: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def replace_from_temp(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a temporary file beside `path` and rename it over `path`."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.chmod(temp, 0o644)  # mkstemp makes it owner-only; a shared index is read by others
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, text: str) -> None:
    replace_from_temp(path, lambda stream: stream.write(text.encode("utf-8")))
