"""bepro for LangChain: `bepro.Pack` as a retriever, as tools, and the answer prompt of its LLM
path as a reusable `ChatPromptTemplate`. This module only adapts: loading, validation (with
did-you-mean hints), size limits and the concurrency policy are the Pack's (bepro/pack.py).

    BeproRetriever   a langchain-core retriever: the best passages as Documents, best first
    bepro_tools()    ask, search_rules, get_rule, review_code, fix_code as StructuredTools
    answer_prompt()  the prompt `bepro ask --llm` sends, as a ChatPromptTemplate
    format_docs()    Documents as that prompt's CONTEXT, in the format the LLM path uses

Each takes a `Pack`; without one, it opens `Pack.open()` (the pack the CLI uses) on first use.
Share one Pack to open the index once. Everything works offline: the pack, the index and the
embedding model are local, and the index is built on first use (as `bepro ask` does) when it is
missing or stale. Only users of this module import langchain_core.

    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import RunnablePassthrough

    from bepro import Pack
    from bepro.langchain import BeproRetriever, answer_prompt, format_docs

    pack = Pack.open()
    retriever = BeproRetriever(pack=pack, action="debug")
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | answer_prompt(pack, action="debug")
        | model
        | StrOutputParser()
    )
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from bepro.agent.ask import MAX_FILE_BYTES, MAX_QUESTION_CHARS
from bepro.errors import BeproError, UnknownRuleError, UsageError
from bepro.pack import CODE_FILENAME, MAX_TOOL_FINDINGS, MAX_TOP_K, Pack, SearchHit

if TYPE_CHECKING:
    from bepro.review.finding import Finding

__all__ = ["BeproRetriever", "answer_prompt", "bepro_tools", "format_docs"]

DEFAULT_TOP_K = 5
MAX_TOOL_TOP_K = 20  # a model asking for more passages than this gets a context full of them
MAX_ANSWER_CHARS = 16_000
MAX_REFERENCE_CHARS = 24_000  # the longest reference is about 16,000 characters
MAX_DIFF_CHARS = 20_000
MAX_CODE_CHARS = MAX_FILE_BYTES  # the schema's bound; the Pack checks the size in bytes
DEFAULT_CONTRACT = "Answer concisely, highest-priority rules first."
# Without a list of ids (the chain passes only the question and the context), the prompt still
# says what may be cited: the ids `format_docs` puts in square brackets before each passage.
DEFAULT_ALLOWED_IDS = "the rule ids in square brackets in CONTEXT"
DEFAULT_ACTION = "answer the question"

# Held only while a pack that was not given opens (it reads SKILL.md and [tool.bepro]), never
# during a query or an answer: the Pack runs those side by side.
_OPENING = threading.Lock()


# --- the retriever ---------------------------------------------------------------------------


def hit_document(hit: SearchHit) -> Document:
    """A search hit as a Document: the passage text, and where it comes from as metadata."""
    return Document(page_content=hit.text, metadata=hit.model_dump(exclude={"text"}))


class BeproRetriever(BaseRetriever):
    """The pack's best passages for a query, as Documents, highest relevance first.

    `page_content` is the passage; metadata: `rule_id` (None for passages of SKILL.md or an
    action guide), `priority` (1 is the highest), `category`, `source` (the file), `heading` and
    `score`. `action` weighs the categories the action focuses on, as `bepro ask --action` does;
    `top_k` is how many passages come back. No passage comes back for a query nothing in the
    pack covers, unless `abstain` is False. `pack` is None until the first query opens the pack
    the CLI uses (`Pack.open()`).
    """

    pack: Pack | None = Field(default=None, exclude=True, repr=False)
    action: str | None = None
    top_k: int = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOP_K)
    abstain: bool = True
    _root: Path | str | None = PrivateAttr(default=None)

    @classmethod
    def from_pack(
        cls,
        root: Path | str | None = None,
        *,
        action: str | None = None,
        top_k: int = DEFAULT_TOP_K,
        abstain: bool = True,
    ) -> BeproRetriever:
        """A retriever over the pack at `root` (None: the pack the CLI uses), opened with
        `Pack.open(root)` on the first query."""
        retriever = cls(action=action, top_k=top_k, abstain=abstain)
        retriever._root = root
        return retriever

    def open_pack(self) -> Pack:
        """The pack: the one given, or the one opened on first use."""
        if self.pack is None:
            with _OPENING:
                if self.pack is None:
                    self.pack = Pack.open(self._root)
        return self.pack

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        pack = self.open_pack()
        result = pack.search(query, action=self.action, top_k=self.top_k)
        hits = result.hits
        if result.abstained and not self.abstain:  # the query was validated by the search
            action = pack.action(self.action) if self.action is not None else None
            found = pack.open_index().search(query, action=action, top_k=self.top_k)
            hits = [SearchHit.of(hit) for hit in found]
        return [hit_document(hit) for hit in hits]


# --- the prompt ------------------------------------------------------------------------------


def format_docs(docs: Sequence[Document]) -> str:
    """Documents as the answer prompt's CONTEXT: `[rule-id] priority N | heading` and the text,
    the format bepro's LLM path uses. A passage without a rule has no id to cite."""
    from bepro.llm.prompts import passage_label

    blocks = []
    for doc in docs:
        meta = doc.metadata
        heading = meta.get("heading") or meta.get("source") or ""
        rule_id = meta.get("rule_id")
        if rule_id:
            label = passage_label(rule_id, meta.get("priority") or 8, heading)
        else:
            label = f"(no rule id) {heading}"
        blocks.append(f"{label}\n{doc.page_content}")
    return "\n\n".join(blocks)


