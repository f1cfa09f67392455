"""`bepro review`: rule-grounded static review, registered on the main typer app by surfaces/cli.py."""

from __future__ import annotations

import difflib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bepro.errors import UsageError

if TYPE_CHECKING:
    from bepro.catalogue.model import Catalogue
    from bepro.config import ReviewSettings
    from bepro.review.engine import ReviewOptions

EXIT_FINDINGS = 1


class ReviewFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def _rule_ids(
    raw: str | None, configured: list[str], catalogue: Catalogue, flag: str
) -> frozenset[str]:
    ids = [part.strip() for part in raw.split(",")] if raw else list(configured)
    for rule_id in ids:
        if rule_id and catalogue.rule(rule_id) is None:
            close = difflib.get_close_matches(rule_id, catalogue.rule_ids, n=3, cutoff=0.5)
            hint = (
                f"did you mean: {', '.join(close)}?"
                if close
                else "run `bepro rules` to list the ids"
            )
            raise UsageError(f"{flag}: unknown rule id {rule_id!r}", hint)
    return frozenset(rule_id for rule_id in ids if rule_id)


def build_options(
    settings: ReviewSettings,
    catalogue: Catalogue,
    select: str | None,
    ignore: str | None,
    min_priority: int | None,
    no_ruff: bool,
) -> ReviewOptions:
    from bepro.review.engine import ReviewOptions

    per_file = {
        pattern: _rule_ids(",".join(ids), [], catalogue, f"per-file-ignores[{pattern!r}]")
        for pattern, ids in settings.per_file_ignores.items()
    }
    return ReviewOptions(
        select=_rule_ids(select, settings.select, catalogue, "--select"),
        ignore=_rule_ids(ignore, settings.ignore, catalogue, "--ignore"),
        min_priority=min_priority if min_priority is not None else settings.min_priority,
        per_file_ignores=per_file,
        use_ruff=not no_ruff,
    )


def review_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or directories to review (.gitignore is respected).")
    ],
    output: Annotated[
        ReviewFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReviewFormat.text,
    select: Annotated[
        str | None, typer.Option(help="Only these rule ids, comma-separated.")
    ] = None,
    ignore: Annotated[
        str | None, typer.Option(help="Skip these rule ids, comma-separated.")
    ] = None,
    min_priority: Annotated[
        int | None,
        typer.Option("--min-priority", min=1, max=8, help="Report priorities 1..N only."),
    ] = None,
    fail_on: Annotated[
        int | None,
        typer.Option("--fail-on", min=1, max=8, help="Exit 1 if a finding has priority <= N."),
    ] = None,
    no_ruff: Annotated[
        bool, typer.Option("--no-ruff", help="Run only bepro's own detectors.")
    ] = False,
) -> None:
    """Review Python code against the rules; findings cite rule ids, highest priority first."""
    from bepro.catalogue.parse import load_catalogue
    from bepro.config import load_settings, resolve_paths
    from bepro.review import output as render
    from bepro.review.engine import review_files

    missing = [path for path in paths if not path.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {missing[0]}", "check the paths you passed")
    settings = load_settings()
    catalogue = load_catalogue(resolve_paths(settings).skill)
    options = build_options(settings.review, catalogue, select, ignore, min_priority, no_ruff)
    result = review_files(paths, catalogue, options)
    if output is ReviewFormat.json:
        typer.echo(render.to_json(result), nl=False)
    elif output is ReviewFormat.sarif:
        typer.echo(render.to_sarif(result, catalogue))
    elif output is ReviewFormat.github:
        typer.echo(render.to_github(result), nl=False)
    else:
        typer.echo(render.to_text(result, catalogue), nl=False)
    threshold = fail_on if fail_on is not None else settings.review.fail_on
    if any(finding.priority <= threshold for finding in result.findings):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    """Add `review` to the app (heavy imports stay inside the command)."""
    app.command("review")(review_command)
