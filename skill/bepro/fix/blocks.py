"""Search/replace blocks, the format LLM rewrites come in, and applying them to one file's text.

    <<<<<<< SEARCH
    exact lines from the file
    =======
    the lines that replace them
    >>>>>>> REPLACE

Each SEARCH text must occur exactly once in the file, so a block can never land in the wrong
place; otherwise the whole candidate is rejected with the reason.
"""

from __future__ import annotations

import re

from bepro.fix.model import RewriteRejectedError, SearchReplace

_BLOCK = re.compile(
    r"^<{7} SEARCH[ \t]*\n(?P<search>.*?)^={7}[ \t]*\n(?P<replace>.*?)^>{7} REPLACE[ \t]*$",
    re.DOTALL | re.MULTILINE,
)


def parse_blocks(text: str) -> list[SearchReplace]:
    """The blocks in a model's reply, in order; text around them is ignored."""
    return [SearchReplace(match["search"], match["replace"]) for match in _BLOCK.finditer(text)]


def apply_blocks(source: str, blocks: list[SearchReplace]) -> str:
    """Apply the blocks in order; raises RewriteRejectedError when one does not match exactly once."""
    if not blocks:
        raise RewriteRejectedError("the proposal has no search/replace block")
    for number, block in enumerate(blocks, start=1):
        if not block.search.strip():
            raise RewriteRejectedError(f"block {number}: the SEARCH text is empty")
        count = source.count(block.search)
        if count != 1:
            where = "does not occur" if count == 0 else f"occurs {count} times"
            raise RewriteRejectedError(f"block {number}: the SEARCH text {where} in the file")
        source = source.replace(block.search, block.replace, 1)
    return source
