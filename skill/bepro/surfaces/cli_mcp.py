"""`bepro install` and `bepro mcp`: registered on the main typer app by surfaces/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bepro.surfaces.install import Agent, Scope


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (heavy imports stay inside the commands)."""
    app.command("install")(install_command)
    app.command("mcp")(mcp_command)


def install_command(
    agent: Annotated[
        Agent, typer.Option("--agent", help="The coding agent: claude, codex or cursor.")
    ],
    scope: Annotated[
        Scope,
        typer.Option("--scope", help="project: the current directory; user: your home folder."),
    ] = Scope.project,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a skill of the same name that bepro did not install."
        ),
    ] = False,
) -> None:
    """Install the skill (SKILL.md and references/) where a coding agent looks for skills."""
    from bepro.catalogue.parse import load_catalogue
    from bepro.config import pack_root
    from bepro.surfaces.install import apply_install, describe, plan_install, skill_dir

    pack = pack_root()
    name = load_catalogue(pack / "SKILL.md").meta.name
    target = skill_dir(agent, scope, Path.cwd(), Path.home(), name)
    plan = plan_install(pack, name, target, force=force)
    where = f"{name} for {agent.value} ({scope.value} scope) in {target}"
    if not plan.changed:
        typer.echo(f"already up to date: {where}")
        return
    verb, done = ("update", "updated") if target.exists() else ("install", "installed")
    if dry_run:
        typer.echo(f"would {verb} {where}:")
        typer.echo("\n".join(describe(plan)))
        typer.echo(
            f"dry run: {plan.changed} of {len(plan.files)} files would change; nothing was written"
        )
        return
    apply_install(plan)
    typer.echo(f"{done} {where} ({plan.changed} of {len(plan.files)} files changed)")


def mcp_command() -> None:
    """Serve the tools and rules over MCP on stdio (point your MCP client at `bepro mcp`)."""
    from bepro.surfaces.mcp import serve

    serve()
