"""Retrieval shared by a server's answer threads: no lock, so it must give the same rankings
when many questions run at once as when they run one at a time; and rules ranked by example."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from importlib import resources

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.evals.actions import EXAMPLE_SETS, half_of, rule_examples
from bepro.retrieval.examples import EXAMPLES_FILE
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


def test_a_question_like_one_people_asked_before_ranks_the_rule_it_was_labelled_with(
    retriever: Retriever, paths: Paths, catalogue: Catalogue
) -> None:
    """A labelled real question ("Running as root? ... good practice to run as a non-root user")
    draws its rule, supply chain, ahead of the passages that share the question's words."""
    question = (
        "Is it a problem that our service's container runs as root? "
        "People say a non-root user is good practice."
    )
    without = replace(retriever.params, example_weight=0.0)
    words_only = Retriever(paths, catalogue, SilentReporter(), params=without)
    assert words_only.rank_rules(question).rules[0].rule_id != "supply-chain"
    assert retriever.rank_rules(question).rules[0].rule_id == "supply-chain"


def test_the_shipped_examples_never_hold_a_question_that_measures_them(
    catalogue: Catalogue,
) -> None:
    """One source: bepro/data/rule-examples.json is what `python -m bepro.evals.actions` writes
    from the dev half and the retired fresh sets; no held-out question and no question of a
    fresh set that still measures is in it."""
    shipped = json.loads((resources.files("bepro") / "data" / EXAMPLES_FILE).read_bytes())
    assert shipped["examples"] == rule_examples(ROOT, catalogue)
    questions = {row["question"] for row in shipped["examples"]}
    real = [json.loads(line) for line in (ROOT / "evals" / "questions-real.jsonl").open()]
    assert (
        not {row["question"] for row in real if half_of(row["question"]) == "heldout"} & questions
    )
    measuring = [
        path
        for path in (ROOT / "bench").glob("fresh-questions-*.jsonl")
        if path.stem.removeprefix("fresh-questions-") not in EXAMPLE_SETS
    ]
    assert measuring, "a fresh set still measures the examples"
    for path in measuring:
        asked = {json.loads(line)["question"] for line in path.open() if line.strip()}
        assert not asked & questions, path.name
