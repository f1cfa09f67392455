"""The deterministic answer engine: the retrieved rules, told from their references in the shape
of the action's output contract (references/actions/<action>.md).

Every action shares a frame: the header line, the rules in priority order, "## Closest to your
question" (the few items of those rules that stand out for it, when some do), one section per
rule, "## Example" (the closest rule's runnable Do sample, for shapes that show code),
"## Checklist", "## Next for `action`" and "## Sources". What a rule's section holds, the order
of the sections and what comes before them depend on the action (SHAPES). Reference text is shown
as whole markdown blocks from the token tree (a list item with its children, a table, a code
fence), and trimmed by dropping whole blocks, never by cutting one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path

from bepro.agent.relevance import Relevance
from bepro.catalogue.model import Catalogue, Rule
from bepro.knowledge.references import (
    SYNC_VARIANT,
    RuleReference,
    action_contract,
    load_reference,
    opening_text,
)
from bepro.mdparse import Block

# Whole Do examples per answer, in lines: the first is always shown, the next ones while they fit.
MAX_CODE_LINES = 120
# Characters of one reference section shown in one rule's section. Wide answers (4-6 rules) get
# less per rule, so their length stays close to a narrow answer's.
NARROW_CHARS = 1200
WIDE_CHARS = 500
WHOLE_SECTION = 1200  # sections shown whole: detection, trade-offs, exit criteria
NARROW_CHECKLIST_CHARS = 450
WIDE_CHECKLIST_CHARS = 300

HOW = "How to apply it in Python"
WHY = "Why it matters"
DO = "Do"
DETECT = "How to detect it"
CHECKLIST = "Review checklist"
TRADE_OFFS = "Trade-offs and when not to apply it"
BY_ACTION = "By action"
SYMPTOMS = "Symptoms and situations"
# A How item the question names outright joins the shown ones: its words must weigh PIN_MIN
# (about two rare words) and PIN_RATIO times those of the closest item already shown.
PIN_MIN = 8.0
PIN_RATIO = 1.5
SIGNS_SHOWN = 3  # a matching symptom is among the 3 closest for 0.85-0.91 of real questions
# "Closest to your question": the symptoms and How items, across the answer's rules, that stand out
# for the question: their words weigh PIN_MIN or more and CLOSEST_STANDOUT times the median of the
# CLOSEST_TYPICAL best items' (a long report shares words with every item; only a peak counts).
# On 24 real questions, 1.5 showed an item for 19 and about 0.74 of those shown were on point.
CLOSEST_SHOWN = 3
CLOSEST_TYPICAL = 10
CLOSEST_STANDOUT = 1.5
# Shared words alone drew items off target in 9 of 16 answers of a later audit ("feature" met a
# cache TTL item, "already" a Django one): an item must also mean something close to the question,
# its opening (references.OPENING_CHARS; a long How item's tail blurs its embedding) at a cosine of
# CLOSEST_MIN_COSINE to the question's. On the 72 items the two audits' 40 questions drew
# (bench/*answers-audit*.questions.jsonl), judged by hand: 17 of the 24 off target fell under it,
# and 1 of the 48 on point or partly; the lowest on point kept was at 0.31.
CLOSEST_MIN_COSINE = 0.3
CLOSEST = "Closest to your question"
MEASURE_FIRST = "profiling"  # optimize opens with it: measure before changing anything
# A question that quotes a profiler, a query plan or a per-function split has taken that step:
# on real files, "measure first" after "py-spy shows most of the time in grant_role" read as
# boilerplate that ignored the question.
MEASURED = re.compile(
    r"\b(py-?spy|cprofile|profiled|profiler (shows|output|says)|pyinstrument|scalene|yappi"
    r"|flame ?graphs?|explain analy[sz]e|pg_stat_statements|slow query log|debug toolbar|silk"
    r"|most of the time (is )?(in|spent))\b",
    re.IGNORECASE,
)
AFTER_MEASURING = (
    "take the lever below that removes the most of what your measurement shows, then measure "
    "again the same way, on the same data, to confirm the gain before the next one."
)

# What a finding of each severity means for the merge (references/actions/review.md).
IF_FOUND = {
    "CRITICAL": "blocks the merge",
    "HIGH": "fix, or a ticket with an owner",
    "MEDIUM": "follow-up",
}


@dataclass(frozen=True)
class Citation:
    rule_id: str
    source: str
    heading: str


@dataclass(frozen=True)
class RuleAdvice:
    rule: Rule
    reference: RuleReference | None
    retrieved_from: Citation
    rank: int = 0  # 0 is the closest match to the question: ranked shapes follow it
    in_code: bool = False  # a finding in the user's code breaks it: it leads any shape


@dataclass
class _Asked:
    """The question, and which reference items come closest to it (worked out once, and only
    for a shape that orders items by it)."""

    question: str
    references: list[RuleReference]
    synchronous: bool = False  # the code or question is sync: a reference's sync Do example fits
    prose: str | None = None  # the question, when it came without code
    shown_first: list[Block] = field(default_factory=list)  # in "Closest to your question"

    @cached_property
    def relevance(self) -> Relevance:
        return Relevance.of(self.question, self.references)

    def not_shown(self, blocks: Iterable[Block]) -> tuple[Block, ...]:
        return tuple(block for block in blocks if block not in self.shown_first)


@dataclass
class _View:
    """One rule being written: what it may show, and the reference headings it showed."""

    advice: RuleAdvice
    reference: RuleReference
    wide: bool
    code: _CodeBudget
    asked: _Asked
    used: list[str] = field(default_factory=list)

    @property
    def rule(self) -> Rule:
        return self.advice.rule

    @property
    def chars(self) -> int:
        return WIDE_CHARS if self.wide else NARROW_CHARS

    def blocks(self, heading: str) -> tuple[Block, ...]:
        found = self.reference.blocks.get(heading, ())
        if found and heading not in self.used:
            self.used.append(heading)
        return found

    def opening(self, heading: str) -> list[Block]:
        """A section's opening argument: its first paragraph, with the list it introduces."""
        units = _units(self.blocks(heading))
        return units[0] if units and units[0][0].kind == "paragraph" else []

    def by_action(self, action: str) -> str:
        advice = self.reference.by_action.get(action, "")
        if advice:
            self.blocks(BY_ACTION)
        return advice


