"""Print how long `bepro ask --format json` takes under each LLM fault, and how it ends.

    python bench/llm_faults_bench.py [--runs 3]

Runs the fault-injecting OpenAI-compatible stub from tests/llm_stub.py on loopback, with a 6 s
deadline, 1 s connect/read timeouts and 3 attempts, and reports the median wall time per fault
(a cold process each time), the mode the answer came in (llm or offline) and the stub's call count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.llm_stub import running_stub  # noqa: E402 - the stub lives with the tests

FAULTS = ("ok", "rate-limited-2", "slow", "error", "garbage", "bad-schema", "stall", "disconnect")
CONFIG = "[tool.bepro.llm]\nread-timeout = 1.0\nconnect-timeout = 1.0\ndeadline = 6.0\nmax-attempts = 3\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    rows = []
    with running_stub() as (url, calls), tempfile.TemporaryDirectory() as project:
        Path(project, "pyproject.toml").write_text(CONFIG, encoding="utf-8")
        for fault in FAULTS:
            output = "text" if fault in ("stall", "disconnect") else "json"
            times: list[float] = []
            mode = ""
            before = calls[fault]
            for _ in range(runs):
                env = {
                    **os.environ,
                    "OPENAI_BASE_URL": url,
                    "BEPRO_LLM_MODEL": fault,
                    "OPENAI_API_KEY": "x",
                }
                started = time.monotonic()
                done = subprocess.run(
                    [sys.executable, "-m", "bepro", "ask", "how should I retry payment calls?", "--format", output],
                    capture_output=True, text=True, env=env, cwd=project, timeout=120, check=False,
                )  # fmt: skip
                times.append(time.monotonic() - started)
                if output == "json":
                    mode = json.loads(done.stdout)["mode"]
                else:
                    mode = "offline" if "LLM unavailable" in done.stderr else "llm"
            rows.append((fault, statistics.median(times), mode, (calls[fault] - before) / runs))
    print(
        "| fault | median s (cold process) | answered | calls per ask |\n| --- | --- | --- | --- |"
    )
    for fault, seconds, mode, per_ask in rows:
        print(f"| {fault} | {seconds:.2f} | {mode} | {per_ask:.0f} |")


if __name__ == "__main__":
    main()
