"""`bepro ask` without --action infers the action a question asks for, from whole words, and says
how sure it is; measured on labelled questions it was not tuned on."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from bepro.agent.intent import (
    CENTROIDS_FILE,
    DEFAULT_ACTION,
    classify_action,
    evidence,
    infer_action,
    load_action_model,
)
from bepro.catalogue.model import Catalogue
from bepro.evals.actions import (
    REAL_FILE,
    TEST_FILE,
    TRAIN_FILE,
    cue_predictor,
    half_of,
    load_action_cases,
    run_actions_eval,
    score_actions,
)

from .conftest import ROOT

EVALS = ROOT / "evals"
# Measured on evals/actions.jsonl (never tuned on): 0.831 with the cues alone.
ACCURACY_FLOOR = 0.80
# Measured on the held-out half of the real questions: 0.419.
REAL_HELDOUT_FLOOR = 0.38


@pytest.mark.parametrize(
    ("question", "action"),
    [
        ("Plan the resilience of a service that calls three flaky partner APIs.", "plan"),
        (
            "We need to change the type of the amount column on the 300M-row orders table. "
            "How do we roll that change out?",
            "plan",
        ),
        ("How do we roll out a schema change to the orders table without downtime?", "plan"),
        ("design our logging for incident response", "design"),
        ("Why does the nightly export hang after the schema change?", "debug"),
        ("Add retries with backoff to the shipping client.", "implement"),
        ("what is wrong with this code?\n```python\nrequests.get(url)\n```", "review"),
        ("Since Tuesday p99 on GET /orders jumped from 120 ms to 900 ms.", "optimize"),
        ("Our Celery workers can't keep up with 10x the traffic. How do we scale out?", "scale"),
        ("Harden the gunicorn service before the pen test.", "secure"),
        ("Have you considered RFC 7807 for our error responses?", "design"),
        ("Evaluate async SQLAlchemy for the persistence layer.", "design"),
        ("Move the query logic from the views into a services layer.", "refactor"),
        ("Is it okay to open one httpx client per request in our FastAPI app?", "review"),
        ("Take a look at our Celery settings before we ship them.", "review"),
        ("Set a statement timeout on the reporting connection: queries pile up.", "fix"),
        ("Disable the retry loop in the webhook handler: it sends every email twice.", "fix"),
    ],
)
def test_questions_get_the_action_a_principal_would_pick(
    catalogue: Catalogue, question: str, action: str
) -> None:
    assert infer_action(question, catalogue.action_names) == action


def test_logging_design_is_not_debug(catalogue: Catalogue) -> None:
    guess = classify_action("design our logging for incident response", catalogue.action_names)
    assert guess.action == "design"
    assert "verb 'design'" in guess.evidence


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("We change the exchange rates every night.", "debug"),  # change, exchange: not "hang"
        ("Prefix every cache key with the tenant id.", "fix"),  # prefix: not "fix"
        ("Approve the expense report.", "review"),  # approve: not "pr"
        ("background_tasks.add_task(send_email)", "implement"),  # an identifier, not "add"
    ],
)
def test_cues_match_whole_words_only(text: str, absent: str) -> None:
    assert all(action != absent for action, _cue, _weight in evidence(text))


def test_no_evidence_falls_back_to_implement_at_zero_confidence(catalogue: Catalogue) -> None:
    guess = classify_action("the orders thing", catalogue.action_names)
    assert guess == classify_action("the orders thing", catalogue.action_names)
    assert (guess.action, guess.confidence, guess.runner_up) == (DEFAULT_ACTION, 0.0, None)


def test_confidence_is_lower_when_the_cues_disagree(catalogue: Catalogue) -> None:
    actions = catalogue.action_names
    clear = classify_action(
        "Refactor the 2,000-line orders module without changing behaviour.", actions
    )
    mixed = classify_action("The checkout endpoint is slow and also has a bug.", actions)
    assert clear.action == "refactor"
    assert 0.0 < mixed.confidence < clear.confidence <= 1.0
    assert {mixed.action, mixed.runner_up} == {"optimize", "fix"}


def test_only_known_actions_are_returned() -> None:
    assert infer_action("Refactor this module.", ("implement", "review")) == "implement"
    assert infer_action("Please review this handler.", ("implement", "review")) == "review"


def test_embedding_similarities_are_used_only_when_given(catalogue: Catalogue) -> None:
    actions = catalogue.action_names
    question = "the tokens in our session store"
    near_secure = {action: 0.5 if action == "secure" else 0.3 for action in actions}
    assert infer_action(question, actions) == DEFAULT_ACTION
    guess = classify_action(question, actions, near_secure)
    assert guess.action == "secure"
    assert "similar examples" in guess.evidence


def test_centroids_cover_every_action_and_name_their_model(catalogue: Catalogue) -> None:
    from bepro.retrieval.embed import DIMENSIONS, MODEL_ID

    data = json.loads((ROOT / "skill" / "bepro" / "data" / CENTROIDS_FILE).read_text())
    assert data["model"] == MODEL_ID
    model = load_action_model()
    assert set(model.actions) == set(catalogue.action_names)
    assert model.centroids.shape == (len(model.actions), DIMENSIONS)
    for vector in model.centroids:
        assert float(vector @ vector) == pytest.approx(1.0, abs=1e-3)
    assert set(model.classifier_actions) == set(catalogue.action_names)
    assert model.weights.shape == (DIMENSIONS, len(model.classifier_actions))


def test_the_labelled_set_is_large_varied_and_apart_from_training(catalogue: Catalogue) -> None:
    test = load_action_cases(EVALS / TEST_FILE, catalogue)
    train = load_action_cases(EVALS / TRAIN_FILE, catalogue)
    per_action = Counter(case.action for case in test)
    assert len(test) >= 220
    assert set(per_action) == set(catalogue.action_names)
    assert min(per_action.values()) >= 15
    assert {case.style for case in test} == {
        "imperative",
        "question",
        "incident",
        "code",
        "short",
        "long",
    }
    assert not {case.question for case in test} & {case.question for case in train}


def test_accuracy_on_the_held_out_set_is_above_the_measured_floor(catalogue: Catalogue) -> None:
    report = run_actions_eval(EVALS / TEST_FILE, catalogue)
    assert report["cases"] == len(load_action_cases(EVALS / TEST_FILE, catalogue))
    accuracy = report["accuracy"]
    assert isinstance(accuracy, float)
    assert accuracy >= ACCURACY_FLOOR
    confusion = report["confusion"]
    assert isinstance(confusion, dict)
    assert list(confusion) == list(catalogue.action_names)
    assert all(list(row) == list(catalogue.action_names) for row in confusion.values())


def test_accuracy_on_real_questions_not_tuned_on(catalogue: Catalogue) -> None:
    path = EVALS / REAL_FILE
    if not path.exists():
        pytest.skip(f"no {REAL_FILE}")
    heldout = [c for c in load_action_cases(path, catalogue) if half_of(c.question) == "heldout"]
    labels = catalogue.action_names
    report = score_actions(heldout, cue_predictor(labels), labels)
    assert report.accuracy is not None
    assert report.accuracy >= REAL_HELDOUT_FLOOR


def test_inferring_an_action_loads_no_model() -> None:
    code = (
        "import sys, bepro.agent.intent as i; "
        "i.infer_action('fix the bug', ('fix',)); "
        "print(sorted(m for m in ('numpy', 'onnxruntime') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_lenient_accuracy_counts_every_action_a_question_accepts(catalogue: Catalogue) -> None:
    """A bug report with its cause stated fits `fix` and `debug`: inferring either is no miss
    under lenient accuracy, while strict accuracy holds to the first label."""
    from bepro.evals.actions import ActionCase

    cases = [
        ActionCase(question="SECRET_KEY is in the repo", action="fix", acceptable=["secure"]),
        ActionCase(question="why is the worker stuck?", action="debug"),
    ]
    guesses = {"SECRET_KEY is in the repo": "secure", "why is the worker stuck?": "fix"}
    report = score_actions(cases, guesses.__getitem__, catalogue.action_names)
    assert report.accuracy == 0.0
    assert report.lenient_accuracy == 0.5
    real = load_action_cases(EVALS / REAL_FILE, catalogue)
    assert all(case.acceptable and case.acceptable[0] == case.action for case in real)


def test_a_plan_put_up_for_review_counts_its_steps_verbs_once() -> None:
    plan = (
        "Please review this plan for tenant isolation. Add a tenant_id column to every table. "
        "Write a policy per table. Implement a middleware that sets the tenant. Add tests."
    )
    verbs = [(action, cue) for action, cue, _ in evidence(plan) if cue.startswith("verb")]
    # the steps' verbs count once per action, not once per step
    assert verbs == [("review", "verb 'review'"), ("implement", "verb 'add'")]
