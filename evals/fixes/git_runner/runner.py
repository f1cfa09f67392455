"""Runs helper commands for a deploy job: each child's output is parsed by the caller."""

import subprocess
import sys


def python_version() -> str:
    # the interpreter the job runs under, as "3.x"
    out = subprocess.check_output([sys.executable, "-c", "import sys; print(sys.version_info[:2])"])
    return out.decode().strip()


def succeeds(code: str) -> bool:
    completed = subprocess.run([sys.executable, "-c", code], check=False)
    return completed.returncode == 0


def exit_code(code: str) -> int:
    return subprocess.call(
        [sys.executable, "-c", code],
    )
