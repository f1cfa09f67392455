"""`bepro review`: rule-grounded static review, registered on the main typer app by surfaces/cli.py."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

EXIT_FINDINGS = 1


class ReviewFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def _terms(raw: str | None) -> list[str]:
    """A comma-separated flag's terms; none when the flag is absent ([tool.bepro.review] then)."""
    return [term.strip() for term in raw.split(",") if term.strip()] if raw else []


def review_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or directories to review (.gitignore is respected).")
    ],
    output: Annotated[
        ReviewFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReviewFormat.text,
    select: Annotated[
        str | None,
        typer.Option(
            help="Only these rule ids or codes, comma-separated (timeouts, bepro:random-id, S113, "
            "DTZ)."
        ),
    ] = None,
    ignore: Annotated[
        str | None, typer.Option(help="Skip these rule ids or codes, comma-separated.")
    ] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Also report codes outside the default selection (noisier)."
        ),
    ] = False,
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
    exclude: Annotated[
        str | None,
        typer.Option(
            help="Skip files matching these globs, comma-separated (gitignore style: tests/**)."
        ),
    ] = None,
    allow_unparsed: Annotated[
        bool,
        typer.Option(
            "--allow-unparsed",
            help="Exit 0 even when a file could not be parsed (it is still listed).",
        ),
    ] = False,
    all_roles: Annotated[
        bool,
        typer.Option(
            "--all-roles",
            help="Also report findings in tests, migrations, scripts, examples and vendored "
            "code (each finding names its file's role).",
        ),
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Report only findings not in this saved `--format json` report (adopt bepro on "
            "an existing code base)."
        ),
    ] = None,
    diff: Annotated[
        str | None,
        typer.Option(
            help="Report only findings on lines changed since this git ref (origin/main)."
        ),
    ] = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Print the count of findings per code instead.")
    ] = False,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Parse every file again instead of reusing .bepro_cache/ (results of files "
            "unchanged since the last review).",
        ),
    ] = False,
) -> None:
    """Review Python code against the rules; findings cite rule ids, highest priority first."""
    from bepro.review import adoption
    from bepro.review import output as render
    from bepro.surfaces.cli import open_pack

    pack = open_pack()  # warnings about unknown terms go to stderr as `bepro: warning: ...`
    catalogue = pack.catalogue
    result = pack.review(
        paths,
        select=_terms(select),
        ignore=_terms(ignore),
        exclude=_terms(exclude),
        preview=preview,
        min_priority=min_priority,
        use_ruff=not no_ruff,
        all_roles=all_roles,
        cache=not no_cache,
    )
    if baseline is not None:
        result = adoption.without_baseline(result, baseline)
    if diff is not None:
        result = adoption.on_changed_lines(result, diff)
    if statistics:
        typer.echo(render.statistics(result, output is ReviewFormat.json), nl=False)
    elif output is ReviewFormat.json:
        typer.echo(render.to_json(result), nl=False)
    elif output is ReviewFormat.sarif:
        typer.echo(render.to_sarif(result, catalogue))
    elif output is ReviewFormat.github:
        typer.echo(render.to_github(result), nl=False)
    else:
        typer.echo(render.to_text(result, catalogue), nl=False)
    threshold = fail_on if fail_on is not None else pack.settings.review.fail_on
    if any(finding.priority <= threshold for finding in result.findings):
        raise typer.Exit(EXIT_FINDINGS)
    if result.unreviewed and not allow_unparsed:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    """Add `review` to the app (heavy imports stay inside the command)."""
    app.command("review")(review_command)
