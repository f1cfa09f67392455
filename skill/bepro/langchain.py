"""bepro for LangChain: the pack's retrieval as a retriever, its operations as tools, and the answer
prompt of its LLM path as a reusable `ChatPromptTemplate`.

    BeproRetriever   a langchain-core retriever: the best passages as Documents, best first
    bepro_tools()    ask, search_rules, get_rule, review_code, fix_code as StructuredTools
    answer_prompt()  the prompt `bepro ask --llm` sends, as a ChatPromptTemplate
    format_docs()    Documents as that prompt's CONTEXT, in the format the LLM path uses
    BeproPack        the pack (paths, catalogue) and its index, opened once and shared

Everything works offline: the pack, the index and the embedding model are local, and the index
is built on first use (as `bepro ask` does) when it is missing or stale. Nothing is loaded on
import or construction, only on the first query. Only users of this module import langchain_core.

    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import RunnablePassthrough

    from bepro.langchain import BeproRetriever, answer_prompt, format_docs

    retriever = BeproRetriever(action="debug")
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | answer_prompt(action="debug")
        | model
        | StrOutputParser()
    )
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bepro.agent.ask import MAX_FILE_BYTES, MAX_QUESTION_CHARS
from bepro.catalogue.model import Catalogue, Rule
from bepro.config import Paths
from bepro.errors import BeproError, UsageError
from bepro.retrieval.search import Hit, Reporter, Retriever
from bepro.review.finding import Finding

__all__ = [
    "BeproPack",
    "BeproRetriever",
    "answer_prompt",
    "bepro_tools",
    "format_docs",
]

DEFAULT_TOP_K = 5
MAX_TOP_K = 50
MAX_TOOL_TOP_K = 20  # a model asking for more passages than this gets a context full of them
MAX_FINDINGS = 20  # findings a tool returns; the rest are counted
MAX_ANSWER_CHARS = 16_000
MAX_REFERENCE_CHARS = 16_000  # the longest reference is about 11,000 characters
MAX_DIFF_CHARS = 20_000
MAX_CODE_CHARS = MAX_FILE_BYTES
DEFAULT_CONTRACT = "Answer concisely, highest-priority rules first."
# Without a list of ids (the chain passes only the question and the context), the prompt still
# says what may be cited: the ids `format_docs` puts in square brackets before each passage.
DEFAULT_ALLOWED_IDS = "the rule ids in square brackets in CONTEXT"
DEFAULT_ACTION = "answer the question"


class BeproPack:
    """One pack: its paths, its catalogue and its retriever (the index and the embedding model).

    Each is loaded on first use, the way the CLI loads it (BEPRO_ROOT, the checkout or the
    installed copy; [tool.bepro] of the nearest pyproject.toml; BEPRO_INDEX_DIR), unless given.
    Share one pack between retrievers and tools to open the index once. Thread-safe: queries
    run one at a time (chroma, onnxruntime and bm25s are not documented as thread-safe).
    """

    def __init__(
        self,
        paths: Paths | None = None,
        catalogue: Catalogue | None = None,
        retriever: Retriever | None = None,
        *,
        root: Path | str | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        if paths is not None and root is not None:
            raise UsageError("pass either paths or root, not both")
        self._root = Path(root) if root is not None else None
        self._paths = paths
        self._catalogue = catalogue
        self._retriever = retriever
        self._reporter = reporter
        self._lock = threading.RLock()

    @property
    def paths(self) -> Paths:
        with self._lock:
            if self._paths is None:
                self._paths = _pack_paths(self._root)
            return self._paths

    @property
    def catalogue(self) -> Catalogue:
        with self._lock:
            if self._catalogue is None:
                from bepro.catalogue.parse import load_catalogue

                self._catalogue = load_catalogue(self.paths.skill)
            return self._catalogue

    @contextlib.contextmanager
    def retriever(self) -> Iterator[Retriever]:
        """The retriever, opened (and the index built, if needed) on first use, for one caller
        at a time."""
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(self.paths, self.catalogue, self._reporter)
            yield self._retriever

    def rule(self, rule_id: str) -> Rule:
        """A rule by id; UsageError naming the closest ids when there is none."""
        rule = self.catalogue.rule(rule_id.strip().lower())
        if rule is None:
            ids = self.catalogue.rule_ids
            close = difflib.get_close_matches(rule_id.strip().lower(), ids, n=3, cutoff=0.5)
            hint = f"did you mean: {', '.join(close)}?" if close else f"known ids: {', '.join(ids)}"
            raise UsageError(f"unknown rule id {rule_id!r}", hint)
        return rule

    def action(self, action: str | None) -> str | None:
        """The action's canonical name (None stays None); UsageError when it is unknown."""
        if action is None:
            return None
        name = action.strip().lower()
        if self.catalogue.action(name) is None:
            raise UsageError(
                f"unknown action {action!r}",
                f"choose one of: {', '.join(self.catalogue.action_names)}",
            )
        return name

    def search(
        self,
        query: str,
        action: str | None = None,
        top_k: int = DEFAULT_TOP_K,
        abstain: bool = True,
    ) -> list[Hit]:
        """The best passages for a query, best first; none when `abstain` and nothing in the pack
        is close enough (the check `bepro ask` makes before it answers)."""
        if not query.strip():
            raise UsageError("the query is empty", 'e.g. "retry storm"')
        if len(query) > MAX_QUESTION_CHARS:
            raise UsageError(
                f"the query is {len(query)} characters; the limit is {MAX_QUESTION_CHARS}",
                "shorten it",
            )
        name = self.action(action)
        with self.retriever() as retriever:
            if abstain and retriever.rank_rules(query, action=name).abstained:
                return []
            return retriever.search(query, action=name, top_k=top_k)


