"""What the chat surfaces (HTTP server, terminal chat) share: a message in, a markdown answer out.

`answer()` is the one function that produces a chat answer's text: each ```python block of the
message is reviewed on its own, then `Pack.answer` (bepro/pack.py) gives the guidance, offline or
from the LLM with the offline answer as the fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bepro.agent.ask import AskResult
from bepro.pack import LLMChoice, Pack
from bepro.review.finding import ReviewResult

DEFAULT_FILENAME = "snippet.py"
CODE_ONLY_QUESTION = "Review this code."
_PYTHON_FENCE = re.compile(r"^```[ \t]*(?:python3?|py)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Snippet:
    """Code the user attached: a ```python block of a message, or a file given to /file."""

    code: str
    filename: str = DEFAULT_FILENAME


@dataclass(frozen=True)
class Question:
    text: str
    action: str | None = None
    snippets: tuple[Snippet, ...] = ()


@dataclass(frozen=True)
class Answer:
    text: str  # markdown: findings first (when code came with the question), then the guidance
    result: AskResult
    reviews: tuple[ReviewResult, ...]
    llm_failed: bool = False  # the LLM was tried and failed: `result` is the offline answer

    @property
    def finding_count(self) -> int:
        return sum(len(review.findings) for review in self.reviews)


def parse_message(message: str, action: str | None = None) -> Question:
    """A chat message as a Question: its ```python blocks become snippets, the rest the text."""
    blocks = [match.group(1) for match in _PYTHON_FENCE.finditer(message)]
    text = _PYTHON_FENCE.sub("", message).strip() or (CODE_ONLY_QUESTION if blocks else "")
    names = [DEFAULT_FILENAME, *(f"snippet_{n}.py" for n in range(2, len(blocks) + 1))]
    return Question(text, action, tuple(map(Snippet, blocks, names)))


def answer(question: Question, pack: Pack, llm: LLMChoice = None) -> Answer:
    """The answer to one question: findings in the attached code, then the rules that apply."""
    reviews = tuple(pack.review(code=s.code, filename=s.filename) for s in question.snippets)
    # Each block is reviewed on its own (its own line numbers); the answer opens with all their
    # findings, and the rules they break lead the guidance (agent/ask.py).
    findings = tuple(finding for review in reviews for finding in review.findings)
    context = "\n\n".join(s.code for s in question.snippets) or None
    outcome = pack.answer(
        question.text,
        action=question.action,
        code=context,
        findings=findings if context else None,
        llm=llm,
    )
    return Answer(outcome.result.answer, outcome.result, reviews, outcome.llm_failed)


def split_blocks(markdown: str) -> list[str]:
    """Markdown cut at blank lines outside fenced code, each piece ending with its blank line:
    the pieces join back to the exact text, and each renders on its own."""
    blocks: list[str] = []
    current: list[str] = []
    fenced = False
    for line in markdown.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        current.append(line)
        if not fenced and not line.strip() and any(part.strip() for part in current):
            blocks.append("".join(current))
            current = []
    if current:
        blocks.append("".join(current))
    return blocks
