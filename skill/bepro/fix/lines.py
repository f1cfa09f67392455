"""Following lines of a file across a rewrite (difflib opcodes), so findings keep their place."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

LineMap = Callable[[int], range]


def _opcodes(before: str, after: str) -> Sequence[tuple[str, int, int, int, int]]:
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return matcher.get_opcodes()


def line_map(before: str, after: str) -> LineMap:
    """Where each line of `before` is in `after`: one line if unchanged, else the rewritten span."""
    opcodes = _opcodes(before, after)

    def where(line: int) -> range:
        index = line - 1
        for tag, a1, a2, b1, b2 in opcodes:
            if a1 <= index < a2:
                if tag == "equal":
                    return range(b1 + index - a1 + 1, b1 + index - a1 + 2)
                return range(b1 + 1, max(b2, b1 + 1) + 1)
        return range(0)

    return where


def unchanged_line(before: str, after: str, line: int) -> int | None:
    """The line's number in `after` when the rewrite left it as it was, else None."""
    for tag, a1, a2, b1, _ in _opcodes(before, after):
        if tag == "equal" and a1 < line <= a2:
            return b1 + line - a1
    return None


def first_line(mapping: LineMap, line: int) -> int:
    return min(mapping(line), default=line)
