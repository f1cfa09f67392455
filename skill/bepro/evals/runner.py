"""Run the eval suites and build one report: figures per suite and per category, threshold checks.

Every suite first loads and checks its dataset (a bad line fails with the file and line before
anything runs), then runs. A suite that cannot run yet reports itself as skipped, with the reason.
Nothing in a report depends on the clock, so the same code and data give the same report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.errors import UsageError
from bepro.evals.scoring import f1, mean, priority_order_tau, priority_weight

if TYPE_CHECKING:
    from bepro.evals.answers import Answer, AnswerCase
    from bepro.evals.judge import Judge
    from bepro.evals.review import ReviewEvalReport, Tally
    from bepro.retrieval.search import Retriever

# Answers-suite figures also reported with the action inferred, as `bepro ask` runs by default.
INFERRED_FIGURES = ("rubric", "cite_recall", "weighted_cite_recall", "points_made")
SUITES = ("retrieval", "review", "heldout", "answers", "fixes", "actions", "actions-real")

Figures = dict[str, float | None]


@dataclass
class SuiteResult:
    """One suite's figures. `metrics` are scores (higher is better); `counts` are not compared."""

    name: str
    status: Literal["ok", "skipped"] = "ok"
    reason: str = ""
    metrics: Figures = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    per_category: dict[str, Figures] = field(default_factory=dict)
    per_rule: dict[str, Figures] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The action suites' confusion matrix: expected action -> inferred action -> count.
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        if self.status == "skipped":
            return {"status": "skipped", "reason": self.reason}
        result: dict[str, object] = {
            "status": "ok",
            "metrics": self.metrics,
            "counts": self.counts,
            "per_category": self.per_category,
            "per_rule": self.per_rule,
            "notes": self.notes,
        }
        if self.confusion:
            result["confusion"] = self.confusion
        return result


@dataclass(frozen=True)
class Check:
    """A threshold from [tool.bepro.eval]; category is None for a suite-wide figure."""

    suite: str
    metric: str
    category: str | None
    minimum: float
    value: float | None

    @property
    def passed(self) -> bool:
        return self.value is not None and self.value >= self.minimum


@dataclass(frozen=True)
class Regression:
    suite: str
    metric: str
    category: str | None
    baseline: float
    current: float


@dataclass
class EvalReport:
    suites: list[SuiteResult]
    categories: list[str] = field(default_factory=list)  # in priority order
    checks: list[Check] = field(default_factory=list)
    baseline_file: str | None = None
    tolerance: float = 0.0
    regressions: list[Regression] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks) and not self.regressions

    def as_dict(self) -> dict[str, object]:
        baseline = None
        if self.baseline_file is not None:
            baseline = {
                "file": self.baseline_file,
                "tolerance": self.tolerance,
                "regressions": [vars(regression) for regression in self.regressions],
            }
        return {
            "format": "bepro-eval/1",
            "passed": self.passed,
            "suites": {suite.name: suite.as_dict() for suite in self.suites},
            "thresholds": [{**vars(check), "passed": check.passed} for check in self.checks],
            "baseline": baseline,
        }


class EvalContext:
    """What the suites share: the catalogue, the datasets' folder and one retriever, built lazily."""

    def __init__(self, catalogue: Catalogue, paths: Paths, retriever: Retriever | None = None):
        self.catalogue = catalogue
        self.paths = paths
        self.evals_dir = paths.root / "evals"
        self._given_retriever = retriever

    @cached_property
    def retriever(self) -> Retriever:
        if self._given_retriever is not None:
            return self._given_retriever
        from bepro.retrieval.search import Retriever, SilentReporter

        return Retriever(self.paths, self.catalogue, SilentReporter())


PreparedSuite = Callable[[], SuiteResult]


def selected_suites(suite: str, llm: bool) -> tuple[str, ...]:
    """The suites to run for `--suite`; --llm only changes the answers and fixes suites."""
    if suite == "all":
        return SUITES
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r}", f"choose one of: {', '.join(SUITES)}, all")
    if llm and suite not in ("answers", "fixes"):
        raise UsageError(
            f"--llm does not apply to the {suite} suite", "use it with answers or fixes"
        )
    return (suite,)


