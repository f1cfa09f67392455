"""`bepro.Pack`: the one Python API over the pack. Every surface (CLI, MCP, HTTP, chat) is a thin
adapter over it: loading the pack, validating input (with did-you-mean suggestions), size limits
and the concurrency policy live here, once.

    from bepro import Pack

    pack = Pack.open()                                   # SKILL.md, references/, [tool.bepro]
    answer = pack.ask("how do I make a payment call safe to retry?")
    answer.rules                                         # ['idempotency', 'retries', ...]
    pack.search("retry storm", top_k=3).hits[0].rule_id  # 'retries'
    pack.rule("timeouts").reference_text                 # the rule's reference markdown
    pack.review(["src/"]).findings                       # as `bepro review src/`
    pack.fix(["src/app.py"]).diffs                       # validated rewrites; nothing written

Concurrency: a Pack is safe to share between threads. The retriever (the index and the embedding
model) opens on the first `ask` or `search`, under a lock held only while it opens; queries then
run side by side, at most one per CPU core (retrieval/bounded.py), and nothing is held while the
LLM writes an answer.

Heavy modules (the index, the embedding model, the LLM client) are imported on first use, so
`import bepro` and `Pack.open()` stay cheap.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from bepro.catalogue.model import Catalogue, Rule, Severity
from bepro.config import BeproSettings, LLMSettings, Paths, ReviewSettings
from bepro.errors import UnknownActionError, UnknownRuleError, UsageError

if TYPE_CHECKING:
    from bepro.agent.answer import Outcome
    from bepro.agent.ask import AskResult
    from bepro.fix.engine import FixReport
    from bepro.retrieval.search import Hit, Reporter, Retriever
    from bepro.review.engine import ReviewOptions
    from bepro.review.finding import Finding, ReviewResult

__all__ = ["LLMChoice", "Pack", "RuleDoc", "SearchHit", "SearchResult", "check_code_size"]

log = logging.getLogger("bepro")

MAX_TOP_K = 50
# Findings a tool result for a model carries (MCP, LangChain), highest priority first; the rest
# are counted per rule. Twenty findings are about 2,000 tokens of a calling model's context.
MAX_TOOL_FINDINGS = 20
CODE_FILENAME = "snippet.py"
NO_LLM_FOR_FIX = "no LLM configured; offline codemods only"
# What answers a question: None or False, the offline engine (deterministic, no network);
# True, the configured LLM, required; "auto", the configured LLM when there is one; LLMSettings,
# that LLM. The LLM paths fall back to the offline answer when the LLM fails.
LLMChoice: TypeAlias = bool | Literal["auto"] | LLMSettings | None


class SearchHit(BaseModel):
    """One passage of the knowledge base, with the rule it belongs to (None: not a rule's)."""

    model_config = ConfigDict(frozen=True)

    rule_id: str | None
    category: str | None
    priority: int | None
    source: str
    heading: str
    score: float
    text: str

    @classmethod
    def of(cls, hit: Hit) -> SearchHit:
        chunk = hit.chunk
        return cls(
            rule_id=chunk.rule_id,
            category=chunk.category,
            priority=chunk.priority,
            source=chunk.source,
            heading=chunk.heading,
            score=round(hit.score, 4),
            text=chunk.text,
        )


class SearchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    hits: list[SearchHit]
    abstained: bool = Field(description="True when nothing in the pack matches the query.")
    degraded: str | None = Field(
        default=None,
        description="Set when the local index stood in for the vector store.",
        exclude_if=lambda reason: reason is None,  # absent, not null, in every serialization
    )


class RuleDoc(BaseModel):
    """A rule's catalogue entry and its reference markdown ("" when it has none yet). Asked for
    by a review code (`S113`, `bepro:random-id`), `code` names it and `explanation` says what it
    flags, why, and how to suppress it."""

    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    priority: int
    severity: Severity
    summary: str
    reference: str
    reference_text: str
    code: str | None = None
    explanation: str | None = None


def check_code_size(code: str) -> None:
    """Code sent as text (MCP, HTTP, chat, the API) is at most the size `--file` accepts."""
    from bepro.agent.ask import MAX_FILE_BYTES

    size = len(code.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise UsageError(
            f"the code is {size} bytes; the limit is {MAX_FILE_BYTES}", "send one file at a time"
        )


class LogReporter:
    """Notices (index builds, review warnings) as log warnings: the default outside the CLI."""

    def notice(self, message: str) -> None:
        log.warning("%s", message)

    def progress(self, done: int, total: int) -> None:
        return None


class Pack:
    """The pack (SKILL.md, references/ and the index) and what can be done with it."""

    def __init__(
        self,
        paths: Paths,
        catalogue: Catalogue,
        settings: BeproSettings | None = None,
        *,
        reporter: Reporter | None = None,
        retriever: Retriever | None = None,
        max_parallel_queries: int | None = None,
    ) -> None:
        self.paths = paths
        self.catalogue = catalogue
        self.settings = settings or BeproSettings()
        self.reporter: Reporter = reporter or LogReporter()
        self._retriever = retriever
        self._parallel = max_parallel_queries or os.cpu_count() or 1
        self._opening = threading.Lock()

    @classmethod
    def open(
        cls,
        root: Path | str | None = None,
        *,
        index_dir: Path | str | None = None,
        reporter: Reporter | None = None,
    ) -> Pack:
        """The pack at `root` (a folder with SKILL.md and references/; default: BEPRO_ROOT, the
        checkout or the installed copy), with [tool.bepro] from the nearest pyproject.toml. The
        index is opened (and built when missing or stale) on the first ask or search."""
        from bepro.catalogue.load import load_catalogue
        from bepro.config import load_settings, resolve_paths

        settings = load_settings()
        paths = resolve_paths(
            settings,
            root=Path(root) if root is not None else None,
            index_dir=Path(index_dir) if index_dir is not None else None,
        )
        return cls(paths, load_catalogue(paths.skill), settings, reporter=reporter)

    # --- the index ----------------------------------------------------------------------------

    def open_index(self) -> Retriever:
        """The retriever, opened on the first call (the lock is held only while it opens)."""
        retriever = self._retriever
        if retriever is not None:
            return retriever
        with self._opening:
            if self._retriever is None:
                from bepro.retrieval.bounded import CoreBoundRetriever

                self._retriever = CoreBoundRetriever(
                    self.paths, self.catalogue, self.reporter, limit=self._parallel
                )
            return self._retriever

    @property
    def index_open(self) -> bool:
        return self._retriever is not None

    # --- names ----------------------------------------------------------------------------------

    def action(self, name: str) -> str:
        """The action's name as the catalogue spells it; UnknownActionError with the closest."""
        action = name.strip().lower()
        if self.catalogue.action(action) is not None:
            return action
        names = self.catalogue.action_names
        close = tuple(difflib.get_close_matches(action, names, n=1, cutoff=0.6))
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownActionError(
            f"unknown action {name!r}", f"{guess}choose one of: {', '.join(names)}", close
        )

    def _rule(self, rule_id: str) -> Rule:
        term = rule_id.strip()
        rule = self.catalogue.rule(term) or self.catalogue.rule(term.lower())
        if rule is None:
            raise self._unknown_rule(rule_id)
        return rule

    def _unknown_rule(self, term: str) -> UnknownRuleError:
        ids = self.catalogue.rule_ids
        close = tuple(difflib.get_close_matches(term.strip().lower(), ids, n=3, cutoff=0.5))
        hint = f"did you mean: {', '.join(close)}?" if close else "run `bepro rules` to list them"
        return UnknownRuleError(f"unknown rule id {term!r}", hint, close)

    # --- ask and search -----------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        action: str | None = None,
        code: str | None = None,
        filename: str | None = None,
        file: Path | None = None,
        findings: Sequence[Finding] | None = None,
        llm: LLMChoice = None,
        stream: Callable[[str], None] | None = None,
    ) -> AskResult:
        """The rules that apply to the question, highest priority first, with citations; see
        `answer` for the arguments."""
        return self.answer(
            question,
            action=action,
            code=code,
            filename=filename,
            file=file,
            findings=findings,
            llm=llm,
            stream=stream,
        ).result

    def answer(
        self,
        question: str,
        *,
        action: str | None = None,
        code: str | None = None,
        filename: str | None = None,
        file: Path | None = None,
        findings: Sequence[Finding] | None = None,
        llm: LLMChoice = None,
        stream: Callable[[str], None] | None = None,
    ) -> Outcome:
        """`ask`, with what a surface tells its user besides the answer: the notice (the LLM is
        not configured, or failed and the answer is the offline one) and whether the LLM failed.

        `action` is inferred from the question when None. Code comes as text (`code`, at most
        200 KB, named `filename` in findings) or as a `file` to read; it is reviewed first, and
        the answer opens with its findings. `findings` gives them when the caller reviewed the
        code already (chat reviews each pasted block on its own, with `review`). `llm`: see
        LLMChoice. `stream` receives the LLM's text as it arrives.
        """
        from bepro.agent.answer import Mode
        from bepro.agent.answer import answer as answer_request
        from bepro.agent.ask import AskRequest, validate_request

        name = self.action(action) if action is not None else None
        validate_request(AskRequest(question, name), self.catalogue)  # the question's limits
        if code is not None and file is not None:
            raise UsageError("pass code or file, not both", "code is the file's content as text")
        known = tuple(findings) if findings is not None else None
        if code is not None and known is None:  # the review checks the code's size
            known = tuple(self.review(code=code, filename=filename or CODE_FILENAME).findings)
        mode: Mode
        if llm is None or llm is False:
            mode, settings = "offline", LLMSettings()
        elif isinstance(llm, LLMSettings):
            mode, settings = "auto", llm
        else:
            mode, settings = ("llm" if llm is True else "auto"), self.settings.llm
        request = AskRequest(question, name, file, context=code, findings=known)
        return answer_request(
            request,
            self.catalogue,
            self.paths,
            settings,
            mode,
            retriever=self.open_index(),
            reporter=self.reporter,
            emit=stream,
        )

    def search(self, query: str, *, action: str | None = None, top_k: int = 5) -> SearchResult:
        """The best passages for a query, best first; none (abstained) when it is off-topic."""
        if not query.strip():
            raise UsageError("the query is empty", 'e.g. "retry storm"')
        name = self.action(action) if action is not None else None
        if not 1 <= top_k <= MAX_TOP_K:
            raise UsageError(f"top_k is {top_k}", f"ask for 1 to {MAX_TOP_K} passages")
        retriever = self.open_index()
        ranking = retriever.rank_rules(query, action=name)
        if ranking.abstained:
            return SearchResult(hits=[], abstained=True, degraded=ranking.degraded)
        found = retriever.search(query, action=name, top_k=top_k)
        hits = [SearchHit.of(hit) for hit in found]
        return SearchResult(hits=hits, abstained=False, degraded=ranking.degraded)

    def vector_store_problem(self) -> str | None:
        """Probe the Chroma server the open index queries: why it does not answer, or None
        (it answers, there is none, or the index is not open yet)."""
        retriever = self._retriever
        return retriever.vector_store_problem(probe=True) if retriever is not None else None

    # --- rules --------------------------------------------------------------------------------

    def rule(self, rule_id_or_code: str, *, codes: bool = True) -> RuleDoc:
        """A rule and its reference. With `codes`, a review code (`S113`, `random-id`,
        `bepro:random-id`) gives the rule it reports under, with the code's explanation.
        Unknown: UnknownRuleError, with the closest rule ids in its hint."""
        term = rule_id_or_code.strip()
        rule = self.catalogue.rule(term) or self.catalogue.rule(term.lower())
        if rule is None and codes:
            found = self._explain(term)
            if found is not None:
                source, rule_id, explanation = found
                return self._doc(self._rule(rule_id)).model_copy(
                    update={"code": source, "explanation": explanation}
                )
        if rule is None:
            raise self._unknown_rule(rule_id_or_code)
        return self._doc(rule)

    def _doc(self, rule: Rule) -> RuleDoc:
        path = self.paths.root / rule.reference_path
        return RuleDoc(
            id=rule.id,
            category=rule.category,
            priority=rule.priority,
            severity=rule.severity,
            summary=rule.summary,
            reference=rule.reference_path,
            reference_text=path.read_text(encoding="utf-8") if path.is_file() else "",
        )

    def _explain(self, term: str) -> tuple[str, str, str] | None:
        """The code a term names, its rule id and its explanation (review/explain.py)."""
        from bepro.review.explain import explain
        from bepro.review.registry import code_table
        from bepro.review.selection import codes_named

        explanation = explain(term, self.catalogue)
        if explanation is None:
            return None
        table = code_table()
        (source,) = codes_named(term, self.catalogue, True, table)
        return source, table[source].rule_id, explanation

    # --- review and fix -----------------------------------------------------------------------

    def review(
        self,
        paths: Iterable[Path | str] | None = None,
        *,
        code: str | None = None,
        filename: str = CODE_FILENAME,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        exclude: Iterable[str] = (),
        preview: bool = False,
        min_priority: int | None = None,
        use_ruff: bool = True,
        all_roles: bool = False,
        cache: bool = False,
    ) -> ReviewResult:
        """Findings that cite rule ids, highest priority first: in files and folders (`paths`,
        as `bepro review`, with [tool.bepro.review] filling what is not given), or in `code`
        given as text (reviewed with every code, as production code; nothing is read or
        written). `select`/`ignore` name rule ids or codes; a term naming neither is a warning
        (to the reporter), not an error. With `cache`, files unchanged since a review from the
        same directory are not parsed again (`.bepro_cache/`, as `bepro review` does)."""
        from bepro.review.cache import CACHE_DIR, ResultCache
        from bepro.review.engine import review_files, review_source

        if (paths is None) == (code is None):
            raise UsageError("pass paths or code to review", "e.g. pack.review(['src/'])")
        if code is not None:
            check_code_size(code)
            options = self._code_options(select, ignore, min_priority, use_ruff)
            return review_source(code, filename, self.catalogue, options)
        targets = _targets(paths)
        missing = [path for path in targets if not path.exists()]
        if missing:
            raise UsageError(
                f"no such file or directory: {missing[0]}", "check the paths you passed"
            )
        options, warnings = review_options(
            self.settings.review,
            self.catalogue,
            select=list(select),
            ignore=list(ignore),
            exclude=list(exclude),
            preview=preview,
            min_priority=min_priority,
            use_ruff=use_ruff,
            all_roles=all_roles,
        )
        for warning in warnings:
            self.reporter.notice(f"warning: {warning}")
        results = ResultCache(Path.cwd() / CACHE_DIR, options.detectors()) if cache else None
        return review_files(targets, self.catalogue, options, results)

    def _code_options(
        self, select: Iterable[str], ignore: Iterable[str], min_priority: int | None, ruff: bool
    ) -> ReviewOptions:
        """Code asked about is judged with every code (preview included), as production code."""
        from bepro.review.engine import snippet_options
        from bepro.review.selection import enabled_codes

        enabled, warnings = enabled_codes(select, ignore, self.catalogue, preview=True)
        for warning in warnings:
            self.reporter.notice(f"warning: {warning}")
        return snippet_options(enabled, 8 if min_priority is None else min_priority, ruff)

    def fix(
        self,
        paths: Iterable[Path | str] | None = None,
        *,
        code: str | None = None,
        filename: str = CODE_FILENAME,
        rules: Iterable[str] = (),
        apply: bool = False,
        llm: bool | LLMSettings = False,
        test_command: str | Sequence[str] | None = None,
        test_timeout: float = 300.0,
        cwd: Path | None = None,
        unsafe_fixes: bool = False,
    ) -> FixReport:
        """Rewrites for review findings (of `rules` only, when given), each validated before it
        is kept: it compiles, adds no ruff error and no priority 1-4 finding, and passes
        `test_command` (run in `cwd`). `diffs` holds one unified diff per changed file; nothing
        is written unless `apply` (then atomically, with an undo copy). `llm` asks the
        configured (or given) LLM for rewrites the codemods cannot do. `code` given as text is
        fixed in a private temporary folder: the report names it `filename`. `unsafe_fixes`
        also tries rewrites that change behaviour a reviewer must see (their diffs say so)."""
        from bepro.fix.engine import FixRequest, run_fix
        from bepro.fix.snippet import fix_snippet
        from bepro.fix.validate import Checks, parse_test_command

        if (paths is None) == (code is None):
            raise UsageError("pass paths or code to fix", "e.g. pack.fix(['src/'])")
        chosen = frozenset(self._rule(rule_id).id for rule_id in rules if rule_id.strip())
        if isinstance(test_command, str):
            command = parse_test_command(test_command)
        else:
            command = list(test_command or ())
        proposer = None
        if llm is not False:
            from bepro.agent.fix_proposer import configured_proposer

            proposer = configured_proposer(self.settings.llm if llm is True else llm)
            if proposer is None:
                self.reporter.notice(NO_LLM_FOR_FIX)
        if code is None:
            checks = Checks(self.catalogue, command, test_timeout, cwd or Path.cwd())
            targets = _targets(paths)
            request = FixRequest(
                targets, checks, chosen, apply, proposer, self.paths.root, unsafe_fixes=unsafe_fixes
            )
            return run_fix(request)
        if apply:
            raise UsageError("code given as text cannot be applied", "fix files to write them")
        check_code_size(code)
        return fix_snippet(
            code,
            filename,
            self.catalogue,
            rules=chosen,
            proposer=proposer,
            pack_root=self.paths.root,
            test_command=command,
            test_timeout=test_timeout,
            cwd=cwd,
            unsafe_fixes=unsafe_fixes,
        )


def _targets(paths: Iterable[Path | str] | None) -> list[Path]:
    if isinstance(paths, str | Path):  # one path, not the characters of one
        return [Path(paths)]
    return [Path(path) for path in paths or ()]


def review_options(
    settings: ReviewSettings,
    catalogue: Catalogue,
    *,
    select: list[str],
    ignore: list[str],
    exclude: list[str],
    preview: bool,
    min_priority: int | None,
    use_ruff: bool,
    all_roles: bool,
) -> tuple[ReviewOptions, list[str]]:
    """A review's options: the arguments over `[tool.bepro.review]` (an empty select or ignore
    takes the configured one), and a warning per term that names no rule id or code (a typo
    must not silently turn a check off)."""
    from bepro.review.engine import ReviewOptions
    from bepro.review.registry import code_table
    from bepro.review.roles import parse_role
    from bepro.review.selection import enabled_codes, resolve, unknown_warning

    enabled, warnings = enabled_codes(
        _terms(select or settings.select),
        _terms(ignore or settings.ignore),
        catalogue,
        preview or settings.preview,
    )
    table = code_table()
    per_file: dict[str, frozenset[str]] = {}
    for pattern, terms in settings.per_file_ignores.items():
        resolved = resolve(terms, catalogue, True, table)
        flag = f"per-file-ignores[{pattern!r}]"
        warnings += [unknown_warning(flag, term, catalogue, table) for term in resolved.unknown]
        per_file[pattern] = resolved.sources
    try:
        roles = {pattern: parse_role(role) for pattern, role in settings.roles.items()}
    except ValueError as exc:
        raise UsageError(f"[tool.bepro.review] roles: {exc}", "fix pyproject.toml") from exc
    options = ReviewOptions(
        enabled=enabled,
        min_priority=settings.min_priority if min_priority is None else min_priority,
        per_file_ignores=per_file,
        role_overrides=roles,
        exclude=(*settings.exclude, *settings.extend_exclude, *_terms(exclude)),
        use_ruff=use_ruff,
        all_roles=all_roles,
    )
    return options, warnings


def _terms(terms: Iterable[str]) -> list[str]:
    return [term.strip() for term in terms if term.strip()]
