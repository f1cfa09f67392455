"""Optional parts of bepro and the pip extras that install them.

The offline core (ask, review, fix, serve, mcp, chat) is the default install. Only the LLM upgrade
is an extra: openai and langchain-core pull in 14 distributions and 44 MB that no offline command
uses (bench/install_weight.py; only 1.8 MB is the MCP SDK's own and 0.9 MB FastAPI's, beyond what
chromadb already brings: too little to be worth an extra).

EXTRAS mirrors [project.optional-dependencies] in pyproject.toml; a test keeps them in step.
"""

from __future__ import annotations

from importlib.util import find_spec

from bepro.errors import MissingExtraError

# extra -> (what it enables, the modules it provides)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "llm": ("answers and rewrites by an LLM", ("openai", "langchain_core")),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here (found without importing them)."""
    return [module for module in EXTRAS[extra][1] if find_spec(module) is None]


def require(extra: str) -> None:
    """Raise MissingExtraError, naming the pip command, when `extra` is not installed."""
    missing = missing_modules(extra)
    if missing:
        purpose = EXTRAS[extra][0]
        raise MissingExtraError(
            f"{purpose} need the '{extra}' extra ({', '.join(missing)} not installed)",
            f"pip install 'bepro[{extra}]'",
        )