@dataclass
class _CodeBudget:
    lines_left: int = MAX_CODE_LINES
    # (rule id, label, code lines)
    samples: list[tuple[str, str, list[str]]] = field(default_factory=list)


Body = Callable[[_View], list[str]]
Framing = Callable[[list[_View]], list[str]]


@dataclass(frozen=True)
class Shape:
    """How one action's answer is laid out."""

    body: Body  # what one rule's section shows
    label: str = ""  # "Phase" -> "## Phase 1 · `id`: ..."; "" -> "## 1. `id`: ..."
    # sections by rank, in the order this names ("likeliest cause first"), not by priority
    ranked_by: str = ""
    wide: bool = False  # 4-6 rules: less of each reference per rule
    framing: Framing | None = None  # a section before the rules' own (a findings table, ...)
    checklist: Framing | None = None  # replaces the review checklist

    @property
    def ranked(self) -> bool:
        return bool(self.ranked_by)


def compose_answer(
    question: str,
    action: str,
    advice: list[RuleAdvice],
    catalogue: Catalogue,
    note: str | None = None,
    about: str | None = None,
    synchronous: bool = False,
) -> tuple[str, list[Citation]]:
    """Markdown for the answer, and every citation it relies on; `note` (the action was a guess)
    follows the header; `about` (the question by default) is what reference items are matched
    against; `synchronous` picks a reference's synchronous Do example where it has one."""
    shape = SHAPES.get(action, SHAPES["implement"])
    order = _section_order(advice, shape, action)
    budget = _CodeBudget()
    references = [item.reference for item in order if item.reference]
    prose = question if about in (None, question) else None  # else it carries code's findings
    asked = _Asked(about or question, references, synchronous, prose)
    views = [
        _View(item, item.reference, shape.wide, budget, asked)
        for item in order
        if item.reference is not None
    ]
    closest = _closest(views)
    # Bodies are written best match first, so the code budget goes to the closest rules, then
    # laid out in the shape's order.
    bodies = {v.rule.id: shape.body(v) for v in sorted(views, key=lambda v: v.advice.rank)}
    lines = [f"**Action:** {action} · **Question:** {_headline(question)}", ""]
    if note:
        lines += [note, ""]
    if advice:  # the first citations, in priority order (or the code's first), then the layout
        cited = " · ".join(f"[{item.rule.id}]" for item in advice)
        order_said = "those your code breaks first" if advice[0].in_code else ""
        layout = f" (the sections below: {shape.ranked_by})" if shape.ranked else ""
        lines += [
            f"Rules that apply, {order_said or 'highest priority first'}: {cited}{layout}",
            "",
        ]
    lines += closest
    if shape.framing is not None and views:
        lines += shape.framing(views)
    # optimize's measuring section comes first and is not one of the numbered levers
    skip = int(action == "optimize" and bool(order) and order[0].rule.id == MEASURE_FIRST)
    for number, item in enumerate(order, start=1 - skip):
        lines += _rule_heading(number, item.rule, shape, action)
        lines += bodies.get(item.rule.id) or [
            f"See `{item.rule.reference_path}` (not written yet) and SKILL.md.",
            "",
        ]
    lines += _examples(budget)
    lines += (shape.checklist or _review_checklist)(views)
    lines += _next_steps(action, catalogue, advice)
    citations = list(dict.fromkeys(c for item in advice for c in _citations(item, views)))
    lines += ["## Sources", ""]
    lines += [f"- [{c.rule_id}] {c.source} - {c.heading}" for c in citations]
    return "\n".join(lines).rstrip() + "\n", citations