def run_suites(names: tuple[str, ...], context: EvalContext, llm: bool = False) -> EvalReport:
    """Load every selected dataset first (so a bad one fails fast), then run the suites."""
    prepared = [_prepare(name, context, llm) for name in names]
    categories = [category.name for category in context.catalogue.categories]
    return EvalReport(suites=[run() for run in prepared], categories=categories)


def _prepare(name: str, context: EvalContext, llm: bool) -> PreparedSuite:
    if name == "retrieval":
        return _prepare_retrieval(context)
    if name in ("review", "heldout"):
        return _prepare_review(context, name)
    if name == "answers":
        return _prepare_answers(context, llm)
    if name in ("actions", "actions-real"):
        return _prepare_actions(context, name)
    return _prepare_fixes(context, llm)


def _prepare_actions(context: EvalContext, name: str) -> PreparedSuite:
    """Action inference on evals/actions.jsonl, or on the real questions split in two halves
    (the scorer was tuned on the dev half only; see bepro.evals.actions)."""
    from bepro.evals import actions

    path = context.evals_dir / (actions.TEST_FILE if name == "actions" else actions.REAL_FILE)
    if name == "actions-real" and not path.exists():
        return lambda: SuiteResult(name=name, status="skipped", reason=f"no {path.name} yet")
    cases = actions.load_action_cases(path, context.catalogue)

    def run() -> SuiteResult:
        from bepro.retrieval.embed import default_embedder

        labels = context.catalogue.action_names
        cue = actions.cue_predictor(labels)
        embedded = actions.embedded_predictor(labels, cases, default_embedder().embed)
        report = actions.score_actions(cases, cue, labels)
        metrics: Figures = {
            "accuracy": report.accuracy,
            "accuracy_embedded": actions.score_actions(cases, embedded, labels).accuracy,
        }
        if name == "actions-real":
            for half in ("dev", "heldout"):
                part = [case for case in cases if actions.half_of(case.question) == half]
                as_asked = actions.score_actions(part, embedded, labels)  # what bepro ask does
                metrics[f"accuracy_{half}"] = actions.score_actions(part, cue, labels).accuracy
                metrics[f"accuracy_embedded_{half}"] = as_asked.accuracy
                metrics[f"lenient_accuracy_embedded_{half}"] = as_asked.lenient_accuracy
        return SuiteResult(
            name=name,
            metrics=_rounded(metrics),
            counts={"cases": report.cases, "correct": report.correct},
            per_category=report.per_action(),
            confusion=report.confusion,
            notes=[f"confused {e} -> {i}: {n}" for e, i, n in report.top_confusions()]
            + [f"missed {miss}" for miss in report.misses],
        )

    return run


def _prepare_fixes(context: EvalContext, llm: bool) -> PreparedSuite:
    """Findings removed by validated rewrites: offline codemods, plus the LLM with --llm."""
    from bepro.evals.fixes import case_dirs, run_fixes_eval

    cases_dir = context.evals_dir / "fixes"
    case_dirs(cases_dir)  # no cases fails here, before any suite runs
    proposer = None
    if llm:
        from bepro.agent.fix_proposer import configured_proposer
        from bepro.config import load_settings

        proposer = configured_proposer(load_settings().llm)

    def run() -> SuiteResult:
        report = run_fixes_eval(cases_dir, context.catalogue, proposer)
        by_category: dict[str, list[int]] = {}
        for rule_id, tally in report.per_rule.items():
            rule = context.catalogue.rule(rule_id)
            totals = by_category.setdefault(rule.category if rule else "", [0, 0])
            totals[0] += tally.findings
            totals[1] += tally.fixed
        mode = "offline codemods and the LLM" if proposer else "offline codemods"
        return SuiteResult(
            name="fixes",
            metrics={**report.metrics()},
            counts=report.counts(),
            per_category={
                name: {"findings": found, "fix_rate": round(fixed / found, 4) if found else None}
                for name, (found, fixed) in by_category.items()
            },
            # per detector code: the unit a rewrite is registered for (`bepro rules CODE`)
            per_rule={code: {**row} for code, row in report.per_code_figures().items()},
            notes=[
                f"mode: {mode}",
                "unsafe rewrites included (--unsafe-fixes): safe_fix_rate counts the safe ones",
                *(f"not fixed {reason}" for reason in report.total.reasons),
            ],
        )

    return run


