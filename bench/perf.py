"""Print bepro's start-up, retrieval and build figures (medians; p99 for warm queries).

    python bench/perf.py [--runs 5]

Measures, on this machine, in one run:
- cold `bepro --help` and `bepro rules` (new processes) and `python -c pass` as the floor;
- cold `bepro ask` offline with the index already built, and what its time is spent on;
- warm retrieval latency over the eval questions, against chroma's own query alone as the peer;
- a full index build into a fresh directory.
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


def _timed_process(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env, timeout=300)
    return time.perf_counter() - started


def _median_process(args: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(_timed_process(args, env) for _ in range(runs))


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


def _warm_latencies(questions: list[str]) -> tuple[list[float], list[float], list[float]]:
    """Per question: rank_rules on an open index for a question it has not seen (a new
    Retriever per round, so nothing is cached), the same question again (its evidence cached),
    and chroma's own query (the peer)."""
    from bepro.catalogue.parse import load_catalogue
    from bepro.config import resolve_paths
    from bepro.retrieval.search import Retriever

    paths = resolve_paths()
    catalogue = load_catalogue(paths.skill)
    new: list[float] = []
    repeated: list[float] = []
    peer: list[float] = []
    for _ in range(3):
        retriever = Retriever(paths, catalogue)
        collection = retriever._index.collection  # the peer: chroma's own query, nothing else
        for question in questions:
            for samples in (new, repeated):
                started = time.perf_counter()
                retriever.rank_rules(question, action="review")
                samples.append(time.perf_counter() - started)
            started = time.perf_counter()
            collection.query(query_texts=[question], n_results=5)
            peer.append(time.perf_counter() - started)
    return new, repeated, peer


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    env = {**os.environ}
    bepro = [sys.executable, "-m", "bepro"]
    subprocess.run([*bepro, "index", "build"], check=True, capture_output=True, env=env)
    figures: dict[str, object] = {
        "python_floor_s": _median_process([sys.executable, "-c", "pass"], env, runs),
        "help_cold_s": _median_process([*bepro, "--help"], env, runs),
        "rules_cold_s": _median_process([*bepro, "rules"], env, runs),
        "ask_cold_s": _median_process([*bepro, "ask", QUESTION, "--format", "json"], env, runs),
        "ask_cold_heaviest_imports_s": _import_profile(env),
    }
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "evals" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    ours, repeated, peer = _warm_latencies(questions)
    figures |= {
        "warm_rank_rules_p50_ms": statistics.median(ours) * 1000,
        "warm_rank_rules_p99_ms": _percentile(ours, 0.99) * 1000,
        "repeated_question_rank_rules_p50_ms": statistics.median(repeated) * 1000,
        "peer_chroma_query_p50_ms": statistics.median(peer) * 1000,
        "ratio_ours_to_peer_p50": statistics.median(ours) / statistics.median(peer),
    }
    builds = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            builds.append(
                _timed_process([*bepro, "index", "build"], {**env, "BEPRO_INDEX_DIR": folder})
            )
    figures["index_build_s_median"] = statistics.median(builds)
    rounded = {
        key: round(value, 4) if isinstance(value, float) else value
        for key, value in figures.items()
    }
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