# The question is echoed on one line: a pasted issue with its code took 9-22 of the first
# screen's lines in an audit of answers to real questions.
HEADLINE_CHARS = 100


def _headline(question: str) -> str:
    """The question's first line, cut at a word near HEADLINE_CHARS, `…` where text was left."""
    lines = [line.strip() for line in question.strip().splitlines() if line.strip()]
    first = " ".join(lines[0].split()) if lines else ""
    if len(first) <= HEADLINE_CHARS and len(lines) <= 1:
        return first
    cut = first[:HEADLINE_CHARS].rsplit(" ", 1)[0] if len(first) > HEADLINE_CHARS else first
    return f"{cut.rstrip(' .,:;')}…"


def _section_order(advice: list[RuleAdvice], shape: Shape, action: str) -> list[RuleAdvice]:
    if not shape.ranked:
        return advice  # already in priority order
    ranked = sorted(advice, key=lambda item: item.rank)
    if action == "optimize":  # measuring comes before any lever, however it ranked
        ranked.sort(key=lambda item: item.rule.id != MEASURE_FIRST)
    return ranked


def _rule_heading(number: int, rule: Rule, shape: Shape, action: str) -> list[str]:
    return [
        f"## {_heading_label(number, rule, shape, action)} `{rule.id}`: {rule.summary}",
        "",
        f"*[{rule.id}] · {rule.category} · priority {rule.priority} · {rule.severity}*",
        "",
    ]


def _heading_label(number: int, rule: Rule, shape: Shape, action: str) -> str:
    if action == "optimize":
        # numbered as levers after the measuring section, which is not one
        return "Measure first ·" if rule.id == MEASURE_FIRST else f"Lever {number} ·"
    return f"{shape.label} {number} ·" if shape.label else f"{number}."


# --- pieces of a rule's section ---------------------------------------------------------------


def _statement(view: _View) -> list[str]:
    return _labelled_text("", view.reference.statement)