def _prepare_retrieval(context: EvalContext) -> PreparedSuite:
    from bepro.evals.retrieval import KS, load_cases, run_retrieval_eval

    cases = load_cases(context.evals_dir / "retrieval.jsonl", context.catalogue)

    def run() -> SuiteResult:
        report = run_retrieval_eval(cases, context.retriever, context.catalogue)
        metrics: Figures = {f"recall@{k}": report.recall[k] for k in KS}
        metrics |= {
            "mrr": report.mrr,
            "ndcg@3": report.ndcg_at_3,
            "weighted_recall@3": report.weighted_recall_at_3,
            "priority_order_tau": report.priority_order_tau,
            "abstention_accuracy": report.abstention_accuracy,
        }
        return SuiteResult(
            name="retrieval",
            metrics=_rounded(metrics),
            counts={"cases": report.cases, "false_abstentions": report.false_abstentions},
            per_category={
                name: dict(score.as_dict())
                for name, score in report.per_category.items()
                if score.cases
            },
            notes=[f"miss {miss}" for miss in report.misses],
        )

    return run


# review: cases written with the detectors; heldout: realistic service code written blind, from
# the rule references alone, kept out of detector work so it measures unseen code.
REVIEW_CASES = {"review": "review", "heldout": "review-heldout"}


def _prepare_review(context: EvalContext, name: str) -> PreparedSuite:
    from bepro.evals.review import expectations, run_review_eval

    cases_dir = context.evals_dir / REVIEW_CASES[name]
    files = sorted(cases_dir.rglob("*.py"))
    if not files:
        raise UsageError(f"{cases_dir}: no review cases (*.py)", "see evals/README.md")
    for path in files:
        expectations(path, context.catalogue)  # unknown rule ids fail here, with file:line

    def run() -> SuiteResult:
        report = run_review_eval(cases_dir, context.catalogue)
        return _review_result(name, report, context.catalogue)

    return run


def _review_result(name: str, report: ReviewEvalReport, catalogue: Catalogue) -> SuiteResult:
    by_category: dict[str, list[Tally]] = {}
    for rule_id, tally in report.per_rule.items():
        rule = catalogue.rule(rule_id)
        by_category.setdefault(rule.category if rule else "", []).append(tally)
    overall = _sum_tallies(list(report.per_rule.values()))
    weights = {rule_id: priority_weight(rule_id, catalogue) for rule_id in report.per_rule}
    expected_weight = sum(
        weights[r] * (t.true_positives + t.false_negatives) for r, t in report.per_rule.items()
    )
    found_weight = sum(weights[r] * t.true_positives for r, t in report.per_rule.items())
    metrics = _tally_figures(overall)
    metrics["weighted_recall"] = found_weight / expected_weight if expected_weight else None
    metrics["priority_order_tau"] = mean(
        priority_order_tau(order, catalogue) for order in report.orders.values()
    )
    return SuiteResult(
        name=name,
        metrics=_rounded(metrics),
        counts={
            "files": report.files,
            "expected_findings": overall.true_positives + overall.false_negatives,
            "findings": overall.true_positives + overall.false_positives,
            "false_positives": overall.false_positives,
        },
        per_category={
            category.name: _rounded(_tally_row(_sum_tallies(by_category[category.name])))
            for category in catalogue.categories
            if category.name in by_category
        },
        per_rule={
            rule.id: _rounded(_tally_row(report.per_rule[rule.id]))
            for rule in catalogue.rules
            if rule.id in report.per_rule
        },
        notes=[f"missed {miss}" for miss in report.misses]
        + [f"false positive {fp}" for fp in report.false_positives],
    )


def _sum_tallies(tallies: list[Tally]) -> Tally:
    from bepro.evals.review import Tally

    total = Tally()
    for tally in tallies:
        total.true_positives += tally.true_positives
        total.false_positives += tally.false_positives
        total.false_negatives += tally.false_negatives
    return total


def _tally_figures(tally: Tally) -> Figures:
    return {
        "precision": tally.precision,
        "recall": tally.recall,
        "f1": f1(tally.precision, tally.recall),
    }


def _tally_row(tally: Tally) -> Figures:
    return {"cases": tally.true_positives + tally.false_negatives, **_tally_figures(tally)}


