"""`bepro serve` and `bepro chat`: registered on the main typer app by surfaces/cli.py."""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_PACE_S = 0.03


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (stateless; each opens the index).")
    ] = 1,
) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) plus /v1/ask and
    /v1/review; logs JSON lines on stderr. Beyond loopback it needs BEPRO_API_TOKEN. Ctrl-C
    stops it after in-flight requests finish."""
    from bepro.pack import Pack
    from bepro.surfaces.access import api_token, check_exposure
    from bepro.surfaces.server import listen, serve

    check_exposure(host, api_token())
    Pack.open()  # a broken SKILL.md or [tool.bepro] is a one-line error before binding
    sock = listen(host, port)
    typer.echo(
        f"bepro: serving on http://{host}:{port}/v1 (OpenAI-compatible; Ctrl-C stops it)", err=True
    )
    serve(sock, workers)


def chat_command(
    action: Annotated[
        str | None, typer.Option("--action", "-a", help="Start with this action (default: auto).")
    ] = None,
    pace: Annotated[
        float,
        typer.Option(
            min=0, max=2, help="Seconds between paragraphs of an answer; 0 prints at once."
        ),
    ] = DEFAULT_PACE_S,
) -> None:
    """Chat in the terminal: ask questions, attach code with /file, /help lists the commands."""
    from bepro.surfaces.chat import run_chat
    from bepro.surfaces.cli import open_pack

    raise typer.Exit(run_chat(open_pack(), action=action, pace=pace))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (heavy imports stay inside the commands)."""
    app.command("serve")(serve_command)
    app.command("chat")(chat_command)