def _pack_paths(root: Path | None) -> Paths:
    """The CLI's paths; with `root`, those of the pack there (its index where the CLI would put
    it for that root, unless BEPRO_INDEX_DIR or [tool.bepro] index-dir says otherwise)."""
    from bepro.config import _default_index_dir, load_settings, resolve_paths

    settings = load_settings()
    paths = resolve_paths(settings)
    if root is None:
        return paths
    root = root.expanduser().resolve()
    if not (root / "SKILL.md").is_file() or not (root / "references").is_dir():
        raise UsageError(
            f"{root} is not a bepro pack", "a pack root holds SKILL.md and references/"
        )
    configured = os.environ.get("BEPRO_INDEX_DIR") or settings.index_dir
    return Paths(
        root=root,
        skill=root / "SKILL.md",
        references=root / "references",
        index=Path(configured) if configured else _default_index_dir(root),
        chroma_url=paths.chroma_url,
    )


# --- the retriever ---------------------------------------------------------------------------


def hit_document(hit: Hit) -> Document:
    """A search hit as a Document: the passage text, and where it comes from as metadata."""
    chunk = hit.chunk
    return Document(
        id=chunk.id,
        page_content=chunk.text,
        metadata={
            "rule_id": chunk.rule_id,
            "priority": chunk.priority,
            "category": chunk.category,
            "source": chunk.source,
            "heading": chunk.heading,
            "score": round(hit.score, 4),
        },
    )


class BeproRetriever(BaseRetriever):
    """The pack's best passages for a query, as Documents, highest relevance first.

    `page_content` is the passage; metadata: `rule_id` (None for passages of SKILL.md or an
    action guide), `priority` (1 is the highest), `category`, `source` (the file), `heading` and
    `score`. `action` weighs the categories the action focuses on, as `bepro ask --action` does;
    `top_k` is how many passages come back. No passage comes back for a query nothing in the
    pack covers, unless `abstain` is False. The pack is loaded on the first query.
    """

    pack: BeproPack = Field(default_factory=BeproPack, exclude=True, repr=False)
    action: str | None = None
    top_k: int = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOP_K)
    abstain: bool = True

    @classmethod
    def from_pack(
        cls,
        root: Path | str | None = None,
        *,
        action: str | None = None,
        top_k: int = DEFAULT_TOP_K,
        abstain: bool = True,
    ) -> BeproRetriever:
        """A retriever over the pack at `root` (None: the pack the CLI uses)."""
        return cls(pack=BeproPack(root=root), action=action, top_k=top_k, abstain=abstain)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.pack.search(query, self.action, self.top_k, abstain=self.abstain)
        return [hit_document(hit) for hit in hits]


# --- the prompt ------------------------------------------------------------------------------