def _labelled(label: str, text: str) -> list[str]:
    return _labelled_text(f"**{label}:** ", text)


def _labelled_text(prefix: str, text: str) -> list[str]:
    # one line, like every paragraph the renderer gives: the source's wrapping is not meaningful
    return [prefix + " ".join(text.split()), ""] if text else []


def _opening(view: _View, heading: str, label: str) -> list[str]:
    """The section's opening under a label: inline when it is one paragraph."""
    unit = view.opening(heading)
    if len(unit) == 1:
        return _labelled(label, unit[0].lead)
    return [f"**{label}:**", "", *join_blocks(unit), ""] if unit else []


def _section(view: _View, heading: str, label: str, chars: int) -> list[str]:
    """A reference section under a label, as whole blocks up to `chars` (always the first), with
    a pointer to the rest when some were left out."""
    found = view.asked.not_shown(view.blocks(heading))
    if not found:
        return []
    shown = fit(found, chars)
    if heading == HOW:
        shown = _with_the_asked_item(view, found, shown, chars)
    lines = [f"**{label}:**", "", *join_blocks(shown), ""]
    if len(shown) < len(found):
        lines += [f"*More in `{view.rule.reference_path}` > {heading}.*", ""]
    return lines


@dataclass(frozen=True)
class ClosestItem:
    """A symptom or How item that stands out for the question, and where it comes from."""

    reference: RuleReference
    heading: str
    block: Block


