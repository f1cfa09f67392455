"""`bepro ask`: validate the request, pick the action, retrieve the rules, compose the answer."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from bepro.agent.intent import ActionGuess, classify_action, embedding_similarities
from bepro.agent.offline import MEASURE_FIRST, Citation, advice_for, compose_answer
from bepro.agent.stack import synchronous
from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.errors import UsageError
from bepro.retrieval.search import Reporter, Retriever, RuleHit, RuleRanking
from bepro.review.finding import Finding, ReviewResult, cap_findings

if TYPE_CHECKING:
    from bepro.fix.engine import FixReport
    from bepro.fix.model import FixOutcome

MAX_QUESTION_CHARS = 4000
MAX_FILE_BYTES = 200_000
FILE_CONTEXT_CHARS = 1500
# Findings an answer (and an MCP result) lists, highest priority first: thousands (a generated
# file, a vendored module) would drown the answer and a model's context; the rest are counted.
MAX_FINDINGS_SHOWN = 100
# Findings an answer rewrites: bepro fix validates every rewrite (compiles, ruff, a new review),
# so twenty findings cost seconds, forty tens of them; past this many, the answer points to
# `bepro fix`.
MAX_REWRITE_FINDINGS = 10
# Past that many, an answer still rewrites the findings at priority 1-4 (what `bepro review
# --fail-on 4` gates on) when those are few: a real file's hygiene findings (f-strings in log
# calls) must not keep its missing timeouts from being fixed.
URGENT_PRIORITY = 4
# Breadth follows the action: answers that shape a system (plan, design, build, scale, secure)
# draw on 4-6 rules across categories, answers about one change or one failure on 2-3.
WIDE_ACTIONS = frozenset({"plan", "design", "build", "scale", "secure"})
WIDE_RULES = (4, 6)
NARROW_RULES = (2, 3)
# A narrow answer to a question alone takes its three best rules, not the two above a score
# cutoff: askers' second and third rules are often close (answers eval, actions inferred: cited
# 0.886 -> 0.912 of the rules due; real questions' rules covered: held out 0.721 -> 0.743,
# fresh 07d 0.660 -> 0.682). An answer about code keeps to the fewest (select_rules).
NARROW_QUESTION_RULES = 3
MAX_RULES = 6  # never more, findings included
# Beyond the minimum, a rule joins when it scores within this share of the best one.
RELATIVE_CUTOFF = 0.70
# A wide answer adds a next-best rule from a category not yet covered down to this share of the
# best score (measured on the answers and retrieval sets: more of the expected rules than the
# next rules by score alone).
NEW_CATEGORY_CUTOFF = 0.50
CANDIDATES = 12  # rules ranked for selection: enough to find rules in other categories
# Rules an action's output contract always needs, whatever the question's wording: optimize
# measures first (SKILL.md: `profiling` - Measure before optimizing); a refactor pins behaviour
# with tests first (SKILL.md: "Behaviour-preserving changes with tests first"), and a new service
# starts from typed settings validated at startup and ships with its tests and CI
# (references/actions/build.md, "What it produces" and output item 6).
ANCHOR_RULES = {"optimize": (MEASURE_FIRST,), "refactor": ("tests",), "build": ("config", "tests")}
# An answer about code covers every rule its review found broken, up to this many rules in all.
MAX_RULES_WITH_FINDINGS = MAX_RULES
# ...and the rule the question itself is about ("add retries to this client"), which the code's
# text can outweigh in the ranking of both together: the best rule of the question alone, when
# that ranking is peaked (its third scores under this share of its best; "review this" is flat).
# On real questions (bench/questions_bench.py) it fires for 0.66 (dev) and 0.64 (held out) of
# them, and is an expected rule for 0.93 and 0.91 of those; a second rule near the best was right
# for only about half.
TOPIC_PEAK = 0.85
# A preview code's finding leads an answer about code when its rule is among the ON_TOPIC rules
# the question alone ranks best and scores ON_TOPIC_SHARE of the best or more: zds-site's
# unbounded queue (a preview code) for "memory keeps growing until OOM" (backpressure 4th, 0.81).
ON_TOPIC = 4
# A fix request this short ("fix this", "fix the bugs in this file") is about the whole file.
TERSE_WORDS = 6
ON_TOPIC_SHARE = 0.8
# ...and inside a function the question names, one of a rule among the PLAUSIBLE the question
# alone ranks best: librephotos' time-utc was 5th for a question about missed edits and TZ.
PLAUSIBLE = 8
CODE_FILENAME = "snippet.py"
# Answers that change code end with bepro fix's validated rewrites of the code asked about.
REWRITE_ACTIONS = frozenset({"fix", "refactor", "secure", "optimize"})


class CitationOut(BaseModel):
    model_config = ConfigDict(frozen=True)
    rule_id: str
    source: str
    heading: str


class FixOut(BaseModel):
    """One finding of the code asked about and what `bepro fix` did with it: `proposed` (a
    validated rewrite, `diff` shows it), `rejected` (the reason names the failed check) or
    `skipped` (no offline rewrite)."""

    model_config = ConfigDict(frozen=True)
    line: int
    code: str
    rule_id: str
    status: str
    reason: str
    diff: str


class AskResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    action: str
    action_inferred: bool
    mode: Literal["offline", "llm"]
    answer: str
    rules: list[str]
    citations: list[CitationOut]
    abstained: bool
    # Set on the LLM path only (JSON output leaves out what is None):
    model: str | None = None
    usage: dict[str, int] | None = None
    citation_check: dict[str, object] | None = None
    # What `bepro review` finds in the code asked about, highest priority first (None: no code).
    findings: list[Finding] | None = None
    # For fix, refactor, secure and optimize with code: bepro fix's outcome per finding.
    fixes: list[FixOut] | None = None
    # Set when the vector store (a Chroma server) did not answer and the local index did.
    degraded: str | None = None
    # Set when the action was inferred: how sure the classifier was, 0 to 1. Under UNSURE_BELOW
    # the answer says it is a guess and names another action to try.
    action_confidence: float | None = None


@dataclass(frozen=True)
class AskRequest:
    question: str
    action: str | None = None
    file: Path | None = None
    context: str | None = None  # code given as text (MCP, HTTP), used like a --file's content
    # Findings a surface already has for the code (chat reviews each pasted block on its own);
    # None: the code is reviewed here.
    findings: tuple[Finding, ...] | None = None


def validate_request(request: AskRequest, catalogue: Catalogue) -> str:
    """The cleaned question; UsageError on an empty or long question or an unknown action.
    Inferring the action is left to the caller that needs it."""
    question = request.question.strip()
    if not question:
        raise UsageError(
            "the question is empty", 'ask something, e.g. bepro ask "how do I retry safely?"'
        )
    if len(question) > MAX_QUESTION_CHARS:
        raise UsageError(
            f"the question is {len(question)} characters; the limit is {MAX_QUESTION_CHARS}",
            "shorten it, or pass code with --file",
        )
    if request.action is not None and catalogue.action(request.action.strip().lower()) is None:
        raise UsageError(
            f"unknown action {request.action!r}",
            f"choose one of: {', '.join(catalogue.action_names)}",
        )
    return question


def read_context_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(
                f"{path} is {size} bytes; the limit is {MAX_FILE_BYTES}", "pass a smaller file"
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"no such file: {path}", "check the --file path") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{path} is a directory", "pass one file to --file") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", "check the --file path") from exc
    from bepro.review.engine import looks_binary  # the review's own test for a binary file

    if looks_binary(data):
        raise UsageError(f"{path} is a binary file", "pass a source file to --file")
    return data.decode("utf-8", errors="replace")


def rule_breadth(action: str) -> tuple[int, int]:
    """The fewest and most rules an answer for the action covers."""
    return WIDE_RULES if action in WIDE_ACTIONS else NARROW_RULES


def select_rules(
    ranking: RuleRanking, action: str, catalogue: Catalogue, forced: Sequence[str] = ()
) -> list[str]:
    """The rules the answer covers, best match first: `forced` ones (those a review of the user's
    code found broken) lead, then the ranking's, as many as the action's breadth allows."""
    chosen = _by_score(ranking, action, catalogue) if ranking.rules else []
    anchors = ANCHOR_RULES.get(action, ())
    missing = [rule for rule in anchors if rule not in chosen]
    if chosen and missing:  # the contract asks for them
        chosen = [*chosen[: rule_breadth(action)[1] - len(missing)], *missing]
    if forced and action not in WIDE_ACTIONS:
        # An answer about code stays on what its review found (and the question's own topic):
        # rules that only the code's text retrieves fill up to the action's fewest, no further
        # ("fix this" on a Slack notifier met input-validation, load-shedding and logging).
        room = max(0, rule_breadth(action)[0] - len(forced))
        chosen = [
            *[rule for rule in chosen if rule not in anchors][:room],
            *[rule for rule in chosen if rule in anchors],
        ]
    return list(dict.fromkeys([*forced, *chosen]))[:MAX_RULES_WITH_FINDINGS]


def _read_against(
    question: str, code: str, action: str, retriever: Retriever
) -> tuple[str, list[str], Focus]:
    """A question about code: its text without the code's own names, the rule it is about (when
    one stands out) and what in the code it points at."""
    asked = without_own_names(question, code)
    ranking = retriever.rank_rules(asked, action=action, top_k=PLAUSIBLE, examples=False)
    named, bodies = pointed_lines(question, code)
    plausible = frozenset(hit.rule_id for hit in ranking.rules)
    return asked, _peak(ranking), Focus(named, bodies, _on_topic(ranking), plausible)


def question_topic(question: str, action: str, retriever: Retriever) -> list[str]:
    """The rule the question alone is about, when it is about one (see TOPIC_PEAK)."""
    return _peak(retriever.rank_rules(question, action=action, top_k=3))


def _peak(ranking: RuleRanking) -> list[str]:
    hits = ranking.rules
    if len(hits) < 3 or hits[2].score > hits[0].score * TOPIC_PEAK:
        return []
    return [hits[0].rule_id]


def _on_topic(ranking: RuleRanking) -> frozenset[str]:
    """The rules the question alone ranks near its best (see ON_TOPIC_SHARE), by what the
    references' passages say: the examples' votes pick a first rule (profiling for a memory
    leak), and the rules near it stay on the topic all the same (an unbounded queue)."""
    hits = ranking.rules[:ON_TOPIC]
    scores = [_passages(hit) for hit in hits]
    best = max(scores, default=0.0)
    near = zip(hits, scores, strict=True)
    return frozenset(h.rule_id for h, score in near if score >= best * ON_TOPIC_SHARE)


def _by_score(ranking: RuleRanking, action: str, catalogue: Catalogue) -> list[str]:
    """The first `fewest` rules by score, then those whose passages come near the best's: the
    examples' votes order the rules, the cutoffs read the references' passages alone (a vote
    that lifts one rule would otherwise push the others of a wide answer under them)."""
    fewest, most = rule_breadth(action)
    if action not in WIDE_ACTIONS:
        fewest = NARROW_QUESTION_RULES
    best = max(_passages(hit) for hit in ranking.rules)
    order = [hit.rule_id for hit in ranking.rules]
    chosen = order[:fewest]
    rest = ranking.rules[fewest:]
    if action in WIDE_ACTIONS:
        chosen += _new_categories(rest, chosen, catalogue, best * NEW_CATEGORY_CUTOFF)
    chosen += [
        h.rule_id
        for h in rest
        if _passages(h) >= best * RELATIVE_CUTOFF and h.rule_id not in chosen
    ]
    return sorted(chosen[:most], key=order.index)


def _passages(hit: RuleHit) -> float:
    """What the references' passages alone score a rule (its whole score when unknown)."""
    return hit.score if hit.passage_score is None else hit.passage_score


