"""`bepro install`, `bepro uninstall` and `bepro mcp`: registered on the main typer app by
surfaces/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bepro.surfaces.install import Agent, Scope


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (heavy imports stay inside the commands)."""
    app.command("install")(install_command)
    app.command("uninstall")(uninstall_command)
    app.command("mcp")(mcp_command)


AgentOption = Annotated[
    Agent,
    typer.Option(
        "--agent",
        help="The coding agent: claude, codex, copilot (and VS Code), cursor, gemini or opencode.",
    ),
]
ScopeOption = Annotated[
    Scope,
    typer.Option("--scope", help="project: the current directory; user: your home folder."),
]


def _skill_target(agent: Agent, scope: Scope) -> tuple[Path, str, Path]:
    """The pack, the skill's name and the folder this agent reads it from."""
    from bepro.catalogue.load import load_catalogue
    from bepro.config import pack_root
    from bepro.surfaces.install import skill_dir

    pack = pack_root()
    name = load_catalogue(pack / "SKILL.md").meta.name
    return pack, name, skill_dir(agent, scope, Path.cwd(), Path.home(), name)


def install_command(
    agent: AgentOption,
    scope: ScopeOption = Scope.project,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a skill of the same name that bepro did not install, and overwrite "
            "files you edited in bepro's.",
        ),
    ] = False,
) -> None:
    """Install the skill (SKILL.md and references/) where a coding agent looks for skills.
    Files you added to the installed folder are kept; files you edited are listed and left
    alone unless you pass --force."""
    from bepro.surfaces.install import apply_install, describe, plan_install

    pack, name, target = _skill_target(agent, scope)
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
    kept = sum(status == "keep" for status in plan.changes.values())
    note = f"; kept {kept} files you added" if kept else ""
    typer.echo(f"{done} {where} ({plan.changed} of {len(plan.files)} files changed{note})")


def uninstall_command(
    agent: AgentOption,
    scope: ScopeOption = Scope.project,
    force: Annotated[
        bool,
        typer.Option("--force", help="Remove it even with files you added or edited in it."),
    ] = False,
) -> None:
    """Remove the skill bepro installed for a coding agent. A folder with files you added or
    edited is left alone (they are listed) unless you pass --force."""
    from bepro.surfaces.install import uninstall

    _, name, target = _skill_target(agent, scope)
    uninstall(target, force=force)
    typer.echo(f"removed {name} for {agent.value} ({scope.value} scope) from {target}")


def mcp_command() -> None:
    """Serve the tools and rules over MCP on stdio (point your MCP client at `bepro mcp`)."""
    from bepro.surfaces.mcp import serve

    serve()
