"""bepro: principal-level backend engineering guidance for Python, as a skill pack and a CLI.

The Python API is `bepro.Pack` (see bepro/pack.py) and the typed results it returns. They are
imported on first use, so `import bepro` stays cheap (the CLI's light commands rely on it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from bepro.agent.answer import Outcome
    from bepro.agent.ask import AskResult, CitationOut, FixOut
    from bepro.errors import BeproError, UnknownActionError, UnknownRuleError, UsageError
    from bepro.fix.engine import FixReport
    from bepro.pack import LLMChoice, Pack, RuleDoc, SearchHit, SearchResult
    from bepro.review.finding import FileIssue, Finding, ReviewResult

# name -> the module that defines it
_EXPORTS = {
    "Pack": "bepro.pack",
    "LLMChoice": "bepro.pack",
    "RuleDoc": "bepro.pack",
    "SearchHit": "bepro.pack",
    "SearchResult": "bepro.pack",
    "AskResult": "bepro.agent.ask",
    "CitationOut": "bepro.agent.ask",
    "FixOut": "bepro.agent.ask",
    "Outcome": "bepro.agent.answer",
    "ReviewResult": "bepro.review.finding",
    "Finding": "bepro.review.finding",
    "FileIssue": "bepro.review.finding",
    "FixReport": "bepro.fix.engine",
    "BeproError": "bepro.errors",
    "UsageError": "bepro.errors",
    "UnknownRuleError": "bepro.errors",
    "UnknownActionError": "bepro.errors",
}

__all__ = [
    "AskResult",
    "BeproError",
    "CitationOut",
    "FileIssue",
    "Finding",
    "FixOut",
    "FixReport",
    "LLMChoice",
    "Outcome",
    "Pack",
    "ReviewResult",
    "RuleDoc",
    "SearchHit",
    "SearchResult",
    "UnknownActionError",
    "UnknownRuleError",
    "UsageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bepro' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