def _new_categories(
    hits: Sequence[RuleHit], chosen: list[str], catalogue: Catalogue, floor: float
) -> list[str]:
    """The best-scoring rule of each category `chosen` does not cover yet, down to `floor`."""
    covered = {_category(rule_id, catalogue) for rule_id in chosen}
    added: list[str] = []
    for hit in hits:
        category = _category(hit.rule_id, catalogue)
        if _passages(hit) >= floor and category not in covered:
            covered.add(category)
            added.append(hit.rule_id)
    return added


def _category(rule_id: str, catalogue: Catalogue) -> str:
    rule = catalogue.rule(rule_id)
    return rule.category if rule is not None else ""


@dataclass(frozen=True)
class Focus:
    """What a question about code points at; a preview code's finding there leads the answer like
    a reported one. A line the question names, and a rule it is about (ON_TOPIC), point at their
    findings; the body of a function whose `def` it names does so only for rules the question
    makes plausible (among its PLAUSIBLE best): librephotos' naive `fromtimestamp` for a question
    about time, not Mailu's f-string log calls for a question about load."""

    lines: frozenset[int] = frozenset()
    bodies: frozenset[int] = frozenset()
    rules: frozenset[str] = frozenset()
    plausible: frozenset[str] = frozenset()

    def covers(self, finding: Finding) -> bool:
        if finding.line in self.lines or finding.rule_id in self.rules:
            return True
        return finding.line in self.bodies and finding.rule_id in self.plausible


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one request: shared by the offline engine and the LLM path."""

    question: str
    action: str
    inferred: bool
    context: str | None
    ranking: RuleRanking
    chosen: list[str]
    findings: tuple[Finding, ...] = ()
    action_note: str | None = None  # set when the inferred action is a guess
    rewrites: FixReport | None = None  # for REWRITE_ACTIONS with findings
    action_confidence: float | None = None  # set when the action was inferred
    unparsed: str | None = None  # why a review of the code could not read it (a syntax error)
    focus: Focus = Focus()  # what in the code the question points at

    @property
    def leading(self) -> tuple[Finding, ...]:
        """The findings the answer is about (see `reported`)."""
        return reported(self.findings, self.focus)

    @property
    def asked_about(self) -> str:
        """What reference items are matched against: the question and, for code, the modules it
        imports and what its review reports (an IMAP login that hangs meets the item on the
        standard library's clients, not httpx's)."""
        if not self.context:
            return self.question
        found = " ".join(finding.message for finding in self.leading)
        return f"{self.question}\n{' '.join(code_libraries(self.context))}\n{found}"

    @property
    def synchronous(self) -> bool:
        """The code (or, with none, the question) is synchronous: examples must be too."""
        return synchronous(self.question, self.context)

    def code_sections(self, answer: str) -> str:
        """The answer between the review of the user's code and its validated rewrites."""
        if self.context is None:
            return answer
        rewrites = rewrites_section(self.rewrites)
        fixable = rewritable(self.findings, self.focus, whole_file_fix(self.question, self.action))
        if self.action in REWRITE_ACTIONS and fixable:
            targets = rewrite_targets(fixable)
            if not targets:
                rewrites = too_many_to_rewrite(len(fixable))
            elif len(targets) < len(fixable):
                rewrites += left_to_fix(len(fixable) - len(targets))
        if self.action in REWRITE_ACTIONS:
            rewrites += _left_to_bepro_fix(len(_fixable(self.findings)) - len(fixable))
        if rewrites:
            answer = answer.rstrip("\n") + "\n\n" + rewrites
        hint = "" if self.action in REWRITE_ACTIONS else _rewrite_hint(self.leading)
        named = named_lines_section(self.question, self.context)
        table = findings_section(self.findings, self.unparsed, self.focus)
        return table + hint + named + answer

    def fix_outs(self) -> list[FixOut] | None:
        return None if self.rewrites is None else fix_outs(self.rewrites)


