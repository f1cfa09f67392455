"""Which rules `bepro ask --file` chooses for questions about real files, against blind labels.

bench/ask-file-cases.jsonl holds the questions of the three `ask --file` audits
(bench/ask-file-audit-2026-12-*.md), each labelled blind (without running bepro) with the action
it asks for and the 1-3 rules a principal engineer would reach for, first the one that addresses
the developer's problem. The applications' code is never committed: check each one out at the
commit its case names, under one folder (`<folder>/<app>/<path>`; cases whose file is missing are
skipped), then

    python bench/ask_file_bench.py --repos /work/rr [--misses]

prints, with the action inferred (as `bepro ask` runs) and with the labelled action given: the
share of cases whose inferred action is the label, whose first labelled rule the answer covers,
whose any labelled rule it covers, and the mean share of labelled rules covered.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bepro.agent.ask import AskRequest, retrieve
from bepro.catalogue.load import load_catalogue
from bepro.config import resolve_paths
from bepro.retrieval.search import Retriever, SilentReporter

CASES = Path(__file__).with_name("ask-file-cases.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=Path, required=True, help="folder of the checkouts")
    parser.add_argument("--misses", action="store_true", help="print the cases missed")
    args = parser.parse_args()
    paths = resolve_paths()
    catalogue = load_catalogue(paths.skill)
    retriever = Retriever(paths, catalogue, SilentReporter())
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    present = [case for case in cases if (args.repos / case["app"] / case["path"]).is_file()]
    print(f"{len(present)} of {len(cases)} cases have their file under {args.repos}")
    for given in (False, True):
        totals = [0.0, 0.0, 0.0, 0.0]
        for case in present:
            request = AskRequest(
                case["question"],
                action=case["action"] if given else None,
                file=args.repos / case["app"] / case["path"],
            )
            found = retrieve(request, catalogue, paths, retriever=retriever)
            expected = case["rules"]
            chosen = set(found.chosen)
            totals[0] += found.action == case["action"]
            totals[1] += expected[0] in chosen
            totals[2] += bool(chosen & set(expected))
            totals[3] += len(chosen & set(expected)) / len(expected)
            if args.misses and expected[0] not in chosen:
                print(f"  miss {case['app']}: want {expected} got {found.chosen} ({found.action})")
        count = max(len(present), 1)
        label = "action given   " if given else "action inferred"
        figures = "  ".join(
            f"{name} {value / count:.3f}"
            for name, value in zip(("action", "first", "any", "covered"), totals, strict=True)
        )
        print(f"{label}  {figures}")


if __name__ == "__main__":
    main()
