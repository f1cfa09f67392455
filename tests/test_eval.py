"""`bepro eval`: deterministic figures, threshold and baseline gates, dataset errors, the reports."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bepro.catalogue.model import Catalogue
from bepro.config import Paths, load_settings
from bepro.errors import UsageError
from bepro.evals.answers import advice_given, load_answer_cases, point_made
from bepro.evals.gates import check_thresholds
from bepro.evals.report import render_html, render_markdown
from bepro.evals.runner import SUITES, EvalContext, EvalReport, run_suites
from bepro.evals.scoring import ndcg, priority_order_tau, weighted_recall
from bepro.retrieval.keyword import tokenize
from bepro.retrieval.search import Retriever
from bepro.review.registry import REWRITES

from .conftest import ROOT, bepro_command, invoke_bepro, run_bepro

pytestmark = pytest.mark.slow
# Tests on a run of every suite (in process and as CLI subprocesses): about 20 s, so they join
# the integration tier and the unit tier keeps the quick checks of datasets, scoring and reports.
WHOLE_EVAL = pytest.mark.integration
ANSWERS = ROOT / "evals" / "answers.jsonl"


# Every suite but fixes, which spends 20 s (most of a second run) re-running the same validated
# rewrites through subprocesses: its figures come from the in-process run alone.
SECOND_RUN = tuple(suite for suite in SUITES if suite != "fixes")


@dataclass(frozen=True)
class CliEval:
    runs: dict[str, Future[subprocess.CompletedProcess[str]]]  # suite -> its CLI run
    saved: Path  # the retrieval run's --save-baseline file


def _cli_eval(suite: str, saved: Path) -> subprocess.CompletedProcess[str]:
    extra = ("--save-baseline", str(saved)) if suite == "retrieval" else ()
    command = bepro_command("eval", "--suite", suite, "--format", "json", *extra)
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def cli_process(
    paths: Paths, retriever: Retriever, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliEval]:
    """Real `bepro eval --suite NAME --format json` runs on the session's index (`retriever` has
    built it), one per suite of SECOND_RUN, one after another, started now so that they run
    while this process runs every suite itself (eval_in_process): together they take less time
    than the in-process run, on the other core. The retrieval run also saves its report."""
    saved = tmp_path_factory.mktemp("baseline") / "baseline.json"
    runner = ThreadPoolExecutor(max_workers=1)
    try:
        yield CliEval(
            {suite: runner.submit(_cli_eval, suite, saved) for suite in SECOND_RUN}, saved
        )
    finally:
        runner.shutdown(cancel_futures=True)  # a test failed before waiting for them


@pytest.fixture(scope="module")
def eval_in_process(catalogue: Catalogue, paths: Paths, retriever: Retriever) -> EvalReport:
    """Every eval suite, run once in this process on the session's index, with the project's
    thresholds checked as `bepro eval` checks them: compared with the CLI runs, and the fixes
    suite's figures checked (some 20 s of validated rewrites, so the fixes eval runs once here
    rather than once more for its own test)."""
    report = run_suites(SUITES, EvalContext(catalogue, paths, retriever), llm=False)
    report.checks = check_thresholds(report, load_settings(ROOT).eval)
    return report


@pytest.fixture(scope="module")
def cli_runs(cli_process: CliEval, eval_in_process: EvalReport) -> dict[str, dict[str, Any]]:
    """Each CLI run's report by suite, once the in-process run (requested first, so they
    overlap) is done."""
    runs: dict[str, dict[str, Any]] = {}
    for suite, future in cli_process.runs.items():
        done = future.result(timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[suite] = {"stdout": done.stdout, "report": json.loads(done.stdout)}
    return runs


@pytest.fixture(scope="module")
def cli_run(cli_runs: dict[str, dict[str, Any]], cli_process: CliEval) -> dict[str, Any]:
    """The retrieval suite's CLI run, which saved its report."""
    return {**cli_runs["retrieval"], "saved": cli_process.saved}


@WHOLE_EVAL
def test_same_code_and_data_give_the_same_numbers(
    cli_runs: dict[str, dict[str, Any]], eval_in_process: EvalReport
) -> None:
    """Two runs, in two processes (another hash seed), give the same report, suite by suite."""
    suites = json.loads(json.dumps(eval_in_process.as_dict()["suites"]))
    assert set(cli_runs) == set(SECOND_RUN)
    for suite, run in cli_runs.items():
        assert run["report"]["suites"] == {suite: suites[suite]}, suite


