"""Print bepro's start-up, retrieval and build figures, each beside its peer measured in the same
run (medians; p99 for warm queries), and whether the targets of issue 16 hold.

    python bench/perf.py [--runs 5] [--previous PATH]

Measures, on this machine, in one run:
- cold `bepro --help` and `bepro rules` (new processes) and `python -c pass` as the floor;
- cold `bepro ask` offline with the index already built: wall time and peak RSS of the child,
  against `python -c "import chromadb"` run in the same rounds, and what its time is spent on;
- with --previous (a checkout of an earlier bepro, e.g. a `git worktree add` of the last
  release), the same cold `bepro ask` of that code on its own index, in the same rounds;
- warm retrieval latency over the eval questions: rank_rules on the vector matrix, the same ranking
  with chroma's query as the dense source (the previous path), and chroma's own query alone;
- a full index build into a fresh directory.
Commands of one round run one after another, round after round, so load from other processes
weighs on each alike.
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
QUESTION = "how do I make a payment call safe to retry?"
MEGABYTE = 1024  # ru_maxrss is in KiB on Linux
# Issue 16's targets for a cold offline `bepro ask` and a warm ranking.
TARGET_ASK_COLD_S = 0.8
TARGET_ASK_TO_IMPORT_CHROMADB = 0.9
TARGET_ASK_RSS_MB = 200.0
TARGET_WARM_P50_MS = 7.0


def _timed_process(args: list[str], env: dict[str, str]) -> float:
    return _child_run(args, env)[0]


def _child_run(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child process, from its
    own rusage. On a shared machine CPU time moves less with other processes' load than wall
    time does."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(args)} failed: {errors.read().decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / MEGABYTE


def _median_process(args: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(_timed_process(args, env) for _ in range(runs))


def _rounds(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, float]:
    """Each command once a round, `runs` rounds: median wall and CPU seconds and peak RSS."""
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (args, env) in commands.items():
            samples[name].append(_child_run(args, env))
    figures: dict[str, float] = {}
    for name, runs_of in samples.items():
        figures[f"{name}_cold_s"] = statistics.median(wall for wall, _, _ in runs_of)
        figures[f"{name}_cold_cpu_s"] = statistics.median(cpu for _, cpu, _ in runs_of)
        figures[f"{name}_peak_rss_mb"] = statistics.median(rss for _, _, rss in runs_of)
    return figures


def _import_profile(env: dict[str, str]) -> list[tuple[str, float]]:
    """The heaviest top-level imports of a cold `bepro ask` (python -X importtime)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bepro", "ask", QUESTION, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    cumulative: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cum, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if cum.isdigit() and not name.startswith(" ") and "." not in name:
            cumulative[name] = cumulative.get(name, 0.0) + int(cum) / 1e6
    return sorted(cumulative.items(), key=lambda item: -item[1])[:6]


