"""How `bepro ask` handles labelled questions with the action inferred, as a user meets it.

For evals/questions-real.jsonl (real people's questions; dev and held-out halves apart) and
evals/retrieval.jsonl (ours): the inferred action's accuracy (strict, and lenient: an action the
question's second, blind annotation also accepts, where it has one), the share of questions whose first
expected rule is in the top 3 of the ranking (and whose any expected rule is: labellers order a
question's rules differently), and the share of expected rules the answer covers.

bench/fresh-questions-*.jsonl (real questions gathered after the changes they measure, each set
judged once) are reported apart, as fresh-<date>; those that now rank rules by example
(EXAMPLE_SETS) as examples-<date>, for the record only. blind-heldout is the held-out half
labelled again, blind, by a second annotator (bench/heldout-blind-labels-*.jsonl).

python bench/questions_bench.py [--misses]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from bepro.agent.ask import AskRequest, question_topic, retrieve
from bepro.catalogue.load import load_catalogue
from bepro.config import resolve_paths
from bepro.evals.actions import EXAMPLE_SETS, half_of
from bepro.retrieval.search import Retriever, SilentReporter

Case = tuple[str, str, str, list[str], list[str]]  # set, question, action, acceptable, rules
BLIND_LABELS = "heldout-blind-labels-2026-12-07.jsonl"


def _cases(path: Path, real: bool) -> list[Case]:
    """(set, question, action, acceptable actions, expected rules) per labelled question."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if real:
        return [
            (
                f"real-{half_of(r['question'])}",
                r["question"],
                r["action"],
                r.get("acceptable") or [r["action"]],
                r["rules"],
            )
            for r in rows
        ]
    return [
        ("ours", r["question"], r["action"], [r["action"]], r["expected"])
        for r in rows
        if r["expected"]
    ]


def _blind_cases(real: Path, blind: Path) -> tuple[list[Case], float]:
    """The held-out questions with a second annotator's labels (given blind, from the question
    alone), as the set blind-heldout, and how often that annotator's first rule is among the
    first annotator's first three: how far labellers agree on what to reach for first."""
    if not blind.exists():
        return [], 0.0
    rows = {r["source"]: r for r in map(json.loads, real.read_text(encoding="utf-8").splitlines())}
    labels = [json.loads(line) for line in blind.read_text(encoding="utf-8").splitlines()]
    cases: list[Case] = [
        ("blind-heldout", rows[b["source"]]["question"], b["action"], [b["action"]], b["rules"])
        for b in labels
    ]
    agree = sum(b["rules"][0] in rows[b["source"]]["rules"][:3] for b in labels) / len(labels)
    return cases, agree


def main() -> None:
    show_misses = "--misses" in sys.argv
    paths = resolve_paths()
    catalogue = load_catalogue(paths.skill)
    retriever = Retriever(paths, catalogue, SilentReporter())
    real = paths.root / "evals" / "questions-real.jsonl"
    cases = _cases(real, real=True)
    blind, agreement = _blind_cases(real, paths.root / "bench" / BLIND_LABELS)
    cases += blind
    cases += _cases(paths.root / "evals" / "retrieval.jsonl", real=False)
    for fresh in sorted((paths.root / "bench").glob("fresh-questions-*.jsonl")):
        date = fresh.stem.removeprefix("fresh-questions-")
        # a set that now teaches by example (bepro.evals.actions.EXAMPLE_SETS) measures nothing
        name = ("examples-" if date in EXAMPLE_SETS else "fresh-") + date
        cases += [(name, *fields) for _, *fields in _cases(fresh, real=True)]
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0, 0, 0])
    for name, question, action, acceptable, expected in cases:
        found = retrieve(AskRequest(question), catalogue, paths, retriever=retriever)
        ranked = [hit.rule_id for hit in found.ranking.rules]
        top3 = expected[0] in ranked[:3]
        covered = len(set(expected) & set(found.chosen)) / len(expected)
        row = totals[name]
        row[0] += 1
        row[1] += found.action == action
        row[2] += found.action in acceptable
        row[3] += top3
        row[4] += bool(set(expected) & set(ranked[:3]))
        row[5] += covered
        topic = question_topic(question, found.action, retriever)
        row[6] += bool(topic)
        row[7] += bool(topic) and topic[0] in expected
        if show_misses and not top3:
            print(f"miss {name}: {expected} got {ranked[:3]} | {question[:100]!r}")
    print(
        f"{'set':<22}{'cases':>6}{'action':>8}{'lenient':>8}{'top3':>8}{'any3':>8}{'covered':>9}"
        f"{'topic':>8}{'topic_ok':>10}"
    )
    for name, (count, right, fits, top, anywhere, covered, fired, apt) in sorted(totals.items()):
        figures = (right, fits, top, anywhere)
        print(
            f"{name:<22}{count:>6}"
            + "".join(f"{value / count:>8.3f}" for value in figures)
            + f"{covered / count:>9.3f}{fired / count:>8.3f}{apt / max(fired, 1):>10.3f}"
        )
    if blind:
        print(
            f"labellers agree (blind-heldout's first rule in real-heldout's first three): "
            f"{agreement:.3f}"
        )


if __name__ == "__main__":
    main()