def fix_outs(report: FixReport) -> list[FixOut]:
    """What `bepro fix` did with each finding of a snippet, as surfaces show it."""
    return [
        FixOut(
            line=o.finding.line,
            code=o.finding.source,
            rule_id=o.finding.rule_id,
            status=o.status,
            reason=o.reason,
            diff=o.diff,
        )
        for o in report.outcomes
    ]


def retrieve(
    request: AskRequest,
    catalogue: Catalogue,
    paths: Paths,
    reporter: Reporter | None = None,
    retriever: Retriever | None = None,
) -> Retrieval:
    """Review the code asked about (if any) first: the rules its findings break lead the answer,
    whatever the question's wording retrieves."""
    question = validate_request(request, catalogue)  # bad input fails before the index opens
    retriever = retriever or Retriever(paths, catalogue, reporter)
    inferred = request.action is None
    if request.action is None:  # the model is loaded for retrieval anyway
        from bepro.retrieval.embed import default_embedder

        similarities = embedding_similarities(question, default_embedder().embed)
        guess = classify_action(question, catalogue.action_names, similarities)
        action, note, confidence = guess.action, _unsure_note(guess, catalogue), guess.confidence
    else:
        action, note, confidence = request.action.strip().lower(), None, None
    context = read_context_file(request.file) if request.file is not None else request.context
    findings = request.findings
    filename = str(request.file) if request.file is not None else CODE_FILENAME
    unparsed = None
    if findings is None and context:
        reviewed = review_code(context, filename, catalogue)
        findings = tuple(reviewed.findings)
        if request.file is not None and request.file.suffix == ".py":  # pasted text may be a log
            unparsed = next((issue.message for issue in reviewed.issues), None)
    findings = findings or ()
    asked, topic, focus = (
        _read_against(question, context, action, retriever) if context else (question, [], Focus())
    )
    rewrites = None
    if context and action in REWRITE_ACTIONS:
        fixable = rewritable(findings, focus, whole_file_fix(question, action))
        rewrites = rewrites_for(context, filename, fixable, catalogue)
    leading = reported(findings, focus)
    broken = list(dict.fromkeys(finding.rule_id for finding in leading))
    notes = "\n".join(f"{f.message} [{f.rule_id}]" for f in leading[:10])
    code = f"{notes}\n{context[:FILE_CONTEXT_CHARS]}" if context else ""
    # The code's own text says what the question is about only when the question does not
    # (jupyterhub's roles.py made authorization the first rule of a question about commits)
    query = f"{asked}\n{notes}" if topic else f"{asked}\n{code}" if code else question
    # The examples are questions asked without code: about a file, its findings and the
    # references' passages rank (with the votes of 735 examples, the first labelled rule of 39
    # real questions about files was covered for 0.692, without them 0.744: ask_file_bench.py)
    ranking = retriever.rank_rules(
        query, action=action, top_k=CANDIDATES, include=frozenset(broken), examples=not context
    )
    forced = [*broken, *topic]
    chosen = [] if ranking.abstained else select_rules(ranking, action, catalogue, forced)
    return Retrieval(
        question,
        action,
        inferred,
        context,
        ranking,
        chosen,
        tuple(findings),
        note,
        rewrites,
        confidence,
        unparsed,
        focus,
    )


