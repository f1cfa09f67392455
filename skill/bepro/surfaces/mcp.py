"""`bepro mcp`: the pack's tools and rules over the Model Context Protocol, on stdio.

Tools, all read-only (they read the pack and the index, never the caller's files):

    ask           the rules that apply to a question (and code), in priority order, with citations
    search_rules  the best passages of the knowledge base
    get_rule      one rule's catalogue entry and its reference markdown
    review_code   findings, each citing a rule, for Python code given as text
    fix_code      a validated unified diff from bepro's offline codemods; never writes the caller's files

Resources: `bepro://rules` (every rule, JSON) and `bepro://rules/{rule_id}` (a rule's reference).

Bad input (too long, unknown rule ids or actions) comes back as an error result, never a crash.
The retriever (the index and the embedding model) is opened on the first call that needs it and
reused. stdout carries the protocol, so every log line goes to stderr.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from bepro import __version__
from bepro.agent.answer import answer
from bepro.agent.ask import (
    MAX_FILE_BYTES,
    MAX_QUESTION_CHARS,
    AskRequest,
    AskResult,
    review_code,
)
from bepro.catalogue.model import Catalogue, Rule, Severity
from bepro.config import Paths, load_settings
from bepro.errors import BeproError, UsageError
from bepro.retrieval.search import Retriever
from bepro.review.finding import FileIssue, Finding

log = logging.getLogger(__name__)

MAX_CODE_BYTES = MAX_FILE_BYTES
MAX_TOP_K = 50
RULES_URI = "bepro://rules"
INSTRUCTIONS = (
    "Principal-level guidance for Python backend code, offline. Call `ask` with the task or "
    "question (and the code, if any) for the rules that apply in priority order with citations; "
    "`review_code` for findings on code; `get_rule` for a rule's reference with Do/Don't code. "
    "Apply rules in priority order and cite them as [rule-id]."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)

Question = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=f"The question or task, in your own words (at most {MAX_QUESTION_CHARS} characters).",
    ),
]
Action = Annotated[
    str | None,
    Field(
        description="The action to weigh the rules for: plan, design, build, implement, review, "
        "fix, optimize, refactor, debug, secure or scale."
    ),
]
Code = Annotated[
    str,
    Field(
        max_length=MAX_CODE_BYTES,
        description=f"Python source code (at most {MAX_CODE_BYTES:,} bytes).",
    ),
]
RuleId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A rule id, e.g. timeouts (the resource bepro://rules lists them).",
    ),
]
Filename = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\x00-\x1f]+\.pyi?$",
        description="A name for the code, ending in .py; used in findings, nothing is read or written.",
    ),
]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, description="How many passages to return.")]


class SearchHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str | None
    category: str | None
    priority: int | None
    source: str
    heading: str
    score: float
    text: str


class SearchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    hits: list[SearchHit]
    abstained: bool = Field(description="True when nothing in the pack matches the query.")


class RuleEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    priority: int
    severity: Severity
    summary: str
    reference: str
    uri: str

    @classmethod
    def of(cls, rule: Rule) -> RuleEntry:
        return cls(
            id=rule.id,
            category=rule.category,
            priority=rule.priority,
            severity=rule.severity,
            summary=rule.summary,
            reference=rule.reference_path,
            uri=f"{RULES_URI}/{rule.id}",
        )


class RuleWithReference(RuleEntry):
    reference_text: str


class ReviewReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    findings: list[Finding]
    issues: list[FileIssue]
    summary: dict[str, object]


class StderrReporter:
    """Index notices for the person watching the client's server log; no progress bar."""

    def notice(self, message: str) -> None:
        sys.stderr.write(f"bepro: {message}\n")

    def progress(self, done: int, total: int) -> None:
        return None


