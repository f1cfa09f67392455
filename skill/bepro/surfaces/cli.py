"""The `bepro` command line. Heavy modules are imported inside the commands that need them."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.exceptions import TyperException

from bepro import __version__
from bepro.errors import BeproError, UsageError
from bepro.surfaces import cli_eval, cli_fix, cli_mcp, cli_review, cli_serve
from bepro.surfaces.wording import error_text

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bepro.catalogue.model import Catalogue, Rule
    from bepro.pack import Pack

EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_LLM_FAILED = 1

app = typer.Typer(
    name="bepro",
    help="Principal-level guidance for Python backend systems: rules, retrieval and answers, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
index_app = typer.Typer(help="Build or inspect the retrieval index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class AskFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]


class CliReporter:
    """Notices and a progress bar on stderr, so stdout stays clean for --format json."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def notice(self, message: str) -> None:
        typer.echo(f"bepro: {message}", err=True)

    def progress(self, done: int, total: int) -> None:
        from rich.console import Console
        from rich.progress import Progress

        if self._progress is None:
            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task("embedding chunks", total=total)
        assert self._task is not None  # noqa: S101 - set together with _progress
        self._progress.update(self._task, completed=done)
        if done >= total:
            self._progress.stop()
            self._progress = None


def open_pack() -> Pack:
    """The pack, with index notices and progress on stderr (shared by every command)."""
    from bepro.pack import Pack

    return Pack.open(reporter=CliReporter())


def _print_markdown(text: str) -> None:
    """Rendered on a terminal, the markdown itself when piped. rich, 70 ms to import, is loaded
    only when the output may be a terminal (a tty, or rich's FORCE_COLOR / TTY_INTERACTIVE)."""
    if not (sys.stdout.isatty() or any(map(os.environ.get, ("FORCE_COLOR", "TTY_INTERACTIVE")))):
        sys.stdout.write(text)
        return
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    if console.is_terminal:
        console.print(Markdown(text))
    else:
        sys.stdout.write(text)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"bepro {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress as JSON on stderr.")
    ] = False,
    chroma_url: Annotated[
        str | None,
        typer.Option(
            "--chroma-url",
            metavar="URL",
            help="Keep the vectors on a Chroma server (http://HOST:PORT); sets BEPRO_CHROMA_URL.",
        ),
    ] = None,
) -> None:
    from bepro import logs

    logs.configure(verbose)
    if chroma_url is not None:
        os.environ["BEPRO_CHROMA_URL"] = chroma_url  # read by config.resolve_paths


@app.command("rules")
def rules_command(
    rule_id: Annotated[
        str | None,
        typer.Argument(
            help="A rule id (timeouts) or a review code (bepro:random-id, S113). Omit to list all."
        ),
    ] = None,
    output: FormatOption = TextOrJson.text,
) -> None:
    """List the rules in priority order, or show one rule with its reference, or explain a review
    code: what it flags, why, where it applies and how to suppress it."""
    pack = open_pack()
    if rule_id is None:
        _list_rules(pack.catalogue, output)
        return
    doc = pack.rule(rule_id, codes=output is TextOrJson.text)  # JSON is for rule ids only
    if doc.explanation is not None:
        _print_markdown(doc.explanation)
    elif output is TextOrJson.json:
        typer.echo(json.dumps(doc.model_dump(exclude={"code", "explanation"}), indent=2))
    else:
        header = f"# {doc.id}: {doc.summary}\n\n{doc.category} · priority {doc.priority} · {doc.severity}\n\n"
        _print_markdown(header + (doc.reference_text or f"(no reference yet: {doc.reference})\n"))


def _rule_json(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "category": rule.category,
        "priority": rule.priority,
        "severity": rule.severity,
        "summary": rule.summary,
        "reference": rule.reference_path,
    }


