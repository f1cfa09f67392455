"""What the chat surfaces (HTTP server, terminal chat) share: a question in, a markdown answer out.

`answer()` is the one function that produces an answer's text: findings from `review_code` (agent/ask.py),
then guidance from bepro.agent.answer (the offline engine, upgraded to the LLM when the caller
passes LLM settings, with the offline answer as the fallback).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

from bepro.agent.answer import Mode, Outcome
from bepro.agent.answer import answer as answer_request
from bepro.agent.ask import MAX_FILE_BYTES, AskRequest, AskResult, review_code
from bepro.catalogue.model import Catalogue
from bepro.config import LLMSettings, Paths
from bepro.errors import UsageError
from bepro.retrieval.search import Hit, Reporter, Retriever, RuleRanking
from bepro.review.finding import Finding, ReviewResult

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


def check_code_size(code: str) -> None:
    size = len(code.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise UsageError(
            f"the code is {size} bytes; the limit is {MAX_FILE_BYTES}", "send a smaller excerpt"
        )


class CoreBoundRetriever(Retriever):
    """A Retriever running at most one query per CPU core. Embedding a question is CPU work
    outside the GIL: more queries at once than cores only time-slice the cores, and starve the
    server's event loop, which then accepts, sheds and answers late."""

    def __init__(
        self, paths: Paths, catalogue: Catalogue, reporter: Reporter | None = None
    ) -> None:
        super().__init__(paths, catalogue, reporter)
        self._cores = threading.BoundedSemaphore(os.cpu_count() or 1)

    def search(self, query: str, action: str | None = None, top_k: int = 5) -> list[Hit]:
        with self._cores:
            return super().search(query, action, top_k)

    def rank_rules(
        self,
        query: str,
        action: str | None = None,
        top_k: int = 5,
        include: frozenset[str] = frozenset(),
    ) -> RuleRanking:
        with self._cores:
            return super().rank_rules(query, action, top_k, include)


class OfflineEngine:
    """bepro's engine over one opened index, shared by a server's answer threads. Retrieval
    needs no lock: chroma's local client locks its own shared state, onnxruntime's run and
    tokenizers' encode are thread-safe, BM25 scoring only reads, and the evidence cache is an
    lru_cache (tests/test_retrieval.py checks rankings from many threads at once against
    rankings one at a time). The server bounds it to one query per core instead
    (CoreBoundRetriever)."""

    def __init__(self, paths: Paths, catalogue: Catalogue, retriever: Retriever) -> None:
        self.paths = paths
        self.catalogue = catalogue
        self._retriever = retriever

    def ask(
        self,
        question: str,
        action: str | None = None,
        context: str | None = None,
        llm: LLMSettings | None = None,
        findings: tuple[Finding, ...] | None = None,
    ) -> Outcome:
        """`bepro ask`, with optional context (code, as `--file` gives it; callers bound its
        size). Offline, unless `llm` is given: then the LLM answers and the offline engine is
        the fallback."""
        request = AskRequest(question, action, context=context, findings=findings)
        mode: Mode = "offline" if llm is None else "auto"
        settings = llm or LLMSettings()
        return answer_request(
            request, self.catalogue, self.paths, settings, mode, retriever=self._retriever
        )

    def review(self, code: str, filename: str = DEFAULT_FILENAME) -> ReviewResult:
        """Code pasted into a question, reviewed as `ask` reviews it (agent/ask.review_code)."""
        check_code_size(code)
        return review_code(code, filename, self.catalogue)


def answer(question: Question, engine: OfflineEngine, llm: LLMSettings | None = None) -> Answer:
    """The answer to one question: findings in the attached code, then the rules that apply."""
    reviews = tuple(engine.review(s.code, s.filename) for s in question.snippets)
    # Each block is reviewed on its own (its own line numbers); the answer opens with all their
    # findings, and the rules they break lead the guidance (agent/ask.py).
    findings = tuple(finding for review in reviews for finding in review.findings)
    context = "\n\n".join(s.code for s in question.snippets) or None
    outcome = engine.ask(
        question.text, question.action, context, llm, findings if context else None
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
