"""Errors that reach a user, each with a stable code and a hint that says what to do.

    BeproError                  base: code, message, hint; the CLI prints it on one line, exit 2
    +-- UsageError              bad arguments or input (empty question, unknown action, missing file)
    |   +-- UnknownNameError    a name the pack does not have; `suggestions` holds the close ones
    |       +-- UnknownRuleError    a rule id or review code (`bepro rules timeoutz`)
    |       +-- UnknownActionError  an action (`--action deploy`)
    +-- ConfigError             invalid [tool.bepro] settings or environment
    +-- CatalogueError          SKILL.md is missing or malformed (names the line)
    +-- KnowledgeError          a reference file is malformed (names the file and line)
    +-- IndexUnavailableError   the vector index cannot be opened, built or read
    +-- ModelError              the embedding model is missing or fails its checksum
    +-- MissingExtraError       an optional part (the LLM upgrade) is used but not installed

Anything else escaping a command is a bug, and the CLI says so with a short report.
"""

from __future__ import annotations


class BeproError(Exception):
    """A user-facing failure with a stable code, a message and a hint."""

    code = "BEPRO000"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and hint on a single line, as the CLI prints it."""
        text = f"error[{self.code}]: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(BeproError):
    code = "BEPRO001"


class UnknownNameError(UsageError):
    """A name the pack does not know; `suggestions` are the close ones (the hint says them)."""

    def __init__(self, message: str, hint: str = "", suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.suggestions = suggestions


class UnknownRuleError(UnknownNameError):
    pass


class UnknownActionError(UnknownNameError):
    pass


class ConfigError(BeproError):
    code = "BEPRO002"


class CatalogueError(BeproError):
    code = "BEPRO003"


class KnowledgeError(BeproError):
    code = "BEPRO004"


class IndexUnavailableError(BeproError):
    code = "BEPRO005"


class ModelError(BeproError):
    code = "BEPRO006"


class MissingExtraError(BeproError):
    code = "BEPRO009"