@WHOLE_EVAL
def test_json_report_shape_and_the_project_thresholds_pass(
    cli_runs: dict[str, dict[str, Any]], eval_in_process: EvalReport, catalogue: Catalogue
) -> None:
    for run in cli_runs.values():
        assert run["report"]["format"] == "bepro-eval/1"
        assert run["report"]["passed"] is True
        assert run["report"]["baseline"] is None
    report = json.loads(json.dumps(eval_in_process.as_dict()))
    assert report["passed"] is True
    assert set(report["suites"]) == set(SUITES)
    retrieval = report["suites"]["retrieval"]
    for metric in ("recall@1", "recall@3", "recall@5", "mrr", "ndcg@3", "weighted_recall@3"):
        assert 0 <= retrieval["metrics"][metric] <= 1
    assert list(retrieval["per_category"]) == [c.name for c in catalogue.categories]
    assert all(row["cases"] > 0 for row in retrieval["per_category"].values())
    answers = report["suites"]["answers"]
    assert {"rubric", "weighted_cite_recall", "points_made", "ordering_tau"} <= set(
        answers["metrics"]
    )
    assert answers["counts"]["cases"] >= 30
    assert set(answers["per_category"]) == {c.name for c in catalogue.categories}
    fixes = report["suites"]["fixes"]
    assert fixes["status"] == "ok"
    assert 0 < fixes["metrics"]["fix_rate"] <= 1
    assert fixes["counts"]["findings"] >= fixes["counts"]["fixed"] > 0
    assert "mode: offline codemods" in fixes["notes"]
    assert report["thresholds"], "pyproject.toml sets thresholds"
    assert {"suite", "metric", "category", "minimum", "value", "passed"} == set(
        report["thresholds"][0]
    )
    assert {check["suite"] for check in report["thresholds"]} == set(SECOND_RUN)


@WHOLE_EVAL
def test_fixes_eval_removes_most_findings_with_validated_rewrites(
    eval_in_process: EvalReport,
) -> None:
    """`bepro fix`'s eval (run_fixes_eval on evals/fixes: offline codemods, unsafe rewrites
    included), as the eval's fixes suite reports it; the CLI run reports the same figures."""
    fixes = next(suite for suite in eval_in_process.suites if suite.name == "fixes")
    figures = fixes.per_rule  # per detector code: FixesEvalReport.per_code_figures()
    assert fixes.counts["cases"] >= 60
    assert set(REWRITES) <= set(figures), "every rewrite has eval cases"
    assert all(figures[code]["cases"] >= 2 for code in REWRITES)
    assert fixes.metrics["fix_rate"] >= 0.9
    assert fixes.metrics["safe_fix_rate"] >= 0.6
    reasons = [note for note in fixes.notes if note.startswith("not fixed ")]
    assert any("naive_compare" in r and "the test command failed" in r for r in reasons)
    assert any("timestamp_reuse" in r and "no offline rewrite" in r for r in reasons)


@WHOLE_EVAL
def test_save_baseline_writes_the_report_atomically(cli_run: dict[str, Any]) -> None:
    saved: Path = cli_run["saved"]
    assert saved.read_text(encoding="utf-8") == cli_run["stdout"]
    assert [path.name for path in saved.parent.iterdir()] == ["baseline.json"]


def _pyproject(directory: Path, body: str) -> Path:
    (directory / "pyproject.toml").write_text(body, encoding="utf-8")
    return directory


@WHOLE_EVAL
def test_a_threshold_below_minimum_exits_1(cli_run: dict[str, Any], tmp_path: Path) -> None:
    metrics = cli_run["report"]["suites"]["retrieval"]["metrics"]
    metric = next(name for name, value in metrics.items() if value is not None and value < 0.99)
    project = _pyproject(
        tmp_path,
        f'[tool.bepro.eval.retrieval]\n"{metric}" = 1.0\n"category.recall@1" = 1.0\n',
    )
    done = invoke_bepro("eval", "--suite", "retrieval", cwd=project)
    assert done.returncode == 1, done.stderr
    assert f"below minimum: retrieval {metric} = " in done.stdout
    assert "below minimum: retrieval recall@1 [" in done.stdout  # a category names itself
    assert done.stdout.rstrip().endswith("FAIL")


