"""`bepro rules CODE`: what a detector code flags and why, from the same table that drives
selection and suppression (registry.py). Ruff's codes are explained by `ruff rule CODE`."""

from __future__ import annotations

import inspect
import subprocess

from bepro.catalogue.model import Catalogue
from bepro.review import ruff_adapter
from bepro.review.registry import REWRITES, Rewrite, code_table, load_detectors
from bepro.review.selection import codes_named


def explain(term: str, catalogue: Catalogue) -> str | None:
    """Markdown about the code a term names (`random-id`, `bepro:random-id`, `S113`), or None."""
    table = code_table()
    named = codes_named(term, catalogue, True, table) if catalogue.rule(term) is None else None
    if not named or len(named) != 1:
        return None
    info = table[next(iter(named))]
    rule = catalogue.rule(info.rule_id)
    selection = "default selection" if info.default else "preview (opt in with --preview)"
    header = [
        f"# {info.source}",
        "",
        f"Rule `{info.rule_id}`"
        + (f" ({rule.summary}; priority {rule.priority}, {rule.category})" if rule else ""),
        f"· {selection} · reported in {', '.join(sorted(info.roles))} files"
        + " · suppress with `# bepro: ignore["
        + info.code
        + "]`",
        "",
    ]
    body = _own_doc(info.code) if info.source.startswith("bepro:") else _ruff_doc(info.code)
    fix = _rewrite_line(REWRITES.get(info.source))
    footer = [
        "",
        fix,
        "",
        f"The rule's reference, with Do/Don't code: `bepro rules {info.rule_id}`.",
    ]
    return "\n".join([*header, body, *footer]) + "\n"


def _rewrite_line(rewrite: Rewrite | None) -> str:
    if rewrite is None:
        return "No offline rewrite yet."
    if rewrite.safe:
        return f"`bepro fix` rewrites it offline ({rewrite.codemod})."
    return (
        f"`bepro fix --unsafe-fixes` rewrites it offline ({rewrite.codemod}): an unsafe rewrite, "
        "it changes behaviour a reviewer must see."
    )


def _own_doc(code: str) -> str:
    found = load_detectors()[code]
    doc = inspect.getdoc(found.check) or "(no description)"
    return f"## What it flags, and why\n\n{doc}"


def _ruff_doc(code: str) -> str:
    try:
        completed = subprocess.run(  # noqa: S603 - a fixed argv to the ruff binary, no shell
            [ruff_adapter.ruff_binary(), "rule", code],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return f"Run `ruff rule {code}` for ruff's documentation."
    return completed.stdout.strip() or f"Run `ruff rule {code}` for ruff's documentation."