def answer_prompt(
    pack: Pack | None = None, *, action: str | None = None, structured: bool = False
) -> ChatPromptTemplate:
    """The prompt bepro's LLM path sends (bepro/llm/prompts.py), as a ChatPromptTemplate.

    Inputs: `question` and `context` (see `format_docs`). Filled in, and overridable per call:
    the pack's priority model; `action` and its output contract (from the action's guide);
    `allowed_ids` (by default: the ids in the context); `code_block` (empty; or
    "\\n\\nUSER CODE:\\n```python\\n...\\n```"); `findings_block` (empty; or the review's
    findings, as bepro.llm.prompts.findings_block writes them). `structured` adds the JSON answer
    instructions.
    `pack` None: `Pack.open()`.
    """
    from bepro.llm.prompts import JSON_INSTRUCTIONS, SYSTEM, USER, priority_model

    pack = pack or Pack.open()
    name = pack.action(action) if action is not None else None
    contract = ""
    if name is not None:
        from bepro.agent.llm_answer import output_contract

        contract = output_contract(pack.paths.root, name)
    system = SYSTEM + ("\n\n" + JSON_INSTRUCTIONS if structured else "")
    template = ChatPromptTemplate.from_messages([("system", system), ("human", USER)])
    return template.partial(
        priority_model=priority_model(pack.catalogue),
        action=name or DEFAULT_ACTION,
        contract=contract or DEFAULT_CONTRACT,
        allowed_ids=DEFAULT_ALLOWED_IDS,
        code_block="",
        findings_block="",
    )


# --- the tools -------------------------------------------------------------------------------

_ACTIONS = "plan, design, build, implement, review, fix, optimize, refactor, debug, secure or scale"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskArgs(_Args):
    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=f"The question or task, in your own words (at most {MAX_QUESTION_CHARS} "
        "characters).",
    )
    action: str | None = Field(
        default=None,
        description=f"What the answer is for: {_ACTIONS}. Inferred from the question when omitted.",
    )
    code: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="Python code the question is about, as text (optional). It is reviewed "
        "first and the answer opens with its findings.",
    )


class SearchArgs(_Args):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="What to look for.")
    action: str | None = Field(
        default=None, description=f"Weigh the passages for an action: {_ACTIONS}."
    )
    k: int = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOOL_TOP_K, description="How many passages.")


class GetRuleArgs(_Args):
    rule_id: str = Field(
        min_length=1, max_length=64, description="A rule id, e.g. timeouts or idempotency."
    )


