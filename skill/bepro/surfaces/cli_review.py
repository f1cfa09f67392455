"""`bepro review`: rule-grounded static review, registered on the main typer app by surfaces/cli.py."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReviewFlags:
    """What the command line says, before `[tool.bepro.review]` fills the gaps."""

    select: str | None = None
    ignore: str | None = None
    exclude: str | None = None
    min_priority: int | None = None
    no_ruff: bool = False
    preview: bool = False
    all_roles: bool = False


def build_options(
    settings: ReviewSettings, catalogue: Catalogue, flags: ReviewFlags
) -> tuple[ReviewOptions, list[str]]:
    """The review's options from the flags over `[tool.bepro.review]`, and a warning per term that
    names no rule id or code (a typo must not silently turn a check off)."""
    from bepro.review.engine import ReviewOptions
    from bepro.review.registry import code_table
    from bepro.review.roles import parse_role
    from bepro.review.selection import enabled_codes, resolve, unknown_warning

    enabled, warnings = enabled_codes(
        _terms(flags.select, settings.select),
        _terms(flags.ignore, settings.ignore),
        catalogue,
        flags.preview or settings.preview,
    )
    table = code_table()
    per_file: dict[str, frozenset[str]] = {}
    for pattern, terms in settings.per_file_ignores.items():
        resolved = resolve(terms, catalogue, True, table)
        flag = f"per-file-ignores[{pattern!r}]"
        warnings += [unknown_warning(flag, term, catalogue, table) for term in resolved.unknown]
        per_file[pattern] = resolved.sources
    try:
        roles = {pattern: parse_role(role) for pattern, role in settings.roles.items()}
    except ValueError as exc:
        raise UsageError(f"[tool.bepro.review] roles: {exc}", "fix pyproject.toml") from exc
    options = ReviewOptions(
        enabled=enabled,
        min_priority=settings.min_priority if flags.min_priority is None else flags.min_priority,
        per_file_ignores=per_file,
        role_overrides=roles,
        exclude=(*settings.exclude, *settings.extend_exclude, *_terms(flags.exclude, [])),
        use_ruff=not flags.no_ruff,
        all_roles=flags.all_roles,
    )
    return options, warnings


def _terms(raw: str | None, configured: list[str]) -> list[str]:
    terms = raw.split(",") if raw else configured
    return [term.strip() for term in terms if term.strip()]


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
            help="Also report findings in tests, migrations, scripts and examples (each finding "
            "names its file's role).",
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
) -> None:
    """Review Python code against the rules; findings cite rule ids, highest priority first."""
    from bepro.catalogue.parse import load_catalogue
    from bepro.config import load_settings, resolve_paths
    from bepro.review import adoption
    from bepro.review import output as render
    from bepro.review.engine import review_files

    missing = [path for path in paths if not path.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {missing[0]}", "check the paths you passed")
    settings = load_settings()
    catalogue = load_catalogue(resolve_paths(settings).skill)
    flags = ReviewFlags(select, ignore, exclude, min_priority, no_ruff, preview, all_roles)
    options, warnings = build_options(settings.review, catalogue, flags)
    for warning in warnings:
        typer.echo(f"bepro: warning: {warning}", err=True)
    result = review_files(paths, catalogue, options)
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
    threshold = fail_on if fail_on is not None else settings.review.fail_on
    if any(finding.priority <= threshold for finding in result.findings):
        raise typer.Exit(EXIT_FINDINGS)
    if result.unreviewed and not allow_unparsed:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    """Add `review` to the app (heavy imports stay inside the command)."""
    app.command("review")(review_command)