def test_an_unknown_threshold_metric_is_a_usage_error(tmp_path: Path) -> None:
    project = _pyproject(tmp_path, "[tool.bepro.eval.review]\nrecal = 0.9\n")
    done = invoke_bepro("eval", "--suite", "review", cwd=project)
    assert done.returncode == 2
    assert "[tool.bepro.eval.review] unknown metric 'recal'" in done.stderr
    assert "did you mean 'recall'?" in done.stderr


def _baseline_with(cli_run: dict[str, Any], tmp_path: Path, bump: float, in_category: bool) -> Path:
    report = json.loads(cli_run["stdout"])
    retrieval = report["suites"]["retrieval"]
    if in_category:
        retrieval["per_category"]["Security & Privacy"]["mrr"] += bump
    else:
        retrieval["metrics"] = {
            name: value + bump for name, value in retrieval["metrics"].items() if value is not None
        }
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@WHOLE_EVAL
def test_a_regression_beyond_tolerance_in_one_category_exits_1(
    cli_run: dict[str, Any], tmp_path: Path
) -> None:
    baseline = _baseline_with(cli_run, tmp_path, bump=0.05, in_category=True)
    done = invoke_bepro("eval", "--suite", "retrieval", "--baseline", str(baseline))
    assert done.returncode == 1, done.stderr
    assert "regression: retrieval mrr [Security & Privacy]" in done.stdout


@WHOLE_EVAL
def test_a_change_within_tolerance_passes(cli_run: dict[str, Any], tmp_path: Path) -> None:
    baseline = _baseline_with(cli_run, tmp_path, bump=0.01, in_category=False)
    done = invoke_bepro(
        "eval", "--suite", "retrieval", "--baseline", str(baseline), "--format", "json"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["baseline"]["regressions"] == []


def test_a_bad_dataset_line_fails_with_file_and_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "SKILL.md", tmp_path / "SKILL.md")
    (tmp_path / "references").symlink_to(ROOT / "references")
    dataset = tmp_path / "evals" / "answers.jsonl"
    dataset.parent.mkdir()
    good = ANSWERS.read_text(encoding="utf-8").splitlines()[0]
    bad = good.replace('"must_cite": [', '"must_cite": ["nope", ').replace('"a001"', '"a002"')
    dataset.write_text(f"{good}\n{bad}\n", encoding="utf-8")
    done = invoke_bepro("eval", "--suite", "answers", env={"BEPRO_ROOT": str(tmp_path)})
    assert done.returncode == 2
    assert f"{dataset}:2: unknown rule id 'nope'" in done.stderr


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"action": "dance"}, "unknown action 'dance'"),
        ({"must_cite": ["retries", "nope"]}, "unknown rule id 'nope'"),
        ({"points": []}, "malformed case: points"),
        ({"surprise": 1}, "malformed case: surprise"),
        ({"points": ["the of and"]}, "has no content words"),
        ({"id": "a001"}, "duplicate id 'a001' (first on line 1)"),
    ],
)
def test_bad_answer_cases_name_file_and_line(
    catalogue: Catalogue, tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    good = json.loads(ANSWERS.read_text(encoding="utf-8").splitlines()[0])
    assert good["id"] == "a001"
    bad = {**good, "id": "other", **change}
    dataset = tmp_path / "answers.jsonl"
    dataset.write_text(f"{json.dumps(good)}\n\n{json.dumps(bad)}\n", encoding="utf-8")
    with pytest.raises(UsageError) as error:
        load_answer_cases(dataset, catalogue)
    assert error.value.message.startswith(f"{dataset}:3: ")
    assert problem in error.value.message


def test_unknown_expect_in_a_review_case_names_file_and_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "SKILL.md", tmp_path / "SKILL.md")
    (tmp_path / "references").symlink_to(ROOT / "references")
    case = tmp_path / "evals" / "review" / "bad.py"
    case.parent.mkdir(parents=True)
    case.write_text("import requests\n\nrequests.get(url)  # expect: timeout\n", encoding="utf-8")
    done = invoke_bepro("eval", "--suite", "review", env={"BEPRO_ROOT": str(tmp_path)})
    assert done.returncode == 2
    assert f"{case}:3: unknown rule id 'timeout'" in done.stderr


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--suite", "retrieval", "--llm"], "--llm does not apply to the retrieval suite"),
        (["--suite", "everything"], "Invalid value"),
    ],
)
def test_what_cannot_run_yet_is_a_usage_error_when_asked_for_alone(
    args: list[str], problem: str
) -> None:
    done = invoke_bepro("eval", *args)
    assert done.returncode == 2
    assert problem in done.stderr