def _list_rules(catalogue: Catalogue, output: TextOrJson) -> None:
    if output is TextOrJson.json:
        typer.echo(json.dumps([_rule_json(rule) for rule in catalogue.rules], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "priority", "category", "severity", "summary", box=None)
    for rule in catalogue.rules:
        table.add_row(rule.id, str(rule.priority), rule.category, rule.severity, rule.summary)
    Console(width=max(120, Console().width)).print(table)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    action: Annotated[
        str | None, typer.Option("--action", "-a", help="Weigh results for an action.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="How many hits.")] = 5,
    output: FormatOption = TextOrJson.text,
) -> None:
    """Search the knowledge base; prints the best passages with their rule and source."""
    found = open_pack().search(query, action=action, top_k=top_k)
    if found.degraded:
        typer.echo(f"bepro: {found.degraded}", err=True)
    hits = found.hits
    payload = [hit.model_dump() for hit in hits]
    if output is TextOrJson.json:
        typer.echo(json.dumps(payload, indent=2))
        if not hits:
            typer.echo("bepro: nothing in the pack matches that query", err=True)
        return
    if not hits:
        typer.echo("Nothing in the pack matches that query.")
        return
    for number, item in enumerate(payload, start=1):
        rule = f"[{item['rule_id']}] " if item["rule_id"] else ""
        typer.echo(f"{number}. {rule}{item['source']} - {item['heading']}  (score {item['score']})")
        snippet = " ".join(str(item["text"]).split())[:240]
        typer.echo(f"   {snippet}\n")


@app.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    action: Annotated[
        str | None,
        typer.Option(
            "--action",
            "-a",
            help="plan, design, build, implement, review, fix, optimize, refactor, debug, secure or scale; inferred when omitted.",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A code file to ask about; - reads it from standard input."),
    ] = None,
    output: Annotated[
        AskFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AskFormat.text,
    llm: Annotated[
        bool | None,
        typer.Option(
            "--llm/--offline",
            help="Force the LLM or the offline engine (default: LLM when configured).",
        ),
    ] = None,
    no_fallback: Annotated[
        bool,
        typer.Option(
            "--no-fallback", help="Exit 1 instead of answering offline when the LLM fails."
        ),
    ] = False,
) -> None:
    """Answer a question with the rules that apply, in priority order, with citations."""
    from bepro.agent.answer import NOT_CONFIGURED

    emit = _stdout_writer if output is AskFormat.text else None
    code = _read_stdin_code() if file == STDIN else None
    outcome = open_pack().answer(
        question,
        action=action,
        code=code,
        filename=STDIN_FILENAME if code is not None else None,
        file=None if code is not None else file,
        llm="auto" if llm is None else (True if llm else None),  # --llm requires one
        stream=emit,
    )
    result = outcome.result
    if outcome.notice and (outcome.notice != NOT_CONFIGURED or _first_time("offline-notice")):
        typer.echo(f"bepro: {outcome.notice}", err=True)
    if outcome.result.degraded:
        typer.echo(f"bepro: {outcome.result.degraded}", err=True)
    if outcome.llm_failed and no_fallback:
        raise typer.Exit(EXIT_LLM_FAILED)
    if output is AskFormat.json:
        typer.echo(result.model_dump_json(indent=2, exclude_none=True))
    elif output is AskFormat.markdown:
        sys.stdout.write(result.answer)
    elif result.mode == "llm":  # already streamed; add where the citations come from
        sys.stdout.write(
            "\nSources:\n"
            + "".join(f"- [{c.rule_id}] {c.source} - {c.heading}\n" for c in result.citations)
        )
    else:
        _print_markdown(result.answer)


STDIN = Path("-")
STDIN_FILENAME = "stdin.py"


def _read_stdin_code() -> str:
    """The code piped to `--file -`; the review that follows checks its size."""
    if sys.stdin.isatty():
        raise UsageError("--file - reads code from standard input", "pipe a file into bepro ask")
    return sys.stdin.read()


def _stdout_writer(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _first_time(name: str) -> bool:
    """True once per user: for notices that would be noise if shown on every command."""
    from platformdirs import user_state_dir

    marker = Path(user_state_dir("bepro")) / name
    if marker.exists():
        return False
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        return True
    return True


@index_app.command("build")
def index_build(
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when the index is current.")
    ] = False,
) -> None:
    """Build the index now (it is also built on first use and when the pack changes)."""
    from bepro.retrieval.search import build_index

    pack = open_pack()
    count = build_index(pack.paths, pack.catalogue, pack.reporter, force=force)
    typer.echo(f"index ready: {count} chunks in {pack.paths.index}")


@index_app.command("status")
def index_status(output: FormatOption = TextOrJson.text) -> None:
    """Report whether the index is missing, stale, corrupt or ready (exit 1 unless ready)."""
    from bepro.retrieval.search import index_state

    state = index_state(open_pack().paths)
    if output is TextOrJson.json:
        typer.echo(
            json.dumps(
                {"state": state.state, "detail": state.detail, "manifest": state.manifest}, indent=2
            )
        )
    else:
        typer.echo(f"{state.state}: {state.detail}")
    if state.state != "ready":
        raise typer.Exit(1)


# Each surface module adds its own commands; keep their heavy imports inside the commands.
cli_review.register(app)
cli_fix.register(app)
cli_eval.register(app)
cli_mcp.register(app)
cli_serve.register(app)


def main() -> None:
    """Entry point: user mistakes become one line and exit 2; bugs say so and exit 3."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    try:
        # Without standalone mode, click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except BeproError as error:
        typer.echo(error_text(error, "cli"), err=True)
        sys.exit(EXIT_USAGE)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except TyperException as error:  # bad flags or values: click's message, with usage
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {error.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as error:  # the last line of defence: no traceback for users
        if os.environ.get("BEPRO_DEBUG"):
            raise
        typer.echo(
            f"bepro: internal error ({type(error).__name__}: {error}); rerun with BEPRO_DEBUG=1 "
            "for a traceback and report it",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
