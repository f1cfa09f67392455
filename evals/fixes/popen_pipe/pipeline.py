"""Pipes records through a filter process."""

import subprocess
import sys

FILTER = "import sys; [print(line.strip()) for line in sys.stdin if 'keep' in line]"


def kept(records: list[str]) -> list[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", FILTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate("\n".join(records))
    return out.split()


def version() -> str:
    out, _ = subprocess.Popen([sys.executable, "--version"], stdout=subprocess.PIPE).communicate()
    return out.decode().strip()
