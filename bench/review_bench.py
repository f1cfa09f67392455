"""Print `bepro review` throughput and per-rule precision/recall beside ruff and bandit.

    pip install -e ".[bench]"
    python bench/review_bench.py [--runs 3] [PATH ...]

Throughput: lines per second over a large real tree (default: a set of installed packages),
median of --runs, with peak memory (max RSS) per tool, all measured in this run.
Quality: per rule, recall and precision of each tool on the annotated cases in evals/review,
with ruff's and bandit's codes mapped to rule ids (ruff through bepro's own table).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from bepro.catalogue.parse import load_catalogue
from bepro.config import resolve_paths
from bepro.evals.review import Tally, expectations, run_review_eval
from bepro.review.registry import RUFF_CODES, ruff_rule

ROOT = Path(__file__).resolve().parent.parent
CASE_SETS = {
    "Annotated cases, written with the detectors": ROOT / "evals" / "review",
    "Blind cases (written from the rule references only; detectors were improved on their misses)": ROOT
    / "evals"
    / "review-blind",
    "Held-out cases (written from the rule references only; not used to change the detectors)": ROOT
    / "evals"
    / "review-heldout",
}
DEFAULT_PACKAGES = (
    "pip",
    "numpy",
    "pydantic",
    "openai",
    "langchain_core",
    "rich",
    "mypy",
    "chromadb",
    "httpx",
)
# bandit test id -> rule id, for the tests that match a catalogue rule.
BANDIT_RULES = {
    "B113": "timeouts",
    "B105": "secrets",
    "B106": "secrets",
    "B107": "secrets",
    "B608": "input-validation",
    "B602": "input-validation",
    "B604": "input-validation",
    "B605": "input-validation",
    "B307": "input-validation",
    "B301": "input-validation",
    "B506": "input-validation",
    "B310": "input-validation",
    "B701": "input-validation",
    "B501": "crypto",
    "B502": "crypto",
    "B503": "crypto",
    "B504": "crypto",
    "B505": "crypto",
    "B507": "crypto",
    "B508": "crypto",
    "B509": "crypto",
    "B303": "crypto",
    "B304": "crypto",
    "B305": "crypto",
    "B323": "crypto",
    "B324": "crypto",
    "B311": "id-generation",
    "B101": "invariants",
    "B104": "config",
    "B201": "config",
}


def _timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS in MB of one run, from GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", report.name, *command],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=1800,
        )  # fmt: skip
        seconds, kilobytes = report.read().split()[-2:]
    return float(seconds), int(kilobytes) // 1024


def _count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        files = [path] if path.is_file() else path.rglob("*.py")
        for file in files:
            with file.open("rb") as handle:
                total += sum(1 for _ in handle)
    return total


def throughput(paths: list[Path], runs: int) -> dict[str, object]:
    lines = _count_lines(paths)
    targets = [str(path) for path in paths]
    select = ",".join(sorted(RUFF_CODES))
    bin_dir = Path(sys.executable).parent
    tools = {
        "bepro (own detectors + ruff)": [str(bin_dir / "bepro"), "review", "--format", "json", *targets],
        "bepro (own detectors only)": [str(bin_dir / "bepro"), "review", "--no-ruff", "--format", "json", *targets],
        "ruff (bepro's code selection)": [str(bin_dir / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero",
                                          "--output-format", "json", "--select", select, *targets],
        "bandit": [str(bin_dir / "bandit"), "-q", "-r", "-f", "json", *targets],
    }  # fmt: skip
    figures: dict[str, object] = {"lines": lines}
    for name, command in tools.items():
        samples = [_timed(command) for _ in range(runs)]
        seconds = statistics.median(sample[0] for sample in samples)
        figures[name] = {
            "median_s": seconds,
            "lines_per_s": round(lines / seconds) if seconds else None,
            "peak_rss_mb": max(sample[1] for sample in samples),
        }
    bepro_rate = figures["bepro (own detectors + ruff)"]["lines_per_s"]  # type: ignore[index]
    bandit_rate = figures["bandit"]["lines_per_s"]  # type: ignore[index]
    figures["ratio_bepro_to_bandit"] = round(bepro_rate / bandit_rate, 1)
    return figures


def _peer_tallies(tool: str, cases: Path, catalogue: object) -> dict[str, Tally]:
    files = sorted(cases.rglob("*.py"))
    bin_dir = Path(sys.executable).parent
    found: set[tuple[str, int, str]] = set()
    if tool == "ruff":
        output = subprocess.run(
            [str(bin_dir / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
             "--select", ",".join(sorted(RUFF_CODES)), *map(str, files)],
            capture_output=True, text=True, check=False, timeout=300,
        ).stdout  # fmt: skip
        for item in json.loads(output or "[]"):
            rule_id = ruff_rule(item.get("code") or "")
            if rule_id:
                found.add((str(Path(item["filename"]).resolve()), item["location"]["row"], rule_id))
    else:
        output = subprocess.run(
            [str(bin_dir / "bandit"), "-q", "-f", "json", *map(str, files)],
            capture_output=True, text=True, check=False, timeout=300,
        ).stdout  # fmt: skip
        for item in json.loads(output or "{}").get("results", []):
            rule_id = BANDIT_RULES.get(item["test_id"])
            if rule_id:
                found.add((str(Path(item["filename"]).resolve()), item["line_number"], rule_id))
    tallies: dict[str, Tally] = {}
    for file in files:
        expected = expectations(file, catalogue)  # type: ignore[arg-type]
        hits = {(line, rule_id) for path, line, rule_id in found if path == str(file.resolve())}
        for line, rule_id in hits:
            tally = tallies.setdefault(rule_id, Tally())
            if (line, rule_id) in expected:
                tally.true_positives += 1
            else:
                tally.false_positives += 1
        for _line, rule_id in expected - hits:
            tallies.setdefault(rule_id, Tally()).false_negatives += 1
    return tallies


def quality(cases: Path) -> list[dict[str, object]]:
    """Per rule, then all rules together: each tool's recall and precision on the cases."""
    catalogue = load_catalogue(resolve_paths().skill)
    ours = run_review_eval(cases, catalogue).per_rule
    peers = {tool: _peer_tallies(tool, cases, catalogue) for tool in ("ruff", "bandit")}
    tools = (("bepro", ours), *peers.items())
    rows = []
    for rule_id in sorted(ours, key=lambda r: (catalogue.rule(r).priority, r)):  # type: ignore[union-attr]
        row: dict[str, object] = {"rule": rule_id}
        for name, tallies in tools:
            row[name] = _figures(tallies.get(rule_id, Tally()))
        rows.append(row)
    total: dict[str, object] = {"rule": "**all**"}
    for name, tallies in tools:
        total[name] = _figures(
            Tally(
                sum(t.true_positives for t in tallies.values()),
                sum(t.false_positives for t in tallies.values()),
                sum(t.false_negatives for t in tallies.values()),
            )
        )
    return [*rows, total]


def _figures(tally: Tally) -> str:
    if not tally.true_positives + tally.false_positives + tally.false_negatives:
        return "-"
    return f"R {tally.recall:.2f} / P {tally.precision:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quality-only", action="store_true", help="skip the throughput runs")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    if not args.quality_only:
        site = Path(sysconfig.get_paths()["purelib"])
        paths = args.paths or [site / name for name in DEFAULT_PACKAGES if (site / name).is_dir()]
        print(json.dumps({"cores": os.cpu_count(), **throughput(paths, args.runs)}, indent=2))
    for title, folder in CASE_SETS.items():
        print(f"\n{title} ({folder.relative_to(ROOT)})\n")
        print("| rule | bepro | ruff | bandit |\n| --- | --- | --- | --- |")
        for row in quality(folder):
            print(f"| {row['rule']} | {row['bepro']} | {row['ruff']} | {row['bandit']} |")


if __name__ == "__main__":
    main()