def format_docs(docs: Sequence[Document]) -> str:
    """Documents as the answer prompt's CONTEXT: `[rule-id] priority N | heading` and the text,
    the format bepro's LLM path uses. A passage without a rule has no id to cite."""
    blocks = []
    for doc in docs:
        meta = doc.metadata
        heading = meta.get("heading") or meta.get("source") or ""
        rule_id = meta.get("rule_id")
        if rule_id:
            label = f"[{rule_id}] priority {meta.get('priority') or 8} | {heading}"
        else:
            label = f"(no rule id) {heading}"
        blocks.append(f"{label}\n{doc.page_content}")
    return "\n\n".join(blocks)


def answer_prompt(
    pack: BeproPack | None = None, *, action: str | None = None, structured: bool = False
) -> ChatPromptTemplate:
    """The prompt bepro's LLM path sends (bepro/llm/prompts.py), as a ChatPromptTemplate.

    Inputs: `question` and `context` (see `format_docs`). Filled in, and overridable per call:
    the pack's priority model; `action` and its output contract (from the action's guide);
    `allowed_ids` (by default: the ids in the context); `code_block` (empty; or
    "\\n\\nUSER CODE:\\n```python\\n...\\n```"). `structured` adds the JSON answer instructions.
    """
    from bepro.llm.prompts import JSON_INSTRUCTIONS, SYSTEM, USER

    pack = pack or BeproPack()
    catalogue = pack.catalogue
    name = pack.action(action)
    contract = ""
    if name is not None:
        from bepro.agent.llm_answer import output_contract

        contract = output_contract(pack.paths.root, name)
    system = SYSTEM + ("\n\n" + JSON_INSTRUCTIONS if structured else "")
    template = ChatPromptTemplate.from_messages([("system", system), ("human", USER)])
    return template.partial(
        priority_model="\n".join(
            f"{c.priority}. {c.name} ({c.severity}): {c.goal}" for c in catalogue.categories
        ),
        action=name or DEFAULT_ACTION,
        contract=contract or DEFAULT_CONTRACT,
        allowed_ids=DEFAULT_ALLOWED_IDS,
        code_block="",
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
        default="snippet.py",
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
    """What the tools do, over one pack. Each returns a JSON-able dict sized for a model's
    context; a mistake (unknown rule or action, code too large) raises UsageError."""

    def __init__(self, pack: BeproPack, llm: bool = False) -> None:
        self.pack = pack
        self.llm = llm

    def ask(
        self, question: str, action: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        from bepro.agent.answer import Mode, answer
        from bepro.agent.ask import AskRequest, review_code
        from bepro.config import LLMSettings, load_settings

        pack = self.pack
        findings = None
        total = 0
        if code is not None:
            _check_code_size(code)
            pack.action(action)  # an unknown action fails before the review
            found = sorted(
                review_code(code, "snippet.py", pack.catalogue).findings,
                key=Finding.sort_key,
            )
            total = len(found)
            findings = tuple(found[:MAX_FINDINGS])
        request = AskRequest(question, action, context=code, findings=findings)
        mode: Mode = "auto" if self.llm else "offline"
        settings = load_settings().llm if self.llm else LLMSettings()
        with pack.retriever() as retriever:
            outcome = answer(
                request, pack.catalogue, pack.paths, settings, mode, retriever=retriever
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
        hits = self.pack.search(query, action, min(k, MAX_TOOL_TOP_K))
        return {
            "hits": [
                {
                    "rule_id": hit.chunk.rule_id,
                    "priority": hit.chunk.priority,
                    "category": hit.chunk.category,
                    "source": hit.chunk.source,
                    "heading": hit.chunk.heading,
                    "score": round(hit.score, 4),
                    "text": hit.chunk.text,
                }
                for hit in hits
            ],
            "abstained": not hits,
        }

    def get_rule(self, rule_id: str) -> dict[str, Any]:
        rule = self.pack.rule(rule_id)
        path = self.pack.paths.root / rule.reference_path
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        reference_text, cut = _capped(text, MAX_REFERENCE_CHARS)
        entry: dict[str, Any] = {
            "id": rule.id,
            "category": rule.category,
            "priority": rule.priority,
            "severity": rule.severity,
            "summary": rule.summary,
            "reference": rule.reference_path,
            "reference_text": reference_text,
        }
        if cut:
            entry["reference_truncated"] = True
        return entry

    def review_code(self, code: str, filename: str = "snippet.py") -> dict[str, Any]:
        from bepro.agent.ask import review_code

        _check_code_size(code)
        result = review_code(code, filename, self.pack.catalogue)
        findings = sorted(result.findings, key=Finding.sort_key)
        return {
            "findings": [_finding(f) for f in findings[:MAX_FINDINGS]],
            "findings_total": len(findings),
            "findings_omitted": max(0, len(findings) - MAX_FINDINGS),
            "issues": [issue.model_dump(mode="json") for issue in result.issues],
            "summary": result.summary(),
        }

    def fix_code(self, code: str, rule_ids: list[str] | None = None) -> dict[str, Any]:
        """A validated unified diff from bepro's offline codemods. The code is fixed in a private
        temporary folder that is removed afterwards: no file of the caller's is touched."""
        from bepro.fix.engine import FixRequest, run_fix
        from bepro.fix.validate import Checks

        _check_code_size(code)
        rules = frozenset(self.pack.rule(rule_id).id for rule_id in rule_ids or ())
        with tempfile.TemporaryDirectory(prefix="bepro-langchain-fix-") as folder:
            snippet = Path(folder) / "snippet.py"
            snippet.write_text(code, encoding="utf-8")
            checks = Checks(self.pack.catalogue, cwd=Path(folder))
            report = run_fix(
                FixRequest(
                    [snippet],
                    checks,
                    rules,
                    apply=False,
                    pack_root=self.pack.paths.root,
                    undo_base=Path(folder) / "undo",
                )
            )
            diff = "".join(report.diffs.values()).replace(f"{folder}/", "")
        # The combined diff holds every change; each fix says what it did to which finding.
        fixes = [
            {key: value for key, value in outcome.to_json().items() if key not in ("diff", "path")}
            for outcome in report.outcomes
        ]
        diff, cut = _capped(diff, MAX_DIFF_CHARS)
        result: dict[str, Any] = {
            "diff": diff,
            "fixes": fixes[:MAX_FINDINGS],
            "fixes_omitted": max(0, len(fixes) - MAX_FINDINGS),
            "summary": report.summary(),
            "issues": [issue.replace(f"{folder}/", "") for issue in report.issues],
        }
        if cut:
            result["diff_truncated"] = True
        return result


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


def _check_code_size(code: str) -> None:
    size = len(code.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise UsageError(
            f"the code is {size} bytes; the limit is {MAX_FILE_BYTES}", "send one file at a time"
        )


def _tool_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """bepro's user-facing errors become ToolExceptions: the tool returns the message (with its
    hint) to the model as an error result instead of failing the run."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BeproError as error:
            raise ToolException(error.one_line()) from error

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
    f"rule id, with line numbers (at most {MAX_FINDINGS}; the rest are counted). Nothing is read "
    "from or written to disk.",
    "fix_code": "Fix findings in Python code given as text with bepro's offline codemods: a unified "
    "diff of validated rewrites (compiles, no new ruff error, no new priority 1-4 finding) and, "
    "per finding, whether it was fixed or why not. Never writes files.",
}


def bepro_tools(pack: BeproPack | None = None, *, llm: bool = False) -> list[BaseTool]:
    """ask, search_rules, get_rule, review_code and fix_code as LangChain tools, over one pack
    (None: the pack the CLI uses, loaded on the first call).

    All are read-only and offline. With `llm`, `ask` answers through the LLM configured for bepro
    (`bepro ask --llm`'s settings) and falls back to the offline answer; by default it answers
    offline, leaving the writing to the model that calls the tool. A mistake (unknown rule or
    action, bad arguments) comes back to the model as the tool's error message.
    """
    kit = BeproToolkit(pack or BeproPack(), llm=llm)
    functions: dict[ToolName, tuple[Callable[..., Any], type[BaseModel]]] = {
        "ask": (kit.ask, AskArgs),
        "search_rules": (kit.search_rules, SearchArgs),
        "get_rule": (kit.get_rule, GetRuleArgs),
        "review_code": (kit.review_code, ReviewArgs),
        "fix_code": (kit.fix_code, FixArgs),
    }
    return [
        StructuredTool.from_function(
            func=_tool_errors(function),
            name=name,
            description=_DESCRIPTIONS[name],
            args_schema=schema,
            infer_schema=False,
            handle_tool_error=True,
            handle_validation_error=_invalid_arguments,
        )
        for name, (function, schema) in functions.items()
    ]
