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
import json
import os
import re
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
ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = tuple(
    json.loads(line)["question"]
    for line in (ROOT / "evals" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
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


class LoadConnection:
    """One keep-alive HTTP/1.1 connection for the load loops. The load generator shares the
    machine's cores with the server it measures, and httpx spends about a millisecond of CPU
    on a request; a raw asyncio stream spends a few microseconds."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, payload: dict[str, str]) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.streams
        body = json.dumps(payload).encode()
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        length = re.search(r"content-length: *(\d+)", head)
        await reader.readexactly(int(length[1]) if length else 0)
        if "connection: close" in head:
            self.close()
        return int(head[9:12])

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def question_for(number: int, workload: str) -> str:
    """The repeat workload cycles through the eval questions (the second time a question is
    asked, its evidence is cached); the distinct one never asks the same question twice."""
    question = QUESTIONS[number % len(QUESTIONS)]
    return question if workload == "repeat" else f"{question} (case {number})"


async def drive(port: int, requests: int, concurrency: int, workload: str) -> Run:
    """`requests` asks from `concurrency` clients, each sending its next as soon as one ends."""
    run = Run()
    remaining = iter(range(requests))

    async def client() -> None:
        connection = LoadConnection(port)
        for number in remaining:
            started = time.monotonic()
            try:
                async with asyncio.timeout(CLIENT_TIMEOUT_S):
                    payload = {"question": question_for(number, workload)}
                    status = await connection.post("/v1/ask", payload)
            except TimeoutError:
                run.timeouts += 1
                connection.close()
                continue
            except (OSError, asyncio.IncompleteReadError, ValueError):
                run.errors += 1
                connection.close()
                continue
            run.record(status, time.monotonic() - started)
        connection.close()

    started = time.monotonic()
    async with asyncio.timeout(RUN_DEADLINE_S):
        await asyncio.gather(*(client() for _ in range(concurrency)))
    run.elapsed = time.monotonic() - started
    return run


def report_throughput(run: Run, concurrency: int, workload: str) -> None:
    ok = run.latencies.get(200, [])
    print(
        f"offline /v1/ask, {workload} questions, at concurrency {concurrency}: "
        f"{len(ok)} answered in {run.elapsed:.1f} s"
    )
    print(f"  throughput {len(ok) / run.elapsed:.0f} requests/s")
    print(
        f"  latency p50 {percentile(ok, 0.5) * 1000:.1f} ms, p99 {percentile(ok, 0.99) * 1000:.1f} ms"
    )
    others = {status: len(v) for status, v in run.latencies.items() if status != 200}
    print(f"  other statuses {others}, timeouts {run.timeouts}, transport errors {run.errors}")


def report_overload(run: Run, concurrency: int, rss: tuple[float, float]) -> None:
    ok, shed = run.latencies.get(200, []), run.latencies.get(503, [])
    print(
        f"overload, distinct questions, at concurrency {concurrency}: "
        f"{run.count(200) + run.count(503)} requests"
    )
    print(f"  answered {len(ok)} (p50 {percentile(ok, 0.5) * 1000:.0f} ms)")
    print(
        f"  shed {len(shed)} with 503: p50 {percentile(shed, 0.5) * 1000:.1f} ms, "
        f"p90 {percentile(shed, 0.9) * 1000:.1f} ms, p99 {percentile(shed, 0.99) * 1000:.1f} ms"
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
    folder = Path(tempfile.mkdtemp(prefix="bepro-bench-"))
    server = start_server(port, args.workers, {k: v for k, v in limits.items() if v}, folder)
    try:
        wait_until_ready(f"http://{HOST}:{port}", args.workers)
        # warm-up: every eval question once, so the repeat run finds their evidence cached
        asyncio.run(drive(port, 2 * len(QUESTIONS), args.concurrency, "repeat"))
        for workload in ("repeat", "distinct"):
            run = asyncio.run(drive(port, args.requests, args.concurrency, workload))
            report_throughput(run, args.concurrency, workload)
        overload = args.concurrency * 10
        before = rss_mb(server_pids(server.pid))
        run = asyncio.run(drive(port, args.requests * 2, overload, "distinct"))
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
