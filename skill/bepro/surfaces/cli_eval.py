"""`bepro eval`: registered on the main typer app by surfaces/cli.py."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (heavy imports stay inside the commands)."""
