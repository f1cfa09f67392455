"""`bepro fix`: validated rewrites for review findings, registered on the main app by surfaces/cli.py.

Text output keeps stdout a patch (`bepro fix src > fix.patch`); what happened to each finding, and
the summary, go to stderr. Exit codes: 0 nothing left to fix, 1 findings remain unfixed, 2 usage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bepro.errors import UnknownRuleError, UsageError

if TYPE_CHECKING:
    from bepro.fix.engine import FixReport

EXIT_UNFIXED = 1


class FixFormat(StrEnum):
    text = "text"
    json = "json"


def fix_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or directories to fix (.gitignore is respected)."),
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", help="Only findings of these rule ids, comma-separated.")
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff (the default).")
    ] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the fixes (atomically), keeping an undo copy.")
    ] = False,
    undo: Annotated[
        bool, typer.Option("--undo", help="Restore the files changed by the last --apply.")
    ] = False,
    llm: Annotated[
        bool, typer.Option("--llm", help="Ask the configured LLM for rewrites codemods cannot do.")
    ] = False,
    test_cmd: Annotated[
        str | None,
        typer.Option(
            "--test-cmd",
            help='A command that must pass with the rewrites, e.g. "pytest -q": run once per '
            "file, and rewrite by rewrite only when that run fails.",
        ),
    ] = None,
    test_timeout: Annotated[
        float, typer.Option("--test-timeout", min=1, help="Seconds the test command may take.")
    ] = 300.0,
    unsafe_fixes: Annotated[
        bool,
        typer.Option(
            "--unsafe-fixes",
            help="Also rewrites that change behaviour a reviewer must see (a secret read from "
            "the environment, TLS verification turned on, a bounded queue); their diffs say so.",
        ),
    ] = False,
    output: Annotated[
        FixFormat, typer.Option("--format", "-f", help="Output format.")
    ] = FixFormat.text,
) -> None:
    """Propose (or apply) rewrites for review findings; each is validated before it is shown."""
    if undo:
        _undo(paths, apply or diff or llm or unsafe_fixes or test_cmd is not None)
        return
    if not paths:
        raise UsageError("no paths given", "e.g. bepro fix src/ (or bepro fix --undo)")
    if diff and apply:
        raise UsageError("--diff and --apply exclude each other", "--diff shows, --apply writes")
    report = _run(paths, rule, _Choices(apply, llm, unsafe_fixes), test_cmd, test_timeout)
    if output is FixFormat.json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_text(report, apply)
    if report.unfixed:
        raise typer.Exit(EXIT_UNFIXED)


@dataclass(frozen=True)
class _Choices:
    apply: bool
    llm: bool
    unsafe_fixes: bool


def _run(
    paths: list[Path],
    rule: str | None,
    choices: _Choices,
    test_cmd: str | None,
    test_timeout: float,
) -> FixReport:
    from bepro.surfaces.cli import open_pack

    pack = open_pack()  # "no LLM configured" goes to stderr as a notice
    rules = [part.strip() for part in rule.split(",")] if rule else []
    try:
        return pack.fix(
            paths,
            rules=rules,
            apply=choices.apply,
            llm=choices.llm,
            test_command=test_cmd,
            test_timeout=test_timeout,
            cwd=Path.cwd(),
            unsafe_fixes=choices.unsafe_fixes,
        )
    except UnknownRuleError as error:
        raise UsageError(f"--rule: {error.message}", error.hint) from error


def _undo(paths: list[Path] | None, other_flags: bool) -> None:
    from bepro.fix.store import UNDO_DIR, undo_last

    if paths or other_flags:
        raise UsageError("--undo takes no paths or other flags", "run `bepro fix --undo` alone")
    result = undo_last(Path.cwd() / UNDO_DIR)
    for path in result.restored:
        typer.echo(f"restored {path}")
    for path in result.changed_since:
        typer.echo(
            f"bepro: {path} changed after the fix was applied; not restored (copy in {result.folder})",
            err=True,
        )
    if result.changed_since:
        raise typer.Exit(EXIT_UNFIXED)


def _print_text(report: FixReport, applied: bool) -> None:
    if not applied:
        for text in report.diffs.values():
            typer.echo(text, nl=False)
    for outcome in report.outcomes:
        finding = outcome.finding
        by = f" by {outcome.origin}" if outcome.origin else ""
        by += "" if outcome.safe else " (UNSAFE: changes behaviour, review it)"
        typer.echo(
            f"{outcome.path}:{finding.line}:{finding.column}: {finding.rule_id} ({finding.source}) "
            f"{outcome.status}{by}: {outcome.reason}",
            err=True,
        )
    for line in [*report.refused, *report.issues]:
        typer.echo(f"bepro: not fixed: {line}", err=True)
    summary = report.summary()
    fixed = summary["applied"] if applied else summary["proposed"]
    verb = "applied" if applied else "proposed"
    typer.echo(
        f"{summary['findings']} findings: {fixed} fixes {verb}, {summary['rejected']} rejected, "
        f"{summary['skipped']} without a rewrite",
        err=True,
    )
    if report.undo_folder is not None:
        typer.echo(
            f"bepro: undo with `bepro fix --undo` (copies in {report.undo_folder})", err=True
        )


def register(app: typer.Typer) -> None:
    """Add `fix` to the app (heavy imports stay inside the command)."""
    app.command("fix")(fix_command)
