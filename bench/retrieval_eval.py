"""Print the retrieval eval's figures for the current index, optionally for other ranking params.

python bench/retrieval_eval.py                      # defaults
python bench/retrieval_eval.py keyword_weight=0 abstain_below=0.25
"""

from __future__ import annotations

import dataclasses
import json
import sys

from bepro.catalogue.load import load_catalogue
from bepro.config import resolve_paths
from bepro.evals.retrieval import load_cases, run_retrieval_eval
from bepro.retrieval.search import RankingParams, Retriever


def _params(argv: list[str]) -> RankingParams:
    overrides: dict[str, object] = {}
    for item in argv:
        key, _, value = item.partition("=")
        overrides[key] = tuple(float(v) for v in value.split(",")) if "," in value else float(value)
    return dataclasses.replace(RankingParams(), **overrides)  # type: ignore[arg-type]


def main() -> None:
    paths = resolve_paths()
    catalogue = load_catalogue(paths.skill)
    retriever = Retriever(paths, catalogue, params=_params(sys.argv[1:]))
    cases = load_cases(paths.root / "evals" / "retrieval.jsonl", catalogue)
    report = run_retrieval_eval(cases, retriever, catalogue)
    print(
        json.dumps({"params": dataclasses.asdict(retriever.params), **report.as_dict()}, indent=2)
    )
    for miss in report.misses:
        print("miss", miss)


if __name__ == "__main__":
    main()
