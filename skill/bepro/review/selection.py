"""Which codes a review reports: `--select`, `--ignore`, per-file-ignores and suppression comments
name rule ids (`timeouts`) or detector codes (`bepro:random-id`, `random-id`, `ruff:S113`, `S113`,
or a ruff prefix such as `DTZ`), resolved here against the one code table (registry.py)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from bepro.catalogue.model import Catalogue
from bepro.errors import UsageError
from bepro.review.registry import CodeInfo, code_table


@dataclass(frozen=True)
class Resolved:
    sources: frozenset[str]
    unknown: tuple[str, ...] = ()


def resolve(
    terms: Iterable[str], catalogue: Catalogue, preview: bool, table: dict[str, CodeInfo]
) -> Resolved:
    """The codes the terms name. A rule id names its default codes (all of them with preview);
    a code named exactly is included even when it is not in the default selection."""
    sources: set[str] = set()
    unknown: list[str] = []
    for term in (raw.strip() for raw in terms):
        if not term:
            continue
        named = codes_named(term, catalogue, preview, table)
        if named:
            sources |= named
        else:
            unknown.append(term)
    return Resolved(frozenset(sources), tuple(unknown))


def codes_named(
    term: str, catalogue: Catalogue, preview: bool, table: dict[str, CodeInfo]
) -> frozenset[str]:
    if catalogue.rule(term) is not None:
        return frozenset(
            info.source
            for info in table.values()
            if info.rule_id == term and (preview or info.default)
        )
    for source in (term, f"bepro:{term}", f"ruff:{term}"):
        if source in table:
            return frozenset({source})
    code = term.removeprefix("ruff:")
    if code.isupper() or code[:1].isupper():  # a ruff prefix: DTZ, S1
        return frozenset(
            info.source
            for info in table.values()
            if info.source.startswith(f"ruff:{code}") and (preview or info.default)
        )
    return frozenset()


def closest(term: str, catalogue: Catalogue, table: dict[str, CodeInfo]) -> str | None:
    """The rule id or code a mistyped term most likely meant."""
    names = [*catalogue.rule_ids, *(info.code for info in table.values())]
    found = difflib.get_close_matches(term, names, n=1, cutoff=0.6)
    return found[0] if found else None


def _hint(term: str, catalogue: Catalogue, table: dict[str, CodeInfo]) -> str:
    guess = closest(term, catalogue, table)
    return (
        f"did you mean {guess!r}?"
        if guess
        else "`bepro rules` lists rule ids, `--statistics` codes"
    )


def unknown_warning(flag: str, term: str, catalogue: Catalogue, table: dict[str, CodeInfo]) -> str:
    return f"{flag}: unknown rule id or code {term!r} (ignored); {_hint(term, catalogue, table)}"


def enabled_codes(
    select: Iterable[str],
    ignore: Iterable[str],
    catalogue: Catalogue,
    preview: bool = False,
) -> tuple[frozenset[str], list[str]]:
    """The codes a review reports, and a warning per unknown term."""
    table = code_table()
    chosen = resolve(select, catalogue, preview, table)
    dropped = resolve(ignore, catalogue, True, table)
    base = chosen.sources or frozenset(
        info.source for info in table.values() if preview or info.default
    )
    warnings = [unknown_warning("--select", term, catalogue, table) for term in chosen.unknown]
    warnings += [unknown_warning("--ignore", term, catalogue, table) for term in dropped.unknown]
    if chosen.unknown and not chosen.sources:
        # nothing would be checked: in CI a typo must not pass as a clean review
        raise UsageError(
            f"--select names nothing bepro knows: {', '.join(sorted(chosen.unknown))}",
            _hint(chosen.unknown[0], catalogue, table),
        )
    return base - dropped.sources, warnings
