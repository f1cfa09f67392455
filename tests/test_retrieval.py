"""Retrieval shared by a server's answer threads: no lock, so it must give the same rankings
when many questions run at once as when they run one at a time."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.retrieval.search import Retriever, RuleRanking, SilentReporter

from .conftest import ROOT

QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "evals" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
]


def _summary(ranking: RuleRanking) -> tuple[bool, list[tuple[str, float, list[str]]]]:
    return ranking.abstained, [
        (rule.rule_id, round(rule.score, 4), [hit.chunk.id for hit in rule.chunks])
        for rule in ranking.rules
    ]


def test_concurrent_questions_rank_as_sequential_ones(
    retriever: Retriever, paths: Paths, catalogue: Catalogue
) -> None:
    expected = [_summary(retriever.rank_rules(q, action="review")) for q in QUESTIONS]
    fresh = Retriever(paths, catalogue, SilentReporter())  # nothing cached yet
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda q: _summary(fresh.rank_rules(q, action="review")), QUESTIONS))
    assert got == expected
    assert any(not abstained for abstained, _ in got)


def test_a_repeated_question_ranks_the_same_from_the_cache(retriever: Retriever) -> None:
    question = "how long should an outgoing HTTP call wait before giving up?"
    first = retriever.rank_rules(question)
    assert first.rules[0].rule_id == "timeouts"
    assert retriever.rank_rules(question) == first
