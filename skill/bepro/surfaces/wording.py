"""How a BeproError is worded on each surface: the one place that decides it.

A hint is advice for whoever runs bepro (a flag, an environment variable, a command). The command
line and the terminal chat show it. An MCP tool's caller is a model that can change its
arguments, never the server's configuration: it sees the hints about its input only. An HTTP API
client sees the message alone (it cannot set the server's environment either); the server's log
keeps the hint for its operator.
"""

from __future__ import annotations

from typing import Literal

from bepro.errors import (
    BeproError,
    CatalogueError,
    ConfigError,
    IndexUnavailableError,
    KnowledgeError,
    ModelError,
    UnknownRuleError,
)

Surface = Literal["cli", "chat", "mcp", "api"]
RULES_URI = "bepro://rules"  # the MCP resource that lists the rules
# Errors only the operator can cure: their hints are about the server's setup.
OPERATOR_ERRORS = (CatalogueError, ConfigError, IndexUnavailableError, KnowledgeError, ModelError)


def error_text(error: BeproError, surface: Surface) -> str:
    """The error as `surface` shows it to its user."""
    if surface == "api":
        return error.message
    if surface == "chat":
        return f"{error.message}; {error.hint}" if error.hint else error.message
    if surface == "mcp":
        return f"error[{error.code}]: {error.message}{_mcp_hint(error)}"
    return error.one_line()


def _mcp_hint(error: BeproError) -> str:
    if isinstance(error, OPERATOR_ERRORS):
        return ""
    if isinstance(error, UnknownRuleError) and not error.suggestions:
        return f" (read {RULES_URI} for them)"  # not the CLI's `bepro rules`
    return f" ({error.hint})" if error.hint else ""