# On 367 real questions (the held-out half and the fresh sets) an answer under 0.4 had the
# action right 0.34 of the time, and one from 0.4 to 0.5 0.55 (lenient 0.79): unflagged, such
# guesses framed a feature request as an incident. At 0.5, 149 answers are flagged, 90 of them
# wrong; 65 of the 218 unflagged ones are (27 by the second annotator too).
UNSURE_BELOW = 0.5


def _unsure_note(guess: ActionGuess, catalogue: Catalogue) -> str | None:
    if guess.confidence >= UNSURE_BELOW:
        return None
    other = guess.runner_up or "design"
    return (
        f"*Answered as `{guess.action}` (a guess); for another kind of answer, name the action "
        f"(`--action` on the command line, `action` or a `bepro-<action>` model elsewhere): "
        f"`{other}`, or any of {', '.join(catalogue.action_names)}.*"
    )


_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
# Imported by most modules, so they say nothing about the code's stack.
_EVERYWHERE = frozenset(
    {"__future__", "abc", "collections", "contextlib", "copy", "dataclasses", "datetime", "enum",
     "functools", "io", "itertools", "json", "logging", "math", "os", "pathlib", "random", "re",
     "sys", "time", "typing", "uuid"}
)  # fmt: skip


def code_libraries(code: str) -> list[str]:
    """The top-level modules the code imports, the ubiquitous ones left out."""
    found = dict.fromkeys(match[1] for match in _IMPORT.finditer(code))
    return [name for name in found if name not in _EVERYWHERE]