def _prepare_answers(context: EvalContext, llm: bool) -> PreparedSuite:
    """The rubric on the offline answers; with --llm, on the LLM's answers, graded by a judge too."""
    from bepro.evals.answers import load_answer_cases, run_answers_eval

    cases = load_answer_cases(context.evals_dir / "answers.jsonl", context.catalogue)
    judge = _llm_judge(context) if llm else None

    def run() -> SuiteResult:
        texts: dict[str, str] = {}

        def answer_case(case: AnswerCase) -> Answer:
            found = (
                _llm_answer(case, context) if judge is not None else _offline_answer(case, context)
            )
            texts[case.id] = found.text
            return found

        report = run_answers_eval(cases, answer_case, context.catalogue)
        metrics: Figures = {**report.metrics(context.catalogue)}
        if judge is None:  # as a user meets it: the action inferred from the question
            inferred = run_answers_eval(
                cases, lambda case: _offline_answer(case, context, infer=True), context.catalogue
            ).metrics(context.catalogue)
            metrics |= {f"{name}_inferred": inferred[name] for name in INFERRED_FIGURES}
        per_category: dict[str, Figures] = {
            name: {**row} for name, row in report.per_category(context.catalogue).items()
        }
        notes = report.notes()
        if judge is not None:
            notes = (
                _add_judgements(judge, cases, texts, context.catalogue, metrics, per_category)
                + notes
            )
        return SuiteResult(
            name="answers",
            metrics=metrics,
            counts=report.counts(),
            per_category=per_category,
            notes=notes,
        )

    return run


def _llm_judge(context: EvalContext) -> Judge:
    from bepro.config import load_settings
    from bepro.evals.judge import Judge
    from bepro.llm.client import LLMClient, breaker_for, resolve_llm_config

    config = resolve_llm_config(load_settings().llm)
    if config is None:
        raise UsageError(
            "--llm: no LLM is configured for the answers and the judge",
            "set BEPRO_LLM_MODEL and OPENAI_BASE_URL or OPENAI_API_KEY",
        )
    client = LLMClient(config, breaker_for(config))
    return Judge(client, context.evals_dir / "judge" / "rubric.md")


def _llm_answer(case: AnswerCase, context: EvalContext) -> Answer:
    from bepro.agent.answer import answer
    from bepro.agent.ask import AskRequest
    from bepro.config import load_settings
    from bepro.evals.answers import Answer

    outcome = answer(
        AskRequest(case.question, case.action),
        context.catalogue,
        context.paths,
        load_settings().llm,
        "llm",
        retriever=context.retriever,
    )
    return Answer(text=outcome.result.answer, abstained=outcome.result.abstained)


def _add_judgements(
    judge: Judge,
    cases: list[AnswerCase],
    texts: dict[str, str],
    catalogue: Catalogue,
    metrics: Figures,
    per_category: dict[str, Figures],
) -> list[str]:
    """Grade every answer; add `judge_score` overall and per category (first must-cite rule)."""
    by_category: dict[str, list[float]] = {}
    scores: list[float] = []
    notes: list[str] = []
    for case in cases:
        judgement = judge.judge(case, texts.get(case.id, ""))
        if judgement.grade is None:
            notes.append(f"{case.id}: unjudged: {judgement.problem}")
            continue
        rule = catalogue.rule(case.must_cite[0])
        by_category.setdefault(rule.category if rule else "", []).append(judgement.grade.score)
        scores.append(judgement.grade.score)
    metrics["judge_score"] = round(sum(scores) / len(scores), 4) if scores else None
    for name, values in by_category.items():
        per_category.setdefault(name, {})["judge_score"] = round(sum(values) / len(values), 4)
    return [f"judged {len(scores)} of {len(cases)} answers", *notes]


def _offline_answer(case: AnswerCase, context: EvalContext, infer: bool = False) -> Answer:
    """The offline answer to the case, for its labelled action or (`infer`) the inferred one."""
    from bepro.agent.ask import AskRequest, ask
    from bepro.evals.answers import Answer

    result = ask(
        AskRequest(case.question, None if infer else case.action),
        context.catalogue,
        context.paths,
        retriever=context.retriever,
    )
    return Answer(text=result.answer, abstained=result.abstained)


def _rounded(figures: Figures) -> Figures:
    return {name: None if value is None else round(value, 4) for name, value in figures.items()}
