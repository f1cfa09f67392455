"""The retrieval eval gates quality: recall@3 must stay at or above 0.90 on evals/retrieval.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.evals.retrieval import load_cases, run_retrieval_eval
from bepro.retrieval.search import Retriever

from .conftest import ROOT

DATASET = ROOT / "evals" / "retrieval.jsonl"
MIN_RECALL_AT_3 = 0.90


def test_dataset_covers_every_rule_and_action(catalogue: Catalogue) -> None:
    cases = load_cases(DATASET, catalogue)
    answered = [case for case in cases if not case.abstain]
    assert len(answered) >= 60
    assert {case.expected[0] for case in answered} == set(catalogue.rule_ids)
    assert {case.action for case in answered} == set(catalogue.action_names)
    assert sum(case.abstain for case in cases) >= 5


def test_retrieval_quality_gate(catalogue: Catalogue, retriever: Retriever) -> None:
    report = run_retrieval_eval(load_cases(DATASET, catalogue), retriever, catalogue)
    print(json.dumps(report.as_dict(), indent=2))  # noqa: T201 - the figures, shown with pytest -s
    assert report.recall[3] >= MIN_RECALL_AT_3, report.misses
    assert report.abstention_accuracy >= 0.9


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            '{"id": "x", "question": "q", "action": "plan", "expected": ["nope"]}',
            "unknown rule id 'nope'",
        ),
        (
            '{"id": "x", "question": "q", "action": "dance", "expected": ["retries"]}',
            "unknown action",
        ),
        ("not json", "malformed case"),
    ],
)
def test_bad_dataset_lines_name_file_and_line(
    catalogue: Catalogue, tmp_path: Path, line: str, problem: str
) -> None:
    dataset = tmp_path / "bad.jsonl"
    good = '{"id": "ok", "question": "q", "action": "plan", "expected": ["retries"]}'
    dataset.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(UsageError) as error:
        load_cases(dataset, catalogue)
    assert f"{dataset}:2:" in error.value.message
    assert problem in error.value.message