def reported(findings: Sequence[Finding], focus: Focus = Focus()) -> tuple[Finding, ...]:
    """The findings an answer about code is led by, covering their rules whatever was asked:
    those `bepro review` reports by default, and a preview code's where the question points (a
    line it names: librephotos' naive `fromtimestamp` inside the function a timezone question
    names; a rule it is about: zds-site's unbounded queue, asked about memory growth). The
    other preview findings are only counted under the table: on real applications they were
    mostly false or not worth a change (bench/audit/: S105 1 of 64, BLE001 1 of 31), and on 14
    real files asked about they made vault, logging and lint advice the first hypotheses of
    unrelated questions."""
    return tuple(f for f in findings if not _preview(f) or focus.covers(f))


def _preview(finding: Finding) -> bool:
    from bepro.review.registry import PREVIEW_CODES

    return finding.source in PREVIEW_CODES


def review_code(code: str, filename: str, catalogue: Catalogue) -> ReviewResult:
    """The findings of every code in the code asked about, as production code whatever the file
    is called (`bepro review --preview --all-roles` on it reports the same)."""
    from bepro.review.engine import review_source, snippet_options

    return review_source(code, filename, catalogue, snippet_options())


def rewrites_for(
    context: str, filename: str, fixable: tuple[Finding, ...], catalogue: Catalogue
) -> FixReport | None:
    """`bepro fix`'s validated offline rewrites of the `rewritable` findings of the code, as a
    diff (nothing is written)."""
    from bepro.fix.snippet import fix_snippet
    from bepro.fix.validate import fix_review_options
    from bepro.review.engine import snippet_options

    targets = rewrite_targets(fixable)
    if not targets:
        return None
    rules = frozenset(finding.rule_id for finding in targets)
    options = snippet_options(fix_review_options().enabled)
    return fix_snippet(context, filename, catalogue, rules=rules, review_options=options)


def rewritable(
    findings: Sequence[Finding], focus: Focus = Focus(), whole_file: bool = False
) -> tuple[Finding, ...]:
    """The findings an answer rewrites: with `whole_file` (a terse "fix this"), all that `bepro
    fix` would; else those the answer is about (`reported`). Preview codes' rewrites elsewhere in
    the file are then left to `bepro fix`: on real files, fix, secure and refactor answers to
    pointed questions showed logging-format diffs off their topic (in three of four audits)."""
    fixable = _fixable(findings)
    return fixable if whole_file else reported(fixable, focus)


def whole_file_fix(question: str, action: str) -> bool:
    """A terse fix request ("fix this", "fix the bugs in this file") asks for what `bepro fix`
    would do to the file."""
    return action == "fix" and len(question.split()) <= TERSE_WORDS


