"""Print `bepro review` throughput and per-rule precision/recall beside ruff and bandit.

    pip install -e ".[bench]"
    python bench/review_bench.py [--runs 3] [--earlier-bepro DIR] PATH [PATH ...]
    python bench/review_bench.py --quality-only

Throughput: over a large real tree (a real application's checkout: installed packages sit in a
virtual environment, whose folders ruff and bepro leave out), per tool the median
of --runs of wall and CPU seconds (user + system, the tool's child processes included: CPU time
moves less than wall time with other load on a shared machine), lines per CPU second and peak
memory (max RSS), all measured in this run, round after round. bepro runs cold (--no-cache) and
warm (its cache from a run just before, nothing changed), and the CPU ratios of bandit to each
are printed beside issue 16's targets (cold at most a tenth of bandit's, warm a fiftieth).
With --earlier-bepro (the `skill` folder of an older checkout, `git archive REV skill SKILL.md references | tar -x`),
that bepro runs cold and warm in the same rounds, for before/after figures from one run.
Quality: per rule, recall and precision of each tool on the annotated cases in evals/review,
with ruff's and bandit's codes mapped to rule ids (ruff through bepro's own table).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bepro
from bepro.catalogue.load import load_catalogue
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


# Issue 16: bepro's CPU seconds at most these fractions of bandit's on the same tree.
TARGET_BANDIT_TO_COLD = 10
TARGET_BANDIT_TO_WARM = 50


@dataclass(frozen=True)
class Tool:
    command: list[str]
    primed: bool = False  # run once, untimed, in its folder before the rounds (a warm cache)
    pythonpath: str | None = None  # where its bepro is imported from (an earlier checkout)


def _timed(tool: Tool, cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and peak RSS in MB of one
    run, from GNU time."""
    env = {**os.environ, "PYTHONPATH": tool.pythonpath} if tool.pythonpath else None
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        completed = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", report.name, *tool.command],
            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
            timeout=1800, env=env, text=True,
        )  # fmt: skip
        if completed.returncode not in (0, 1):  # 1: findings; anything else did not review
            sys.exit(f"{tool.command[0]} failed: {completed.stderr.strip()[-300:]}")
        wall, user, system, kilobytes = report.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kilobytes) // 1024


def _count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        files = [path] if path.is_file() else path.rglob("*.py")
        for file in files:
            with file.open("rb") as handle:
                total += sum(1 for _ in handle)
    return total


def _tools(targets: list[str], earlier: Path | None) -> dict[str, Tool]:
    select = ",".join(sorted(RUFF_CODES))
    bin_dir = Path(sys.executable).parent
    bepro = [str(bin_dir / "bepro"), "review", "--format", "json"]
    before: dict[str, Tool] = {}
    if earlier is not None:
        place = str(earlier.resolve())
        before = {
            "earlier bepro cold (--no-cache)": Tool([*bepro, "--no-cache", *targets], False, place),
            "earlier bepro warm": Tool([*bepro, *targets], True, place),
        }
    return {**before,
        "bepro cold (--no-cache)": Tool([*bepro, "--no-cache", *targets]),
        "bepro warm (cached, unchanged files)": Tool([*bepro, *targets], primed=True),
        "bepro own detectors only, cold": Tool([*bepro, "--no-cache", "--no-ruff", *targets]),
        "ruff (bepro's code selection)": Tool([str(bin_dir / "ruff"), "check", "--isolated",
                                               "--no-cache", "--exit-zero", "--output-format",
                                               "json", "--select", select, *targets]),
        "bandit": Tool([str(bin_dir / "bandit"), "-q", "-r", "-f", "json", *targets]),
    }  # fmt: skip


def throughput(paths: list[Path], runs: int, earlier: Path | None = None) -> dict[str, object]:
    # bepro's bytecode written first, as `pip install` does: with PYTHONDONTWRITEBYTECODE set,
    # an editable checkout would otherwise compile its modules again in every timed run.
    compileall.compile_dir(Path(bepro.__file__).parent, quiet=1)
    if earlier is not None:
        compileall.compile_dir(earlier / "bepro", quiet=1)
    lines = _count_lines(paths)
    tools = _tools([str(path.resolve()) for path in paths], earlier)
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name in tools}
    with tempfile.TemporaryDirectory(prefix="bepro-review-bench-") as folder:
        # each tool runs in a folder of its own: bepro keeps its cache in the folder it runs in
        places = {name: Path(folder) / f"tool{number}" for number, name in enumerate(tools)}
        for name, tool in tools.items():
            places[name].mkdir()
            if tool.primed:
                _timed(tool, places[name])
        for _ in range(runs):  # round after round, so other load weighs on every tool alike
            for name, tool in tools.items():
                samples[name].append(_timed(tool, places[name]))
    figures: dict[str, object] = {"lines": lines}
    cpu: dict[str, float] = {}
    for name, runs_of in samples.items():
        cpu[name] = statistics.median(sample[1] for sample in runs_of)
        figures[name] = {
            "median_wall_s": statistics.median(sample[0] for sample in runs_of),
            "median_cpu_s": round(cpu[name], 2),
            "lines_per_cpu_s": round(lines / cpu[name]) if cpu[name] else None,
            "peak_rss_mb": max(sample[2] for sample in runs_of),
        }
    bandit = cpu["bandit"]
    figures["bandit_cpu_to_bepro_cold"] = round(bandit / cpu["bepro cold (--no-cache)"], 1)
    figures["bandit_cpu_to_bepro_warm"] = round(
        bandit / cpu["bepro warm (cached, unchanged files)"], 1
    )
    figures["targets"] = {"bandit_cpu_to_bepro_cold": TARGET_BANDIT_TO_COLD,
                          "bandit_cpu_to_bepro_warm": TARGET_BANDIT_TO_WARM}  # fmt: skip
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
    parser.add_argument(
        "--earlier-bepro", type=Path, help="an older checkout's skill folder, timed beside this one"
    )
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    if not args.quality_only:
        if not args.paths:
            parser.error("name a real application's folder to time (or --quality-only)")
        paths = args.paths
        print(
            json.dumps(
                {"cores": os.cpu_count(), **throughput(paths, args.runs, args.earlier_bepro)},
                indent=2,
            )
        )
    for title, folder in CASE_SETS.items():
        print(f"\n{title} ({folder.relative_to(ROOT)})\n")
        print("| rule | bepro | ruff | bandit |\n| --- | --- | --- | --- |")
        for row in quality(folder):
            print(f"| {row['rule']} | {row['bepro']} | {row['ruff']} | {row['bandit']} |")


if __name__ == "__main__":
    main()