class ReviewArgs(_Args):
    code: str = Field(
        min_length=1,
        max_length=MAX_CODE_CHARS,
        description=f"Python source code (at most {MAX_CODE_CHARS:,} characters).",
    )
    filename: str = Field(
        default=CODE_FILENAME,
        min_length=1,
        max_length=255,
        pattern=r"^[^\x00-\x1f]+\.pyi?$",
        description="A name for the code, ending in .py, used in findings; nothing is read.",
    )


class FixArgs(_Args):
    code: str = Field(
        min_length=1,
        max_length=MAX_CODE_CHARS,
        description=f"Python source code (at most {MAX_CODE_CHARS:,} characters).",
    )
    rule_ids: list[str] | None = Field(
        default=None,
        max_length=64,
        description='Fix only these rules\' findings (e.g. ["timeouts"]); omitted: every '
        "finding bepro has a validated rewrite for.",
    )


class BeproToolkit:
    """What the tools do, over one Pack (None: `Pack.open()` on the first call). Each returns a
    JSON-able dict sized for a model's context; the Pack validates (unknown rule or action, code
    too large) and its errors reach the model as the tool's error message."""

    def __init__(self, pack: Pack | None = None, llm: bool = False) -> None:
        self._pack = pack
        self.llm = llm

    @property
    def pack(self) -> Pack:
        if self._pack is None:
            with _OPENING:
                if self._pack is None:
                    self._pack = Pack.open()
        return self._pack

    def ask(
        self, question: str, action: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        pack = self.pack
        findings = None
        total = 0
        if code is not None:
            if action is not None:
                pack.action(action)  # an unknown action fails before the review
            found = pack.review(code=code).findings
            total = len(found)
            findings = found[:MAX_TOOL_FINDINGS]  # the answer opens with the findings returned
        outcome = pack.answer(
            question, action=action, code=code, findings=findings, llm="auto" if self.llm else None
        )
        result = outcome.result.model_dump(mode="json", exclude_none=True)
        result["answer"], cut = _capped(result["answer"], MAX_ANSWER_CHARS)
        if cut:
            result["answer_truncated"] = True
        if findings is not None:
            result["findings"] = [_finding(f) for f in findings]
            result["findings_total"] = total
            result["findings_omitted"] = total - len(findings)
        if outcome.notice:
            result["notice"] = outcome.notice
        return result

    def search_rules(
        self, query: str, action: str | None = None, k: int = DEFAULT_TOP_K
    ) -> dict[str, Any]:
        return self.pack.search(query, action=action, top_k=min(k, MAX_TOOL_TOP_K)).model_dump(
            mode="json"
        )

    def get_rule(self, rule_id: str) -> dict[str, Any]:
        doc = self.pack.rule(rule_id, codes=False)
        entry = doc.model_dump(mode="json", exclude={"code", "explanation"})
        entry["reference_text"], cut = _capped(doc.reference_text, MAX_REFERENCE_CHARS)
        if cut:
            entry["reference_truncated"] = True
        return entry

    def review_code(self, code: str, filename: str = CODE_FILENAME) -> dict[str, Any]:
        result = self.pack.review(code=code, filename=filename)
        shown = result.capped(MAX_TOOL_FINDINGS)
        return {
            "findings": [_finding(f) for f in shown.findings],
            "findings_total": len(result.findings),
            "findings_omitted": shown.omitted,
            "findings_omitted_by_rule": shown.omitted_by_rule,
            "issues": [issue.model_dump(mode="json") for issue in result.issues],
            "summary": result.summary(),
        }

    def fix_code(self, code: str, rule_ids: list[str] | None = None) -> dict[str, Any]:
        """A validated unified diff from bepro's offline codemods. The Pack fixes the code in a
        private temporary folder and names it snippet.py: no file of the caller's is touched."""
        report = self.pack.fix(code=code, rules=rule_ids or ())
        # The combined diff holds every change; each fix says what it did to which finding.
        fixes = [
            {key: value for key, value in outcome.to_json().items() if key not in ("diff", "path")}
            for outcome in report.outcomes
        ]
        diff, cut = _capped("".join(report.diffs.values()), MAX_DIFF_CHARS)
        result: dict[str, Any] = {
            "diff": diff,
            "fixes": fixes[:MAX_TOOL_FINDINGS],
            "fixes_omitted": max(0, len(fixes) - MAX_TOOL_FINDINGS),
            "summary": report.summary(),
            "issues": report.issues,
        }
        if cut:
            result["diff_truncated"] = True
        return result

    def for_model(self, error: BeproError) -> BeproError:
        """An unknown rule id with no close match lists the ids, not a CLI command to run."""
        if isinstance(error, UnknownRuleError) and not error.suggestions:
            return UsageError(
                error.message, f"known ids: {', '.join(self.pack.catalogue.rule_ids)}"
            )
        return error


def _finding(finding: Finding) -> dict[str, Any]:
    """A finding without what a model does not need (fingerprint, role, the made-up path)."""
    return {
        "rule_id": finding.rule_id,
        "priority": finding.priority,
        "severity": finding.severity,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "code": finding.source,
        "message": finding.message,
        "fix_available": finding.fix_available,
    }


def _capped(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[:limit] + "\n[... truncated]", True


def _tool_errors(kit: BeproToolkit, function: Callable[..., Any]) -> Callable[..., Any]:
    """bepro's user-facing errors become ToolExceptions: the tool returns the message (with its
    hint) to the model as an error result instead of failing the run."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BeproError as error:
            raise ToolException(kit.for_model(error).one_line()) from error

    return call


def _invalid_arguments(error: ValidationError | Exception) -> str:
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}"
            for item in error.errors()
        )
        return f"invalid arguments: {problems}"
    return f"invalid arguments: {error}"


ToolName = Literal["ask", "search_rules", "get_rule", "review_code", "fix_code"]

_DESCRIPTIONS: dict[ToolName, str] = {
    "ask": "Principal-level guidance for Python backend code: the rules that apply to a question "
    "or task, highest priority first, with what to do, an example, a checklist and citations "
    "([rule-id]). Pass code to ask about it: it is reviewed first and the answer opens with its "
    "findings.",
    "search_rules": "The best passages of bepro's knowledge base for a query, each with its rule "
    "id, priority and source. abstained is true when the pack does not cover the query.",
    "get_rule": "One bepro rule by id: category, priority, severity, summary and its full "
    "reference (why it matters, defaults, Don't/Do code, checklist, trade-offs).",
    "review_code": "Review Python code given as text: findings ordered by priority, each citing a "
    f"rule id, with line numbers (at most {MAX_TOOL_FINDINGS}; the rest are counted). Nothing is read "
    "from or written to disk.",
    "fix_code": "Fix findings in Python code given as text with bepro's offline codemods: a unified "
    "diff of validated rewrites (compiles, no new ruff error, no new priority 1-4 finding) and, "
    "per finding, whether it was fixed or why not. Never writes files.",
}


def bepro_tools(pack: Pack | None = None, *, llm: bool = False) -> list[BaseTool]:
    """ask, search_rules, get_rule, review_code and fix_code as LangChain tools, over one Pack
    (None: `Pack.open()`, the pack the CLI uses, opened on the first call).

    All are read-only and offline. With `llm`, `ask` answers through the pack's configured LLM
    ([tool.bepro.llm], as `bepro ask --llm`) and falls back to the offline answer; by default it
    answers offline, leaving the writing to the model that calls the tool. Calls run side by
    side (no call waits on another's LLM answer). A mistake (unknown rule or action, bad
    arguments, code too large) comes back to the model as the tool's error message.
    """
    kit = BeproToolkit(pack, llm=llm)
    functions: dict[ToolName, tuple[Callable[..., Any], type[BaseModel]]] = {
        "ask": (kit.ask, AskArgs),
        "search_rules": (kit.search_rules, SearchArgs),
        "get_rule": (kit.get_rule, GetRuleArgs),
        "review_code": (kit.review_code, ReviewArgs),
        "fix_code": (kit.fix_code, FixArgs),
    }
    return [
        StructuredTool.from_function(
            func=_tool_errors(kit, function),
            name=name,
            description=_DESCRIPTIONS[name],
            args_schema=schema,
            infer_schema=False,
            handle_tool_error=True,
            handle_validation_error=_invalid_arguments,
        )
        for name, (function, schema) in functions.items()
    ]