class PackTools:
    """What the tools do, over one pack. The retriever opens once, on first use."""

    def __init__(self, paths: Paths, catalogue: Catalogue) -> None:
        self.paths = paths
        self.catalogue = catalogue
        self._opened: Retriever | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def retriever(self) -> Iterator[Retriever]:
        """The retriever, opened on first use, for one caller at a time: tools run on worker
        threads, and chroma, onnxruntime and bm25s are not documented as thread-safe."""
        with self._lock:
            if self._opened is None:
                self._opened = Retriever(self.paths, self.catalogue, StderrReporter())
            yield self._opened

    def ask(self, question: str, action: str | None, code: str | None) -> AskResult:
        if code is not None:
            _check_code_size(code)
        request = AskRequest(question, action, context=code)
        # The configured LLM answers when there is one (one circuit breaker per upstream for the
        # whole server process); any LLM failure falls back to the offline answer.
        with self.retriever() as retriever:
            outcome = answer(
                request,
                self.catalogue,
                self.paths,
                load_settings().llm,
                "auto",
                retriever=retriever,
            )
        if outcome.llm_failed:
            log.warning("llm fallback", extra={"tool": "ask"})
        return outcome.result

    def search(self, query: str, action: str | None, top_k: int) -> SearchResult:
        if not query.strip():
            raise UsageError("the query is empty", 'e.g. "retry storm"')
        if action is not None:
            action = self._known_action(action)
        with self.retriever() as retriever:
            if retriever.rank_rules(query, action=action).abstained:
                return SearchResult(hits=[], abstained=True)
            found = retriever.search(query, action=action, top_k=top_k)
        hits = [
            SearchHit(
                rule_id=hit.chunk.rule_id,
                category=hit.chunk.category,
                priority=hit.chunk.priority,
                source=hit.chunk.source,
                heading=hit.chunk.heading,
                score=round(hit.score, 4),
                text=hit.chunk.text,
            )
            for hit in found
        ]
        return SearchResult(hits=hits, abstained=False)

    def rule(self, rule_id: str) -> RuleWithReference:
        rule = self._known_rule(rule_id)
        return RuleWithReference(
            **RuleEntry.of(rule).model_dump(), reference_text=self.reference_text(rule)
        )

    def rules(self) -> list[RuleEntry]:
        return [RuleEntry.of(rule) for rule in self.catalogue.rules]

    def reference_text(self, rule: Rule) -> str:
        path = self.paths.root / rule.reference_path
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def review(self, code: str, filename: str) -> ReviewReport:
        _check_code_size(code)
        result = review_code(code, filename, self.catalogue)
        return ReviewReport(
            findings=result.findings, issues=result.issues, summary=result.summary()
        )

    def fix(self, code: str, rule_ids: list[str]) -> str:
        """A validated unified diff for the code (offline codemods); the caller's files are never
        touched: the code is fixed in a private temporary folder that is removed afterwards."""
        import tempfile
        from pathlib import Path

        from bepro.fix.engine import FixRequest, run_fix
        from bepro.fix.validate import Checks

        _check_code_size(code)
        rules = frozenset(self._known_rule(rule_id).id for rule_id in rule_ids)
        with tempfile.TemporaryDirectory(prefix="bepro-mcp-fix-") as folder:
            snippet = Path(folder) / "snippet.py"
            snippet.write_text(code, encoding="utf-8")
            checks = Checks(self.catalogue, cwd=Path(folder))
            report = run_fix(
                FixRequest([snippet], checks, rules, apply=False, pack_root=self.paths.root)
            )
        payload = report.to_json()
        payload.pop("undo", None)
        payload["diff"] = "".join(report.diffs.values()).replace(f"{folder}/", "")
        return json.dumps(payload, indent=2)

    def _known_rule(self, rule_id: str) -> Rule:
        rule = self.catalogue.rule(rule_id.strip().lower())
        if rule is None:
            close = difflib.get_close_matches(rule_id, self.catalogue.rule_ids, n=3, cutoff=0.5)
            hint = f"did you mean: {', '.join(close)}?" if close else f"read {RULES_URI} for them"
            raise UsageError(f"unknown rule id {rule_id!r}", hint)
        return rule

    def _known_action(self, action: str) -> str:
        name = action.strip().lower()
        if self.catalogue.action(name) is None:
            raise UsageError(
                f"unknown action {action!r}",
                f"choose one of: {', '.join(self.catalogue.action_names)}",
            )
        return name


