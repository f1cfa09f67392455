"""`bepro mcp`: the pack's tools and rules over the Model Context Protocol, on stdio.

Tools, all read-only (they read the pack and the index, never the caller's files):

    ask           the rules that apply to a question (and code), in priority order, with citations
    search_rules  the best passages of the knowledge base
    get_rule      one rule's catalogue entry and its reference markdown
    review_code   findings, each citing a rule, for Python code given as text
    fix_code      a validated unified diff from bepro's offline codemods; never writes the caller's files

Every tool returns a structured object with an output schema; findings are capped at
MAX_TOOL_FINDINGS (highest priority first), the rest counted per rule, so a result fits a model's
context. Resources: `bepro://rules` (every rule, JSON) and `bepro://rules/{rule_id}` (a rule's
reference). Prompts: one per action (plan, design, ..., scale), for clients that offer them as
slash commands.

Bad input (too long, unknown rule ids, actions or arguments) comes back as an error result that
names the problem, never a crash.
Each tool is a thin adapter over bepro.Pack (bepro/pack.py). The server starts opening the
index (building it on a first run) as it starts; a call that needs it before it is ready gets
progress notifications while it waits. The retriever is shared by the tool threads without a
lock, so no call waits on another's LLM answer. stdout carries the protocol; what a tool call
logs goes to its client as MCP log notifications (mcp_logging.py), and stderr keeps only
warnings from outside a call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Annotated, Any

import anyio.from_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.mcpserver.prompts import Prompt
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from bepro import __version__
from bepro.agent.ask import (
    MAX_FILE_BYTES,
    MAX_QUESTION_CHARS,
    AskResult,
    FixOut,
    fix_outs,
)
from bepro.catalogue.model import Action as CatalogueAction
from bepro.catalogue.model import Rule, Severity
from bepro.errors import BeproError
from bepro.pack import MAX_TOOL_FINDINGS, Pack, RuleDoc, SearchResult
from bepro.review.finding import FileIssue, Finding, ReviewResult
from bepro.surfaces.index_warmer import BuildProgress, IndexWarmer
from bepro.surfaces.mcp_logging import ToolCallLog, route_logs_to_clients
from bepro.surfaces.wording import RULES_URI, error_text

log = logging.getLogger(__name__)

MAX_CODE_BYTES = MAX_FILE_BYTES
MAX_TOP_K = 50
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

    @classmethod
    def of_doc(cls, doc: RuleDoc) -> RuleWithReference:
        fields = doc.model_dump(exclude={"reference_text", "code", "explanation"})
        return cls(**fields, uri=f"{RULES_URI}/{doc.id}", reference_text=doc.reference_text)


class ReviewReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    findings: list[Finding]
    omitted: int = Field(description="Findings left out past the cap (lowest priority first).")
    omitted_by_rule: dict[str, int]
    issues: list[FileIssue]
    summary: dict[str, object]

    @classmethod
    def of(cls, result: ReviewResult) -> ReviewReport:
        shown = result.capped(MAX_TOOL_FINDINGS)
        return cls(
            findings=shown.findings,
            omitted=shown.omitted,
            omitted_by_rule=shown.omitted_by_rule,
            issues=result.issues,
            summary=result.summary(),
        )


class FixCodeResult(BaseModel):
    """fix_code's answer: the validated rewrites as one diff of `snippet.py`, and per finding
    whether it was fixed (`proposed`), `rejected` (by which check) or `skipped`."""

    model_config = ConfigDict(frozen=True)

    diff: str
    fixes: list[FixOut]
    summary: dict[str, object]


def await_index(warmer: IndexWarmer | None, ctx: Context[Any, Any]) -> None:
    """Wait for the index the server started opening, telling the client how the build goes
    (sent only to a client that asked for progress)."""
    if warmer is None:
        return

    def report(done: int, total: int, message: str) -> None:
        anyio.from_thread.run(ctx.report_progress, done, total or None, message)

    warmer.wait(report)


def fix_result(pack: Pack, code: str, rule_ids: list[str]) -> FixCodeResult:
    """Validated rewrites of the code (offline codemods), fixed in a private temporary folder,
    never in the caller's files."""
    report = pack.fix(code=code, rules=rule_ids)
    return FixCodeResult(
        diff="".join(report.diffs.values()), fixes=fix_outs(report), summary=report.summary()
    )


def _capped_ask(result: AskResult) -> AskResult:
    if result.findings is None or len(result.findings) <= MAX_TOOL_FINDINGS:
        return result
    return result.model_copy(update={"findings": result.findings[:MAX_TOOL_FINDINGS]})


@contextlib.contextmanager
def _tool_call(name: str, ctx: Context[Any, Any], logs: ToolCallLog) -> Iterator[None]:
    """User mistakes become error results (the model reads the message); every call is logged,
    and what it logs goes to its client (mcp_logging.py)."""
    started = time.monotonic()
    outcome = "ok"
    with logs.routed_to(ctx):
        try:
            yield
        except BeproError as error:
            outcome = error.code
            raise ToolError(error_text(error, "mcp")) from error
        finally:
            elapsed_ms = round((time.monotonic() - started) * 1000, 1)
            log.info("tool call", extra={"tool": name, "outcome": outcome, "ms": elapsed_ms})