@WHOLE_EVAL
def test_html_report_has_an_svg_bar_chart_per_category(
    eval_in_process: EvalReport, catalogue: Catalogue
) -> None:
    page = render_html(eval_in_process)
    assert page.count("<svg ") == len(catalogue.categories)
    for category in catalogue.categories:
        name = category.name.replace("&", "&amp;")
        assert f"<figcaption>{name}</figcaption><svg " in page
    assert "<rect" in page
    assert "<script" not in page
    assert "src=" not in page  # nothing fetched: no CDN, no external images


@WHOLE_EVAL
def test_markdown_report_has_a_per_category_table_per_suite(eval_in_process: EvalReport) -> None:
    text = render_markdown(eval_in_process)
    for suite in ("retrieval", "review", "answers", "fixes"):
        assert f"**{suite}: per category**" in text
    assert "| Correctness & Contracts |" in text


def test_missing_a_priority_1_rule_costs_8_times_a_priority_8_rule(catalogue: Catalogue) -> None:
    expected = ["idempotency", "typing"]  # priority 1 and priority 8
    assert weighted_recall(expected, {"typing"}, catalogue) == pytest.approx(1 / 9)
    assert weighted_recall(expected, {"idempotency"}, catalogue) == pytest.approx(8 / 9)


def test_ordering_correlation_rewards_higher_priority_first(catalogue: Catalogue) -> None:
    assert priority_order_tau(["idempotency", "timeouts", "tests", "typing"], catalogue) == 1.0
    assert priority_order_tau(["typing", "timeouts", "idempotency"], catalogue) == -1.0
    assert priority_order_tau(["tests", "typing"], catalogue) is None  # same priority
    assert ndcg(["b", "a"], {"a": 2.0, "b": 1.0}, 3) < ndcg(["a", "b"], {"a": 2.0, "b": 1.0}, 3)


def test_points_and_forbidden_advice_matching() -> None:
    answer = "Use exponential backoff with full jitter.\nNever pass verify=False to the client."
    words = tokenize(answer)
    assert point_made("retries with jitter | random delay", tokenize("add random delay"))
    assert point_made("exponential backoff", words)
    assert not point_made("circuit breaker", words)
    assert not advice_given("verify=False", answer)  # negated: not advice
    assert advice_given("verify=False", "client = httpx.Client(verify=False)")


@pytest.mark.integration  # starts an LLM server
def test_llm_judge_grades_every_answer(tmp_path: Path) -> None:
    from .llm_stub import running_stub

    with running_stub() as (url, calls):
        env = {"OPENAI_BASE_URL": url, "BEPRO_LLM_MODEL": "judge", "OPENAI_API_KEY": "x"}
        done = run_bepro(
            "eval", "--suite", "answers", "--llm", "--format", "json", env=env, cwd=tmp_path
        )
    assert done.returncode in (0, 1), done.stderr
    answers = json.loads(done.stdout)["suites"]["answers"]
    assert answers["metrics"]["judge_score"] == 0.8125  # grades 4, 5, 3, 5 -> (4.25 - 1) / 4
    assert answers["notes"][0] == "judged 38 of 38 answers"
    assert all(row["judge_score"] == 0.8125 for row in answers["per_category"].values())
    assert calls["judge"] >= 38 * 2


def test_llm_judge_needs_a_configured_llm(tmp_path: Path) -> None:
    env = {"OPENAI_BASE_URL": "", "BEPRO_LLM_MODEL": "", "OPENAI_API_KEY": ""}
    done = invoke_bepro("eval", "--suite", "answers", "--llm", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "no LLM is configured" in done.stderr