def _check_code_size(code: str) -> None:
    size = len(code.encode("utf-8", errors="replace"))
    if size > MAX_CODE_BYTES:
        raise UsageError(
            f"the code is {size} bytes; the limit is {MAX_CODE_BYTES}", "send one file at a time"
        )


@contextlib.contextmanager
def _tool_call(name: str) -> Iterator[None]:
    """User mistakes become error results (the model reads the message); every call is logged."""
    started = time.monotonic()
    outcome = "ok"
    try:
        yield
    except BeproError as error:
        outcome = error.code
        raise ToolError(error.one_line()) from error
    finally:
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        log.info("tool call", extra={"tool": name, "outcome": outcome, "ms": elapsed_ms})


def build_server(tools: PackTools) -> MCPServer:
    server = MCPServer("bepro", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(annotations=READ_ONLY)
    def ask(question: Question, action: Action = None, code: Code | None = None) -> AskResult:
        """The rules that apply to a question or task, highest priority first: what to do, an
        example, a checklist and citations. Pass code to ask about it; the action is inferred
        from the question when omitted."""
        with _tool_call("ask"):
            return tools.ask(question, action, code)

    @server.tool(annotations=READ_ONLY)
    def search_rules(query: Question, action: Action = None, k: TopK = 5) -> SearchResult:
        """The best passages of the knowledge base for a query, with their rule and source."""
        with _tool_call("search_rules"):
            return tools.search(query, action, k)

    @server.tool(annotations=READ_ONLY)
    def get_rule(rule_id: RuleId) -> RuleWithReference:
        """One rule: its category, priority, severity, summary and full reference markdown."""
        with _tool_call("get_rule"):
            return tools.rule(rule_id)

    @server.tool(annotations=READ_ONLY)
    def review_code(code: Code, filename: Filename = "snippet.py") -> ReviewReport:
        """Review Python code given as text: findings ordered by priority, each citing a rule.
        Nothing is read from or written to disk."""
        with _tool_call("review_code"):
            return tools.review(code, filename)

    @server.tool(annotations=READ_ONLY)
    def fix_code(
        code: Code,
        rule_ids: Annotated[list[RuleId], Field(min_length=1, max_length=64)],
    ) -> str:
        """Fix the given rules' findings in Python code given as text: JSON with a unified diff of
        validated rewrites (compiles, no new ruff error, no new priority 1-4 finding) and, per
        finding, whether it was fixed or why not. Never writes files."""
        with _tool_call("fix_code"):
            return tools.fix(code, rule_ids)

    @server.resource(RULES_URI, name="rules", mime_type="application/json")
    def all_rules() -> str:
        """Every rule in priority order, with the URI of its reference."""
        return json.dumps([entry.model_dump() for entry in tools.rules()], indent=2)

    @server.resource(f"{RULES_URI}/{{rule_id}}", name="rule", mime_type="text/markdown")
    def rule_reference(rule_id: str) -> str:
        """A rule's reference: why it matters, defaults, Don't/Do code, checklist, trade-offs."""
        rule = tools.catalogue.rule(rule_id)
        if rule is None:
            raise ResourceNotFoundError(f"unknown rule id {rule_id!r}; read {RULES_URI} for them")
        return tools.reference_text(rule)

    return server


def serve() -> None:
    """Run the server on stdio until the client closes the stream."""
    from bepro.catalogue.parse import load_catalogue
    from bepro.config import load_settings, resolve_paths

    paths = resolve_paths(load_settings())
    server = build_server(PackTools(paths, load_catalogue(paths.skill)))
    with contextlib.suppress(KeyboardInterrupt):
        server.run("stdio")
