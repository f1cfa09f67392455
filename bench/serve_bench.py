"""`bepro serve` under load, on loopback only: offline /v1/ask throughput and latency at a fixed
concurrency, then an overload run at ten times that concurrency (shed requests, their latency,
timeouts, and the server's memory before and after).

    python bench/serve_bench.py [--requests 3000] [--concurrency 50] [--workers 1]
                                [--max-concurrency N] [--max-queue N]

The limits default to the server's own ([tool.bepro.server]); when given, the server runs in a
temporary project whose pyproject.toml sets them (BEPRO_INDEX_DIR keeps the usual index).

Both runs are bounded in count and in time. The index must be built (`bepro index build`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # loopback only, by design
READY_DEADLINE_S = 120.0
RUN_DEADLINE_S = 300.0
CLIENT_TIMEOUT_S = 10.0
QUESTIONS = (
    "how do I make a payment call safe to retry?",
    "what timeouts should an internal HTTP call have?",
    "how should I paginate a large listing endpoint?",
    "how do I keep secrets out of my logs?",
    "how do I publish events reliably after a database write?",
)


@dataclass
class Run:
    latencies: dict[int, list[float]] = field(default_factory=dict)
    timeouts: int = 0
    errors: int = 0
    elapsed: float = 0.0

    def record(self, status: int, seconds: float) -> None:
        self.latencies.setdefault(status, []).append(seconds)

    def count(self, status: int) -> int:
        return len(self.latencies.get(status, []))


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the server's processes, from /proc (Linux)."""
    total_kb = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def server_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [parent, *map(int, children)]


def start_server(
    port: int, workers: int, limits: dict[str, int], folder: Path
) -> subprocess.Popen[bytes]:
    from bepro.config import resolve_paths

    env = {**os.environ, "BEPRO_API_TOKEN": "", "BEPRO_INDEX_DIR": str(resolve_paths().index)}
    table = "".join(f"{key} = {value}\n" for key, value in limits.items())
    (folder / "pyproject.toml").write_text(f"[tool.bepro.server]\n{table}", encoding="utf-8")
    command = [sys.executable, "-m", "bepro", "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    return subprocess.Popen(
        command, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_until_ready(base: str, workers: int) -> None:
    """Ready once /v1/ask answers 200 several times in a row (every worker has its index)."""
    deadline = time.monotonic() + READY_DEADLINE_S
    streak = 0
    with httpx.Client(base_url=base, timeout=5.0) as client:
        while time.monotonic() < deadline and streak < 10 * workers:
            try:
                response = client.post("/v1/ask", json={"question": QUESTIONS[0]})
                streak = streak + 1 if response.status_code == 200 else 0
            except httpx.TransportError:
                streak = 0
            time.sleep(0.05 if streak == 0 else 0)
    if streak < 10 * workers:
        raise SystemExit(f"the server was not ready within {READY_DEADLINE_S:.0f} s")


async def drive(base: str, requests: int, concurrency: int) -> Run:
    """`requests` asks from `concurrency` clients, each sending its next as soon as one ends."""
    run = Run()
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT_S, limits=limits) as http:

        async def client() -> None:
            for number in remaining:
                started = time.monotonic()
                try:
                    question = QUESTIONS[number % len(QUESTIONS)]
                    response = await http.post("/v1/ask", json={"question": question})
                except httpx.TimeoutException:
                    run.timeouts += 1
                    continue
                except httpx.TransportError:
                    run.errors += 1
                    continue
                run.record(response.status_code, time.monotonic() - started)

        started = time.monotonic()
        async with asyncio.timeout(RUN_DEADLINE_S):
            await asyncio.gather(*(client() for _ in range(concurrency)))
        run.elapsed = time.monotonic() - started
    return run


def report_throughput(run: Run, concurrency: int) -> None:
    ok = run.latencies.get(200, [])
    print(
        f"offline /v1/ask at concurrency {concurrency}: {len(ok)} answered in {run.elapsed:.1f} s"
    )
    print(f"  throughput {len(ok) / run.elapsed:.0f} requests/s")
    print(
        f"  latency p50 {percentile(ok, 0.5) * 1000:.1f} ms, p99 {percentile(ok, 0.99) * 1000:.1f} ms"
    )
    others = {status: len(v) for status, v in run.latencies.items() if status != 200}
    print(f"  other statuses {others}, timeouts {run.timeouts}, transport errors {run.errors}")


def report_overload(run: Run, concurrency: int, rss: tuple[float, float]) -> None:
    ok, shed = run.latencies.get(200, []), run.latencies.get(503, [])
    print(f"overload at concurrency {concurrency}: {run.count(200) + run.count(503)} requests")
    print(f"  answered {len(ok)} (p50 {percentile(ok, 0.5) * 1000:.0f} ms)")
    print(
        f"  shed {len(shed)} with 503: p50 {percentile(shed, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(shed, 0.99) * 1000:.1f} ms"
    )
    print(f"  timeouts {run.timeouts}, transport errors {run.errors}")
    print(f"  server RSS {rss[0]:.0f} MB before, {rss[1]:.0f} MB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-concurrency", type=int)
    parser.add_argument("--max-queue", type=int)
    args = parser.parse_args()
    limits = {"max-concurrency": args.max_concurrency, "max-queue": args.max_queue}
    port = free_port()
    base = f"http://{HOST}:{port}"
    folder = Path(tempfile.mkdtemp(prefix="bepro-bench-"))
    server = start_server(port, args.workers, {k: v for k, v in limits.items() if v}, folder)
    try:
        wait_until_ready(base, args.workers)
        asyncio.run(drive(base, 200, args.concurrency))  # warm-up
        report_throughput(
            asyncio.run(drive(base, args.requests, args.concurrency)), args.concurrency
        )
        overload = args.concurrency * 10
        before = rss_mb(server_pids(server.pid))
        run = asyncio.run(drive(base, args.requests * 2, overload))
        report_overload(run, overload, (before, rss_mb(server_pids(server.pid))))
        print(
            f"  mean answered latency {statistics.fmean(run.latencies.get(200, [0.0])) * 1000:.0f} ms"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