class StrictServer(MCPServer):
    """An argument a tool does not take is an error that names it: the SDK would drop it
    silently, and the calling model would never learn that its `language` or `path` was ignored."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        if tool is not None:
            known = tool.parameters.get("properties", {})
            unknown = sorted(set(arguments) - set(known))
            if unknown:
                raise ToolError(
                    f"{name} takes no argument {', '.join(map(repr, unknown))}; "
                    f"its arguments are: {', '.join(known)}"
                )
        return await super().call_tool(name, arguments, context)


def action_prompt(action: CatalogueAction) -> Prompt:
    """A prompt that asks the model to do `action` with bepro's rules: the client shows it as a
    slash command (/bepro:review) and fills in the task."""

    def render(task: str, code: str = "") -> str:
        with_code = f"\n\nThe code:\n```python\n{code}\n```" if code.strip() else ""
        return (
            f"{action.name.capitalize()}: {task}{with_code}\n\n"
            f"Call bepro's `ask` tool with action={action.name!r} (and the code, if any), then "
            f"deliver {action.produces}. Apply the rules highest priority first and cite each "
            "as [rule-id]."
        )

    return Prompt.from_function(
        render, name=action.name, description=f"{action.name}: {action.produces}"
    )


def build_server(pack: Pack, warmer: IndexWarmer | None = None) -> StrictServer:
    server = StrictServer(
        "bepro", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    logs = route_logs_to_clients()  # after the SDK's own logging setup, which it replaces
    for action in pack.catalogue.actions:
        server.add_prompt(action_prompt(action))

    @server.tool(annotations=READ_ONLY)
    def ask(
        ctx: Context[Any, Any],
        question: Question,
        action: Action = None,
        code: Code | None = None,
    ) -> AskResult:
        """The rules that apply to a question or task, highest priority first: what to do, an
        example, a checklist and citations. Pass code to ask about it; the action is inferred
        from the question when omitted."""
        with _tool_call("ask", ctx, logs):
            await_index(warmer, ctx)
            # The configured LLM answers when there is one (one circuit breaker per upstream for
            # the whole server process); any LLM failure falls back to the offline answer.
            outcome = pack.answer(question, action=action, code=code, llm="auto")
            if outcome.llm_failed:
                log.warning("llm fallback", extra={"tool": "ask"})
        return _capped_ask(outcome.result)

    @server.tool(annotations=READ_ONLY)
    def search_rules(
        ctx: Context[Any, Any], query: Question, action: Action = None, k: TopK = 5
    ) -> SearchResult:
        """The best passages of the knowledge base for a query, with their rule and source."""
        with _tool_call("search_rules", ctx, logs):
            await_index(warmer, ctx)
            return pack.search(query, action=action, top_k=k)

    @server.tool(annotations=READ_ONLY)
    def get_rule(ctx: Context[Any, Any], rule_id: RuleId) -> RuleWithReference:
        """One rule: its category, priority, severity, summary and full reference markdown."""
        with _tool_call("get_rule", ctx, logs):
            return RuleWithReference.of_doc(pack.rule(rule_id, codes=False))

    @server.tool(annotations=READ_ONLY)
    def review_code(
        ctx: Context[Any, Any], code: Code, filename: Filename = "snippet.py"
    ) -> ReviewReport:
        """Review Python code given as text: findings ordered by priority, each citing a rule.
        Nothing is read from or written to disk."""
        with _tool_call("review_code", ctx, logs):
            result = pack.review(code=code, filename=filename)
        return ReviewReport.of(result)

    @server.tool(annotations=READ_ONLY)
    def fix_code(
        ctx: Context[Any, Any],
        code: Code,
        rule_ids: Annotated[list[RuleId], Field(min_length=1, max_length=64)],
    ) -> FixCodeResult:
        """Fix the given rules' findings in Python code given as text: a unified diff of
        validated rewrites (compiles, no new ruff error, no new priority 1-4 finding) and, per
        finding, whether it was fixed or why not. Never writes files."""
        with _tool_call("fix_code", ctx, logs):
            return fix_result(pack, code, rule_ids)

    @server.resource(RULES_URI, name="rules", mime_type="application/json")
    def all_rules() -> str:
        """Every rule in priority order, with the URI of its reference."""
        entries = [RuleEntry.of(rule).model_dump() for rule in pack.catalogue.rules]
        return json.dumps(entries, indent=2)

    @server.resource(f"{RULES_URI}/{{rule_id}}", name="rule", mime_type="text/markdown")
    def rule_reference(rule_id: str) -> str:
        """A rule's reference: why it matters, defaults, Don't/Do code, checklist, trade-offs."""
        if pack.catalogue.rule(rule_id) is None:
            raise ResourceNotFoundError(f"unknown rule id {rule_id!r}; read {RULES_URI} for them")
        return pack.rule(rule_id, codes=False).reference_text

    return server


def serve() -> None:
    """Run the server on stdio until the client closes the stream."""
    progress = BuildProgress()
    pack = Pack.open(reporter=progress)
    warmer = IndexWarmer(pack, progress)
    warmer.start()  # a first-run build starts now, not on the first question
    server = build_server(pack, warmer)
    with contextlib.suppress(KeyboardInterrupt):
        server.run("stdio")