def _fixable(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """The findings `bepro fix` looks at: what `bepro review` reports by default, and a preview
    code's with a safe rewrite (worth fixing when the fix is safe and checked)."""
    from bepro.fix.validate import fix_review_options

    enabled = fix_review_options().enabled or frozenset()
    return tuple(finding for finding in findings if finding.source in enabled)


def rewrite_targets(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """The findings an answer rewrites: all of them when they are few, else those at priority 1-4
    when those are few (a rule has one priority, so they are whole rules), else none."""
    if len(findings) <= MAX_REWRITE_FINDINGS:
        return findings
    urgent = tuple(f for f in findings if f.priority <= URGENT_PRIORITY)
    return urgent if len(urgent) <= MAX_REWRITE_FINDINGS else ()


def too_many_to_rewrite(count: int) -> str:
    return (
        f"## Validated rewrites\n\n{count} findings are more than an answer rewrites (at most "
        f"{MAX_REWRITE_FINDINGS}, each checked by compiling, ruff and a new review): "
        "`bepro fix` on the file rewrites them all with the same checks.\n"
    )


def left_to_fix(count: int) -> str:
    return (
        f"\nThe {count} findings at priority {URGENT_PRIORITY + 1}-8 are left to `bepro fix` on "
        "the file, with the same checks.\n"
    )


def _left_to_bepro_fix(count: int) -> str:
    if count <= 0:
        return ""
    return (
        f"\n`bepro fix` on the file also rewrites {count} finding{'s' * (count > 1)} of preview "
        "codes this answer leaves aside (listed under the findings).\n"
    )


def offline_result(retrieval: Retrieval, catalogue: Catalogue, paths: Paths) -> AskResult:
    """The deterministic engine's answer for what retrieval found."""
    if retrieval.ranking.abstained:
        return AskResult(
            action=retrieval.action,
            action_inferred=retrieval.inferred,
            action_confidence=retrieval.action_confidence,
            mode="offline",
            answer="No rule in this pack covers that question: it does not look like Python "
            "backend engineering. Try `bepro rules` to see what the pack covers.\n",
            rules=[],
            citations=[],
            abstained=True,
        )
    retrieved = {
        hit.rule_id: Citation(hit.rule_id, hit.chunks[0].chunk.source, hit.chunks[0].chunk.heading)
        for hit in retrieval.ranking.rules
    }
    broken = {finding.rule_id for finding in reported(retrieval.findings, retrieval.focus)}
    advice = advice_for(retrieval.chosen, retrieved, catalogue, paths.root, broken)
    answer, citations = compose_answer(
        retrieval.question,
        retrieval.action,
        advice,
        catalogue,
        retrieval.action_note,
        about=retrieval.asked_about,
        synchronous=retrieval.synchronous,
    )
    return AskResult(
        action=retrieval.action,
        action_inferred=retrieval.inferred,
        action_confidence=retrieval.action_confidence,
        mode="offline",
        answer=retrieval.code_sections(answer),
        rules=[item.rule.id for item in advice],
        citations=[
            CitationOut(rule_id=c.rule_id, source=c.source, heading=c.heading) for c in citations
        ],
        abstained=False,
        findings=None if retrieval.context is None else list(retrieval.findings),
        fixes=retrieval.fix_outs(),
    )


def findings_section(
    findings: tuple[Finding, ...],
    unparsed: str | None = None,
    focus: Focus = Focus(),
) -> str:
    """The review of the user's code, as the answer's opening table, highest priority first; past
    MAX_FINDINGS_SHOWN rows, the rest are counted per rule."""
    lines = ["## Findings in your code", ""]
    if unparsed:  # ruff's findings may still come, but bepro's own detectors saw nothing
        lines += [f"`bepro review` could not parse it ({unparsed}): fix that first.", ""]
    shown_rows = reported(findings, focus)
    shown_ids = {id(finding) for finding in shown_rows}  # a generated file has thousands
    preview = _preview_note([finding for finding in findings if id(finding) not in shown_ids])
    findings = shown_rows
    if not findings:
        if not unparsed:
            lines += ["`bepro review` flags nothing in it; the guidance below still applies.", ""]
        return "\n".join([*lines, *(preview and [*preview, ""])]) + "\n"
    shown = cap_findings(findings, MAX_FINDINGS_SHOWN)
    lines += ["| where | code | rule | priority | finding |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| {f.path}:{f.line} | `{f.source}` | [{f.rule_id}] | {f.priority} | "
        f"{f.message.replace('|', '/')} |"
        for f in shown.findings
    ]
    if shown.omitted:
        counts = ", ".join(f"[{rule}] {n}" for rule, n in shown.omitted_by_rule.items())
        lines += [
            "",
            f"{shown.omitted} more at lower priority ({counts}); "
            "`bepro review` on the file lists them all.",
        ]
    return "\n".join([*lines, *(["", *preview] if preview else [])]) + "\n\n"


# What in a question names code: text in quotes or backticks, dotted or snake_case names, calls,
# CamelCase names, and numbers of three digits or more ("10,000" is 10000 in code).
_QUOTED = re.compile(r"`([^`\n]{1,80})`|(?<!\w)'([^'\s]{1,80})'|\"([^\"\n]{1,80})\"")
_CODE_WORD = re.compile(
    r"(?<![\w.])(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|_*[A-Za-z]+_\w+|_\w{3,}|[A-Za-z_]\w*(?=\()|"
    r"[A-Z][a-z]+[A-Z]\w*|\d{1,3}(?:,\d{3})+|\d{3,})\b"
)
# An all-capitals word names code only where the code defines it (`DELAYS = [...]`): HTTP or JSON
# in a question names nothing.
_CAPITALS = re.compile(r"\b[A-Z][A-Z0-9]{2,}\b")
_NAME = re.compile(r"[A-Za-z_]\w{2,}|\d{3,}")
_INNER_QUOTE = re.compile(r"'([A-Za-z_]\w{2,})'")
PHRASE_WORDS = 3  # a quoted sentence is looked for by its first words, before any placeholder
_PROSE = frozenset(
    {"the", "and", "for", "not", "but", "with", "this", "that", "from", "when", "into", "are",
     "was", "has", "have", "none", "true", "false", "error", "object", "self"}
)  # fmt: skip
NAMED_LINES_SHOWN = 8
SHORT_DEFINITION = 16  # a named function or class this short is shown whole...
NAMED_LINES_MOST = 30  # ...while the section stays under this many lines
_NAMED_AT_MOST = 6  # a name on more lines than this says little about where to look


def named_lines_section(question: str, code: str | None) -> str:
    """The lines of the user's code that the question names (a quoted error's variable, a
    function, a number), so an answer about a crash points at its line even when no detector
    has anything to say there (lemur's `comments` before assignment, jupyterhub's `log.info`).
    A function or class it names is shown whole when short: the line that matters is inside
    (the fourth audit: the section showed `def` lines and missed the operative ones)."""
    if not code:
        return ""
    lines = code.splitlines()
    found = _named_lines(question, code, lines)
    if not found:
        return ""
    numbers = set(sorted(found)[:NAMED_LINES_SHOWN])
    for span in _definitions(code, frozenset(numbers)).values():
        if len(span) <= SHORT_DEFINITION:
            numbers.update(span)
    shown = sorted(numbers)[:NAMED_LINES_MOST]
    width = len(str(shown[-1]))
    body: list[str] = []
    for before, number in zip([0, *shown], shown, strict=False):
        if before and number > before + 1:
            body.append("...")
        body.append(f"{number:>{width}}  {lines[number - 1].rstrip()[:160]}")
    names = ", ".join(f"`{name}`" for name in sorted({n for k in shown for n in found.get(k, ())}))
    return (
        "\n".join(["## Lines your question names", "", f"{names}:", "", "```", *body, "```", ""])
        + "\n"
    )


def _definitions(code: str, starts: frozenset[int]) -> dict[int, range]:
    """The lines of each function or class whose `def`/`class` line is among `starts`."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return {}  # not Python (a log, a traceback): no bodies
    return {
        node.lineno: range(node.lineno, (node.end_lineno or node.lineno) + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.lineno in starts
    }


def _named_lines(question: str, code: str, lines: list[str]) -> dict[int, set[str]]:
    """Each line of the code that the question names, with the names on it."""
    found: dict[int, set[str]] = {}
    defined = {
        word
        for word in _CAPITALS.findall(question)
        if re.search(rf"^\s*{word}\s*(?::[^=]+)?=", code, re.MULTILINE)
    }
    methods = _method_lines(code)
    for name in [*question_names(question), *sorted(defined)]:
        hits = _lines_with(name, lines)
        if not hits and name in methods:  # `PopplerParser.execute`: its `def` in that class
            hits, name = [methods[name]], name.rpartition(".")[2]
        elif not hits and "." in name:  # `dbutil.upgrade_if_needed` is defined as the last part
            name = name.rpartition(".")[2]
            hits = _lines_with(name, lines)
        if 0 < len(hits) <= _NAMED_AT_MOST:
            for number in hits:
                found.setdefault(number, set()).add(name)
    for number, phrase in _phrase_lines(question, lines).items():
        found.setdefault(number, set()).add(phrase)
    return found


def _method_lines(code: str) -> dict[str, int]:
    """`Class.method` -> the line of that method's `def`, for each class the code defines at
    its top level: a question names a method with its class, and the bare name is often on
    several classes (a view's `post`) or lines (`execute`). Empty for text that is not Python."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {}
    return {
        f"{node.name}.{item.name}": item.lineno
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }


_CAMEL = re.compile(r"[a-z][A-Z]")
_DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s+(\w+)", re.MULTILINE)


def without_own_names(question: str, code: str) -> str:
    """The question without the names of functions and classes the code defines: they say what
    the user's code is called, not what is wrong with it (jupyterhub's `grant_role` and
    `check_for_default_roles`, named in a question about a COMMIT per user, made authorization
    its first rule). A name that is also a plain word ("retry", "run") goes only where the
    question writes it as code: called, or after a dot."""
    defined = set(_DEFINITION.findall(code))
    shaped = {name for name in defined if "_" in name.strip("_") or _CAMEL.search(name)}
    patterns = []
    if shaped:  # with what it is reached through: `HgPushlogProcess.run`, `self.grant_role`
        patterns.append(rf"(?<![\w.])(?:\w+\.)*{_any_of(shaped)}(?!\w)")
    if plain := defined - shaped:
        patterns.append(rf"(?<!\w){_any_of(plain)}(?=\()")
    return re.sub("|".join(patterns), " ", question) if patterns else question


def _any_of(names: set[str]) -> str:
    return "(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + ")"


def pointed_lines(question: str, code: str) -> tuple[frozenset[int], frozenset[int]]:
    """The lines the question names, and the bodies of the functions and classes whose `def`
    or `class` line it names. A line found only by a quoted sentence is where a symptom is
    printed, not a pointer: the f-string of a quoted log call made logging the one rule of a
    thread-crash question."""
    found = _named_lines(question, code, code.splitlines())
    named = frozenset(n for n, names in found.items() if not all(m[0] == '"' for m in names))
    bodies = {number for span in _definitions(code, named).values() for number in span}
    return named, frozenset(bodies)


def _lines_with(name: str, lines: list[str]) -> list[int]:
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
    return [number for number, text in enumerate(lines, start=1) if pattern.search(text)]


def question_names(question: str) -> list[str]:
    """The names and numbers a question mentions as code, longest first: a quoted word, a name
    quoted inside a quoted message (`local variable 'comments'`), and names shaped like code
    anywhere. The plain words of a quoted sentence name nothing ("You", "been", "out")."""
    words = _CODE_WORD.findall(question)
    for text in _quoted(question):
        words += _NAME.findall(text) if len(text.split()) == 1 else _INNER_QUOTE.findall(text)
    names = {word.replace(",", "") if word[0].isdigit() else word for word in words}
    names = {name for name in names if name.lower() not in _PROSE}
    return sorted(names, key=lambda n: (-len(n), n))


def _quoted(question: str) -> list[str]:
    return [
        next(group for group in match.groups() if group) for match in _QUOTED.finditer(question)
    ]


def _phrase_lines(question: str, lines: list[str]) -> dict[int, str]:
    """Lines holding the start of a sentence the question quotes (a log line, a flash message):
    where the symptom is printed, shown under the phrase's first words."""
    found: dict[int, str] = {}
    for text in _quoted(question):
        if len(text.split()) < PHRASE_WORDS:
            continue
        opening = " ".join(text.split()[:PHRASE_WORDS])
        hits = [number for number, line in enumerate(lines, start=1) if opening in line]
        for number in hits if len(hits) <= _NAMED_AT_MOST else []:
            found[number] = f'"{opening} ..."'
    return found


def _some_lines(numbers: list[int], shown: int = 5) -> str:
    ordered = sorted(numbers)
    more = f" and {len(ordered) - shown} more" if len(ordered) > shown else ""
    return ", ".join(map(str, ordered[:shown])) + more


def _rewrite_hint(findings: Sequence[Finding]) -> str:
    """For the answer's own findings, where its shape has no diff: that one is a question away (a debug answer about a
    hang should not hide that `bepro fix` adds the timeout)."""
    from bepro.review.registry import REWRITES

    safe = {code for code, rewrite in REWRITES.items() if rewrite.safe}  # what `fix` will show
    fixable = [finding for finding in findings if finding.source in safe]
    if not fixable:
        return ""
    verb = "has" if len(fixable) == 1 else "have"
    return (
        f"{len(fixable)} of these findings {verb} an offline rewrite: ask again with the action "
        "`fix` to see it as a validated diff, or run `bepro fix` on the file.\n\n"
    )


def _preview_note(findings: Sequence[Finding]) -> list[str]:
    """One line counting the preview codes' findings, by code with their lines."""
    lines_by_code: dict[str, list[int]] = {}
    for finding in filter(_preview, findings):
        lines_by_code.setdefault(finding.source, []).append(finding.line)
    if not lines_by_code:
        return []
    total = sum(len(numbers) for numbers in lines_by_code.values())
    listed = "; ".join(
        f"`{code}` line{'s' if len(numbers) > 1 else ''} {_some_lines(numbers)}"
        for code, numbers in sorted(lines_by_code.items())
    )
    return [
        f"Preview codes (noisier on real code; `bepro review --preview` reports them) also "
        f"flag {total}: {listed}."
    ]


def rewrites_section(report: FixReport | None) -> str:
    """bepro fix's validated rewrites of the user's code as one diff, and what it left alone."""
    if report is None:
        return ""
    done = [o for o in report.outcomes if o.status in REWRITTEN]
    lines = [
        "## Validated rewrites",
        "",
        f"`bepro fix` rewrote {len(done)} of {len(report.outcomes)} findings offline. Each "
        "rewrite compiles, adds no ruff error and no finding at priority 1-4; nothing was written.",
        "",
        "| line | code | rule | outcome |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {o.finding.line} | `{o.finding.source}` | [{o.finding.rule_id}] | {_outcome(o)} |"
        for o in report.outcomes
    ]
    for diff in report.diffs.values():
        lines += ["", "```diff", diff.rstrip("\n"), "```"]
    if done:
        lines += ["", "`bepro fix --apply FILE` writes them, atomically and with an undo copy."]
    if len(done) < len(report.outcomes):
        lines += ["With an LLM configured, `bepro fix --llm FILE` proposes the others."]
    return "\n".join(lines) + "\n"


REWRITTEN = ("proposed", "applied")


def _outcome(outcome: FixOutcome) -> str:
    if outcome.status in REWRITTEN:
        return "rewritten"
    if outcome.status == "skipped":
        return "no offline rewrite"
    return f"rejected: {outcome.reason.replace('|', '/')}"


def ask(
    request: AskRequest,
    catalogue: Catalogue,
    paths: Paths,
    reporter: Reporter | None = None,
    retriever: Retriever | None = None,
) -> AskResult:
    """The offline answer to a request (the LLM path lives in agent/llm_answer.py)."""
    return offline_result(
        retrieve(request, catalogue, paths, reporter, retriever), catalogue, paths
    )