def closest_items(
    relevance: Relevance, references: Iterable[RuleReference], prose: str | None
) -> list[ClosestItem]:
    """The few symptoms and How items, across the references, that the question names outright
    (a `--preload` question meets the fork-safe pools item, a `../../etc/passwd` one the file-name
    item), closest first; for a question in prose, those that mean something close to it. Asked
    about code, the words matched are the review's findings, which name the defect as the
    references do."""
    scored = [
        (relevance.score(block), ClosestItem(reference, heading, block))
        for reference in references
        for heading in (SYMPTOMS, HOW)
        for block in reference.blocks.get(heading, ())
        if block.kind == "item"
    ]
    ranked = sorted(scored, key=lambda entry: -entry[0])
    typical = ranked[min(len(ranked), CLOSEST_TYPICAL) // 2][0] if ranked else 0.0
    floor = max(PIN_MIN, CLOSEST_STANDOUT * typical)
    standing_out = [item for score, item in ranked if score >= floor][: 2 * CLOSEST_SHOWN]
    if prose is not None:
        standing_out = _near_in_meaning(standing_out, prose)
    return standing_out[:CLOSEST_SHOWN]


def _near_in_meaning(items: list[ClosestItem], question: str) -> list[ClosestItem]:
    closeness = _closeness([item.block for item in items], question)
    return [item for item, near in zip(items, closeness, strict=True) if near >= CLOSEST_MIN_COSINE]


def _closeness(blocks: list[Block], prose: str) -> list[float]:
    """Each item's cosine to the question, by its opening (the index keeps their vectors)."""
    if not blocks:
        return []
    from bepro.retrieval.embed import default_embedder  # loaded already: it ranked the rules
    from bepro.retrieval.openings import vector_of

    asked = default_embedder().embed([prose])[0]
    return [float(asked @ vector_of(opening_text(block))) for block in blocks]


def _closest(views: list[_View]) -> list[str]:
    """The closest items, each citing its rule; the rules' own sections then leave them out."""
    if not views:
        return []
    by_rule = {view.rule.id: view for view in views}
    lines: list[str] = []
    asked = views[0].asked
    for item in closest_items(asked.relevance, (view.reference for view in views), asked.prose):
        view = by_rule[item.reference.rule_id]
        view.blocks(item.heading)  # cited
        view.asked.shown_first.append(item.block)
        lines += _cite_item(item.block, view.rule.id)
    return [f"## {CLOSEST}", "", *lines, ""] if lines else []


def _with_the_asked_item(
    view: _View, found: tuple[Block, ...], shown: list[Block], chars: int
) -> list[Block]:
    """`shown`, led by the item the question singles out when the budget left it out: a question
    about a per-IP rate limit sees the per-client quota item, not only the section's first ones."""
    relevance = view.asked.relevance
    items = [block for block in found if block.kind == "item"]
    if not items:
        return shown
    best = max(items, key=relevance.score)  # the first of equals
    score = relevance.score(best)
    runner_up = max((relevance.score(b) for b in shown if b.kind == "item"), default=0.0)
    if best not in shown and score >= PIN_MIN and score >= PIN_RATIO * runner_up:
        shown = _led_by(best, found, chars)
    nearest = _nearest_in_meaning(items, view.asked.prose)
    return shown if nearest is None or nearest in shown else _led_by(nearest, found, chars)


def _led_by(item: Block, found: tuple[Block, ...], chars: int) -> list[Block]:
    size = sum(len(line) + 1 for line in item.lines)
    return [item, *fit((b for b in found if b is not item), chars - size)]


def _nearest_in_meaning(items: list[Block], prose: str | None) -> Block | None:
    """The item whose opening means most nearly what a question in prose asks, when near enough
    (CLOSEST_MIN_COSINE). On 97 real questions with the items a labeller picked per rule, the
    section then showed a picked item for 0.94 (dev) and 0.85 (held-out) of them, against 0.78
    and 0.77 with shared words alone (bench/how_items.py)."""
    if prose is None:
        return None
    closeness = _closeness(items, prose)
    best = max(range(len(items)), key=closeness.__getitem__)
    return items[best] if closeness[best] >= CLOSEST_MIN_COSINE else None


def _signs(view: _View) -> list[str]:
    """The rule's symptoms closest to what the question reports, closest first: the user picks the
    one they see (the closest alone is the right one for only about 0.6 of real questions)."""
    signs = view.asked.relevance.closest(view.asked.not_shown(view.blocks(SYMPTOMS)), SIGNS_SHOWN)
    return ["**Would explain it if you see:**", "", *join_blocks(signs), ""] if signs else []


def _situation(view: _View, label: str) -> list[str]:
    """The rule's symptom the question names (a pool total at 20 pods, a token in the logs), or
    else the reference's incident story: a symptom that matches says more, in two lines."""
    closest = view.asked.relevance.closest(
        view.asked.not_shown(view.reference.blocks.get(SYMPTOMS, ())), 1
    )
    if closest and view.asked.relevance.score(closest[0]) >= PIN_MIN:
        view.blocks(SYMPTOMS)
        return [f"**{label}:**", "", *join_blocks(closest), ""]
    return _opening(view, WHY, label)


def _tables(view: _View, heading: str, label: str) -> list[str]:
    tables = [b for b in view.reference.blocks.get(heading, ()) if b.kind == "table"]
    if not tables:
        return []
    view.blocks(heading)
    return [f"**{label}:**", "", *join_blocks(tables), ""]


def _code(view: _View) -> list[str]:
    """Keeps the Do example for the end of the answer while the code budget lasts; else says
    where to find it. Samples go after the rules' sections: shown inside them, a 50-line example
    written for another scenario filled the first screen of 13 of 24 real questions."""
    found = _do_example(view.blocks(DO), view.asked.synchronous)
    if found is None:
        return []
    label, code = found
    budget = view.code
    if budget.samples and len(code.lines) > budget.lines_left:
        return [f"*Runnable example: `{view.rule.reference_path}` > Do.*", ""]
    budget.lines_left -= len(code.lines)
    budget.samples.append((view.rule.id, label, list(code.lines)))
    return []


def _do_example(blocks: tuple[Block, ...], synchronous: bool) -> tuple[str, Block] | None:
    """(label, code) of the Do section's first code block or, for synchronous code, of the one
    its paragraph introduces as the synchronous variant, where the reference has one."""
    if synchronous:
        for before, block in pairwise(blocks):
            if block.kind == "code" and before.lead.startswith(SYNC_VARIANT):
                return "Do, synchronous", block
    return next((("Do", block) for block in blocks if block.kind == "code"), None)


def _examples(budget: _CodeBudget) -> list[str]:
    lines: list[str] = []
    for rule_id, label, code in budget.samples:
        lines += [f"## Example: `{rule_id}`", "", f"**{label}:**", "", *code, ""]
    return lines


def fit(blocks: Iterable[Block], chars: int) -> list[Block]:
    """The leading blocks whose markdown fits in `chars`; the first unit always, whole. Dropping
    whole units from the end keeps every list item with its children, and a paragraph that
    introduces a list ("HTTP APIs:") with that list."""
    kept: list[Block] = []
    used = 0
    for unit in _units(blocks):
        size = sum(len(line) + 1 for block in unit for line in block.lines)
        if kept and used + size > chars:
            break
        kept.extend(unit)
        used += size
    return kept


def _units(blocks: Iterable[Block]) -> list[list[Block]]:
    units: list[list[Block]] = []
    for block in blocks:
        if block.kind == "item" and units and _introduces_a_list(units[-1][0]):
            units[-1].append(block)
        else:
            units.append([block])
    return units


def _introduces_a_list(block: Block) -> bool:
    return block.kind == "paragraph" and block.lead.endswith(":")


def join_blocks(blocks: Iterable[Block]) -> list[str]:
    """Blocks as markdown: items of one list stay together, other blocks are a blank line apart."""
    lines: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if previous is not None and not (previous.kind == block.kind == "item"):
            lines.append("")
        lines.extend(block.lines)
        previous = block
    return lines


# --- bodies: one per kind of output contract ---------------------------------------------------


def _change_body(view: _View) -> list[str]:
    """implement, refactor: what to do and the code that does it."""
    return [*_statement(view), *_section(view, HOW, "How to apply it", view.chars), *_code(view)]


def _fix_body(view: _View) -> list[str]:
    return [
        *_statement(view),
        *_labelled("Fix", view.by_action("fix")),
        *_section(view, HOW, "How to apply it", view.chars),
        *_code(view),
    ]


def _plan_body(view: _View) -> list[str]:
    return [
        *_statement(view),
        *_labelled("Scope", view.by_action("plan")),
        *_section(view, HOW, "Work", view.chars),
        *_section(view, CHECKLIST, "Exit criteria", WHOLE_SECTION),
    ]


def _design_body(view: _View) -> list[str]:
    return [
        *_statement(view),
        *_section(view, HOW, "Option A, apply it", view.chars),
        *_opening(view, WHY, "Option B, change nothing, and accept the risk"),
        *_section(view, TRADE_OFFS, "Trade-offs and when not to apply it", view.chars),
    ]


def _review_body(view: _View) -> list[str]:
    return [
        *_statement(view),
        *_section(view, DETECT, "How to detect it", WHOLE_SECTION),
        *_code(view),
    ]


def _debug_body(view: _View) -> list[str]:
    return [
        *(_signs(view) or _opening(view, WHY, "Would explain it because")),
        # what to look at in the running system; the reference's detection section is about
        # reading code, so it stands in only for a rule without a debug line
        *(
            _labelled("Evidence to collect", view.by_action("debug"))
            or _section(view, DETECT, "Evidence to collect", WHOLE_SECTION)
        ),
        *_statement_as("What right looks like", view),
        *_section(view, HOW, "Fix", view.chars),
    ]


def _optimize_body(view: _View) -> list[str]:
    if view.rule.id == MEASURE_FIRST and MEASURED.search(view.asked.question):
        return [*_statement(view), *_labelled("You have measured", AFTER_MEASURING)]
    if view.rule.id == MEASURE_FIRST:
        return [*_statement(view), *_section(view, HOW, "Measure", NARROW_CHARS)]
    return [
        *_statement(view),
        *_labelled("Expected gain", view.by_action("optimize")),
        *_section(view, HOW, "How to apply it", view.chars),
        *_code(view),
    ]


def _scale_body(view: _View) -> list[str]:
    return [
        *_situation(view, "Where it bites"),
        *_labelled("At scale", view.by_action("scale")),
        *_section(view, HOW, "Changes", view.chars),
    ]


def _secure_body(view: _View) -> list[str]:
    return [
        *_statement(view),
        *_situation(view, "Threat"),
        *_section(view, HOW, "Hardening", view.chars),
    ]


def _build_body(view: _View) -> list[str]:
    # the How items are the scaffolding checklist; the section keeps its defaults and code
    return [*_statement(view), *_tables(view, HOW, "Defaults"), *_code(view)]


def _statement_as(label: str, view: _View) -> list[str]:
    return _labelled(label, view.reference.statement)


# --- framings and checklists --------------------------------------------------------------------


def _findings_table(views: list[_View]) -> list[str]:
    """review: what to look for, one row per rule, highest priority first."""
    rows = [
        f"| {n} | [{v.rule.id}] | {v.rule.severity} | "
        f"{_cell(v.by_action('review') or v.rule.summary)} | {IF_FOUND[v.rule.severity]} |"
        for n, v in enumerate(views, start=1)
    ]
    return [
        "## Findings to look for",
        "",
        "| # | rule | severity | what to check | if found |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _threats_table(views: list[_View]) -> list[str]:
    """secure: the control each rule puts against its threat (the threat is in its section)."""
    rows = [
        f"| {n} | [{v.rule.id}] {_cell(v.rule.summary)} | {v.rule.severity} | "
        f"{_cell(v.by_action('secure') or v.reference.statement)} |"
        for n, v in enumerate(views, start=1)
    ]
    return [
        "## Threats and controls",
        "",
        "| # | rule | severity | control |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _review_checklist(views: list[_View]) -> list[str]:
    """Each rule's review checklist, as whole items, each citing its rule."""
    lines: list[str] = []
    for view in views:
        chars = WIDE_CHECKLIST_CHARS if view.wide else NARROW_CHECKLIST_CHARS
        for block in fit(view.blocks(CHECKLIST), chars):
            lines += _cite_item(block, view.rule.id)
    return ["## Checklist", "", *lines, ""] if lines else []


def _phase_gates(views: list[_View]) -> list[str]:
    """plan: the exit criteria are in each phase; the checklist is the gate between phases."""
    gates = [
        f"- [ ] Phase {n}: every exit criterion of `{v.rule.id}` holds before the next phase "
        f"starts [{v.rule.id}]"
        for n, v in enumerate(views, start=1)
    ]
    return ["## Checklist: phase gates", "", *gates, ""]


def _scaffolding(views: list[_View]) -> list[str]:
    """build: each rule's How items as tasks, with the detail nested under them."""
    lines: list[str] = []
    for view in views:
        # tables are the section's defaults; paragraphs stay, as the lead-ins of their lists
        steps = [b for b in view.blocks(HOW) if b.kind != "table"]
        shown = fit(steps, view.chars)
        if not shown:
            continue
        lines += [f"**`{view.rule.id}`**: {view.rule.summary} [{view.rule.id}]", ""]
        lines += join_blocks(_as_task(block) for block in shown)
        if len(shown) < len(steps):
            lines.append(f"- [ ] The rest of `{view.rule.reference_path}` > {HOW}")
        lines.append("")
    return ["## Checklist: scaffolding", "", *lines] if lines else []


def _cite_item(block: Block, rule_id: str) -> list[str]:
    """The item with its rule cited at the end of its first line (its own text)."""
    first, *rest = block.lines
    return [f"{first} [{rule_id}]", *rest]


def _as_task(block: Block) -> Block:
    first, *rest = block.lines
    if block.kind != "item" or not first.startswith("- ") or first.startswith("- [ ]"):
        return block
    return Block(block.kind, (f"- [ ] {first[2:]}", *rest), block.lead)


# --- the frame ---------------------------------------------------------------------------------


def _next_steps(action: str, catalogue: Catalogue, advice: list[RuleAdvice]) -> list[str]:
    found = catalogue.action(action)
    if found is None:
        return []
    lines = [
        f"## Next for `{action}`",
        "",
        f"Deliver: {found.produces}. Weigh most: {', '.join(found.focus)}. "
        f"Steps and output contract: `{found.guide_path}`.",
        "",
    ]
    root = _pack_root(advice)
    contract = action_contract(root, action) if root is not None else ()
    if contract:
        lines += [f"The full output contract: {' · '.join(contract)}.", ""]
    return lines


def _pack_root(advice: list[RuleAdvice]) -> Path | None:
    # a reference lives at <root>/references/rules/<id>.md: its path is the one the pack used
    path = next((item.reference.path for item in advice if item.reference is not None), None)
    return path.parents[2] if path is not None else None


def _citations(item: RuleAdvice, views: list[_View]) -> list[Citation]:
    """Where the rule was retrieved from, then each reference section the answer shows."""
    cites = [item.retrieved_from]
    view = next((v for v in views if v.advice is item), None)
    if view is not None:
        source = _relative(view.reference.path.as_posix())
        cites += [
            Citation(item.rule.id, source, f"{view.reference.title} > {heading}")
            for heading in view.used
        ]
    return cites


def _relative(source: str) -> str:
    marker = "references/"
    return source[source.index(marker) :] if marker in source else source


SHAPES: dict[str, Shape] = {
    # phases by rank: the work the question is about first, the rules it touches after
    "plan": Shape(
        _plan_body,
        label="Phase",
        ranked_by="the work you asked about first",
        wide=True,
        checklist=_phase_gates,
    ),
    "design": Shape(_design_body, label="Decision", wide=True),
    "build": Shape(_build_body, wide=True, checklist=_scaffolding),
    "scale": Shape(
        _scale_body, label="Bottleneck", ranked_by="closest to your question first", wide=True
    ),
    "secure": Shape(_secure_body, wide=True, framing=_threats_table),
    "review": Shape(_review_body, framing=_findings_table),
    "debug": Shape(_debug_body, label="Hypothesis", ranked_by="likeliest cause first"),
    "optimize": Shape(_optimize_body, ranked_by="measuring, then the likeliest gain"),
    "implement": Shape(_change_body),
    # the defect the question describes (or the code's findings) first, not the highest priority
    "fix": Shape(_fix_body, ranked_by="the defect you describe first"),
    "refactor": Shape(_change_body),
}


def advice_for(
    rule_ids: list[str],
    retrieved: dict[str, Citation],
    catalogue: Catalogue,
    root: Path,
    in_code: Collection[str] = (),
) -> list[RuleAdvice]:
    """The rules in priority order, those a finding in the user's code breaks (`in_code`) ahead
    of the rest (an answer about code opens with its findings, then their rules: mathesar's
    assert-based permission check came third, after two P1 rules, in a secure answer); each
    remembers its rank in `rule_ids` (best match first)."""
    rank = {rule_id: index for index, rule_id in enumerate(dict.fromkeys(rule_ids))}
    ordered = catalogue.in_priority_order(rule_ids)
    advice: list[RuleAdvice] = []
    for rule_id in sorted(ordered, key=lambda rule_id: rule_id not in in_code):
        rule = catalogue.rule(rule_id)
        if rule is None:
            continue
        # a rule the action adds (optimize's `profiling`) may not be among the retrieved ones
        found = retrieved.get(rule_id) or Citation(
            rule_id, rule.reference_path, f"{rule_id}: {rule.summary}"
        )
        reference = load_reference(root, rule_id)
        advice.append(RuleAdvice(rule, reference, found, rank[rule_id], rule_id in in_code))
    return advice