def _warm_latencies(questions: list[str]) -> dict[str, list[float]]:
    """Per question, on an open index (a new Retriever per round, so nothing is cached):
    rank_rules on the vector matrix for a question not seen before, the same question again
    (its evidence cached), the same ranking with chroma's query as the dense source (the path
    before the matrix), and chroma's own query alone (the peer)."""
    from bepro.catalogue.load import load_catalogue
    from bepro.config import resolve_paths
    from bepro.retrieval import layout, store
    from bepro.retrieval.search import Retriever

    paths = resolve_paths()
    catalogue = load_catalogue(paths.skill)
    manifest = layout.read_manifest(paths.index)
    if manifest is None:
        raise SystemExit("build the index first: bepro index build")
    collection = store.open_collection(paths.index, manifest)
    chunks = layout.load_chunks(paths.index, manifest)
    samples: dict[str, list[float]] = {"new": [], "repeated": [], "via_chroma": [], "peer": []}
    for _ in range(3):
        retriever = Retriever(paths, catalogue)
        via_chroma = retriever.with_vectors(store.ChromaVectors(collection, chunks))
        for question in questions:
            for name, rank in (
                ("new", retriever),
                ("repeated", retriever),
                ("via_chroma", via_chroma),
            ):
                started = time.perf_counter()
                rank.rank_rules(question, action="review")
                samples[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            collection.query(query_texts=[question], n_results=5)
            samples["peer"].append(time.perf_counter() - started)
    return samples


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _cold_commands(previous: Path | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    env = {**os.environ}
    commands = {
        "ask": ([sys.executable, "-m", "bepro", "ask", QUESTION, "--format", "json"], env),
        "import_chromadb": ([sys.executable, "-c", "import chromadb"], env),
    }
    if previous is not None:
        # The earlier code, its own index (index/ of that checkout), the same interpreter.
        old_env = {key: value for key, value in env.items() if key != "BEPRO_INDEX_DIR"}
        old_env["PYTHONPATH"] = str(previous / "skill")
        build = [sys.executable, "-m", "bepro", "index", "build"]
        subprocess.run(build, check=True, capture_output=True, env=old_env, cwd=previous)
        commands["previous_ask"] = (commands["ask"][0], old_env)
    return commands


def _targets(cold: dict[str, float], warm_p50_ms: float) -> dict[str, bool]:
    ask = cold["ask_cold_s"]
    return {
        f"ask_cold <= {TARGET_ASK_COLD_S} s": ask <= TARGET_ASK_COLD_S,
        f"ask_cold <= {TARGET_ASK_TO_IMPORT_CHROMADB} x import chromadb": ask
        <= TARGET_ASK_TO_IMPORT_CHROMADB * cold["import_chromadb_cold_s"],
        f"ask peak RSS <= {TARGET_ASK_RSS_MB:.0f} MB": cold["ask_peak_rss_mb"] <= TARGET_ASK_RSS_MB,
        f"warm rank_rules p50 <= {TARGET_WARM_P50_MS} ms": warm_p50_ms <= TARGET_WARM_P50_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--previous", type=Path, help="a checkout of an earlier bepro")
    options = parser.parse_args()
    runs = options.runs
    env = {**os.environ}
    bepro = [sys.executable, "-m", "bepro"]
    subprocess.run([*bepro, "index", "build"], check=True, capture_output=True, env=env)
    figures: dict[str, object] = {
        "python_floor_s": _median_process([sys.executable, "-c", "pass"], env, runs),
        "help_cold_s": _median_process([*bepro, "--help"], env, runs),
        "rules_cold_s": _median_process([*bepro, "rules"], env, runs),
    }
    cold = _rounds(_cold_commands(options.previous), runs)
    figures |= cold
    figures["ratio_ask_to_import_chromadb"] = cold["ask_cold_s"] / cold["import_chromadb_cold_s"]
    figures["ratio_ask_to_import_chromadb_cpu"] = (
        cold["ask_cold_cpu_s"] / cold["import_chromadb_cold_cpu_s"]
    )
    figures["ask_cold_heaviest_imports_s"] = _import_profile(env)
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "evals" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    warm = _warm_latencies(questions)
    figures |= {
        "warm_rank_rules_p50_ms": statistics.median(warm["new"]) * 1000,
        "warm_rank_rules_p99_ms": _percentile(warm["new"], 0.99) * 1000,
        "repeated_question_rank_rules_p50_ms": statistics.median(warm["repeated"]) * 1000,
        "warm_rank_rules_via_chroma_p50_ms": statistics.median(warm["via_chroma"]) * 1000,
        "peer_chroma_query_p50_ms": statistics.median(warm["peer"]) * 1000,
        "ratio_ours_to_peer_p50": statistics.median(warm["new"]) / statistics.median(warm["peer"]),
    }
    builds = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            builds.append(
                _timed_process([*bepro, "index", "build"], {**env, "BEPRO_INDEX_DIR": folder})
            )
    figures["index_build_s_median"] = statistics.median(builds)
    figures["targets_met"] = _targets(cold, statistics.median(warm["new"]) * 1000)
    rounded = {
        key: round(value, 4) if isinstance(value, float) else value
        for key, value in figures.items()
    }
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
