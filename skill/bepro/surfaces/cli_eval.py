"""`bepro eval`: registered on the main typer app by surfaces/cli.py.

Exit codes: 0 every threshold met and no regression; 1 a threshold failed or a figure regressed
beyond the tolerance against --baseline; 2 a usage, configuration or dataset error.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bepro.evals.runner import EvalReport

EXIT_GATE_FAILED = 1


class SuiteChoice(StrEnum):
    retrieval = "retrieval"
    review = "review"
    heldout = "heldout"
    answers = "answers"
    fixes = "fixes"
    actions = "actions"
    actions_real = "actions-real"
    all = "all"


class EvalFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


def eval_command(
    suite: Annotated[
        SuiteChoice, typer.Option("--suite", "-s", help="Which suite to run.")
    ] = SuiteChoice.all,
    llm: Annotated[
        bool, typer.Option("--llm", help="Also judge answers with an LLM (not available yet).")
    ] = False,
    output: Annotated[
        EvalFormat, typer.Option("--format", "-f", help="Output format.")
    ] = EvalFormat.text,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A saved JSON report; exit 1 on a regression."),
    ] = None,
    save_baseline: Annotated[
        Path | None,
        typer.Option("--save-baseline", help="Write this run's JSON report here (atomically)."),
    ] = None,
) -> None:
    """Score retrieval, review and answers on evals/; gate on [tool.bepro.eval] thresholds."""
    from bepro.catalogue.load import load_catalogue
    from bepro.config import load_settings, resolve_paths
    from bepro.evals import gates, report
    from bepro.evals.runner import EvalContext, run_suites, selected_suites

    settings = load_settings()
    names = selected_suites(suite.value, llm)
    saved = gates.load_baseline(baseline) if baseline is not None else None
    paths = resolve_paths(settings)
    result = run_suites(names, EvalContext(load_catalogue(paths.skill), paths), llm=llm)
    result.checks = gates.check_thresholds(result, settings.eval)
    if saved is not None:
        result.baseline_file = str(baseline)
        result.tolerance = settings.eval.tolerance
        result.regressions = gates.compare(result, saved, settings.eval.tolerance)
    if save_baseline is not None:
        gates.save_report(report.render_json(result), save_baseline)
    _print(result, output)
    if not result.passed:
        raise typer.Exit(EXIT_GATE_FAILED)


def _print(result: EvalReport, output: EvalFormat) -> None:
    from bepro.evals import report

    if output is EvalFormat.json:
        sys.stdout.write(report.render_json(result))
    elif output is EvalFormat.markdown:
        sys.stdout.write(report.render_markdown(result))
    elif output is EvalFormat.html:
        sys.stdout.write(report.render_html(result))
    else:
        from rich.console import Console

        report.render_text(result, Console(width=max(120, Console().width)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (heavy imports stay inside the commands)."""
    app.command("eval")(eval_command)
