"""bepro's detectors against the annotated cases in evals/review: precise, and each one exercised."""

from __future__ import annotations

import pytest

from bepro.catalogue.model import Catalogue
from bepro.evals.review import ReviewEvalReport, run_review_eval
from bepro.review.registry import HUMAN_ONLY, RUFF_CODES, load_detectors

from .conftest import ROOT

CASES = ROOT / "evals" / "review"
MIN_PRECISION = 0.95


@pytest.fixture(scope="module")
def report(catalogue: Catalogue) -> ReviewEvalReport:
    return run_review_eval(CASES, catalogue)


def test_every_own_detector_is_precise_and_exercised(report: ReviewEvalReport) -> None:
    for code in load_detectors():
        tally = report.per_source.get(f"bepro:{code}")
        assert tally is not None, f"{code} has no positive case"
        assert tally.true_positives >= 2, f"{code} has fewer than 2 positive cases"
        assert tally.precision >= MIN_PRECISION, (code, report.false_positives)


def test_no_expected_finding_is_missed(report: ReviewEvalReport) -> None:
    assert report.misses == []


def test_every_rule_has_a_detector_or_a_reason(catalogue: Catalogue) -> None:
    detected = {d.rule_id for d in load_detectors().values()} | set(RUFF_CODES.values())
    for rule_id in catalogue.rule_ids:
        assert (rule_id in detected) != (rule_id in HUMAN_ONLY), rule_id
    assert set(HUMAN_ONLY) <= set(catalogue.rule_ids)
    assert {d.rule_id for d in load_detectors().values()} <= set(catalogue.rule_ids)
