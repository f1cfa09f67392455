"""Offline answers take the shape of the action's output contract, with the breadth the action
calls for, and show the references' markdown faithfully: nested lists with their children,
tables as tables, code fences whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bepro.agent import offline
from bepro.agent.ask import AskRequest, AskResult, ask, select_rules
from bepro.agent.offline import Citation, RuleAdvice, advice_for, compose_answer, fit
from bepro.agent.relevance import Relevance
from bepro.agent.stack import synchronous
from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.knowledge.references import load_reference
from bepro.mdparse import Block
from bepro.retrieval.search import Retriever, RuleHit, RuleRanking

from .conftest import ROOT

WIDE = ("plan", "design", "build", "scale", "secure")
NARROW = ("implement", "review", "fix", "optimize", "refactor", "debug")
QUESTIONS = {
    "plan": "We need to rename a column on a 300M-row Postgres table that two services use, "
    "without downtime. What is the plan?",
    "design": "After saving an order we publish OrderCreated to Kafka; sometimes the commit "
    "succeeds and the publish fails. How should we design this?",
    "build": "What should a new payments API measure so we know when it is unhealthy?",
    "scale": "Our API keeps user sessions in process memory, so we cannot run more than one "
    "replica. How do we scale out?",
    "secure": "Users can fetch /invoices/{id} of other tenants by changing the id in the URL.",
    "implement": "how do I make a payment call safe to retry?",
    "review": "Review this: our request-logging middleware dumps the full JSON body, which "
    "includes emails and card numbers.",
    "fix": "Our payment worker calls the card processor with httpx and sometimes hangs forever.",
    "optimize": "Our product page reads the same catalogue entry thousands of times a second "
    "and the database falls over when the cache entry expires.",
    "refactor": "Our service method calls the shipping API inside a SQLAlchemy transaction and "
    "holds row locks for seconds. How do we restructure it?",
    "debug": "Our FastAPI async endpoint calls requests.get and time.sleep in the handler, and "
    "throughput collapsed under load.",
}


@pytest.fixture(scope="module")
def answers(paths: Paths, catalogue: Catalogue, retriever: Retriever) -> dict[str, AskResult]:
    return {
        action: ask(AskRequest(question, action), catalogue, paths, retriever=retriever)
        for action, question in QUESTIONS.items()
    }


def _rule_sections(answer: str) -> list[tuple[str, str, str]]:
    """(heading label, rule id, body) of each section about one rule, in answer order."""
    found = re.finditer(r"^## ([^\n]*?)`([a-z0-9-]+)`: .*?\n(.*?)(?=^## |\Z)", answer, re.M | re.S)
    return [(match[1].strip(), match[2], match[3]) for match in found]


# --- breadth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", WIDE)
def test_system_wide_actions_cover_four_to_six_rules_across_categories(
    action: str, answers: dict[str, AskResult], catalogue: Catalogue
) -> None:
    rules = answers[action].rules
    assert 4 <= len(rules) <= 6, rules
    categories = {rule.category for rule in catalogue.rules if rule.id in rules}
    assert len(categories) >= 2, rules


@pytest.mark.parametrize("action", NARROW)
def test_focused_actions_cover_two_or_three_rules(
    action: str, answers: dict[str, AskResult]
) -> None:
    assert 2 <= len(answers[action].rules) <= 3, answers[action].rules


def _ranking(catalogue: Catalogue, *scored: tuple[str, float]) -> RuleRanking:
    assert all(catalogue.rule(rule_id) for rule_id, _ in scored)
    hits = tuple(RuleHit(rule_id, score, ()) for rule_id, score in scored)
    return RuleRanking(rules=hits, abstained=False, confidence=1.0)


def test_a_wide_answer_adds_a_next_best_rule_from_a_new_category(catalogue: Catalogue) -> None:
    ranking = _ranking(
        catalogue,
        ("timeouts", 1.0),
        ("retries", 0.95),
        ("circuit-breakers", 0.9),
        ("bulkheads", 0.85),
        ("load-shedding", 0.84),  # same category as the four above: ranked, but not new
        ("metrics", 0.6),  # the best rule of a category not covered yet
        ("tracing", 0.55),  # a second rule of that category: no longer new
    )
    chosen = select_rules(ranking, "design", catalogue)
    assert chosen[:4] == ["timeouts", "retries", "circuit-breakers", "bulkheads"]
    assert "metrics" in chosen
    assert "tracing" not in chosen
    assert len(chosen) <= 6
    assert select_rules(ranking, "fix", catalogue) == ["timeouts", "retries", "circuit-breakers"]


def test_rules_the_code_breaks_lead_and_the_total_stays_at_six(catalogue: Catalogue) -> None:
    ranking = _ranking(catalogue, ("timeouts", 1.0), ("retries", 0.5))
    # a narrow answer about code: what only the code's text retrieves fills up to two rules
    assert select_rules(ranking, "review", catalogue, ["secrets"]) == ["secrets", "timeouts"]
    assert select_rules(ranking, "review", catalogue, ["secrets", "authz"]) == ["secrets", "authz"]
    assert select_rules(ranking, "review", catalogue) == ["timeouts", "retries"]
    # a wide one keeps its breadth
    assert select_rules(ranking, "secure", catalogue, ["secrets"])[:3] == [
        "secrets",
        "timeouts",
        "retries",
    ]
    broken = ["secrets", "authz", "crypto", "data-min", "supply-chain", "input-validation", "lint"]
    assert select_rules(ranking, "plan", catalogue, broken) == broken[:6]


def test_a_narrow_answer_to_a_question_takes_its_three_best_rules(catalogue: Catalogue) -> None:
    """Whatever the gap between their scores; an answer about code keeps to what it found."""
    ranking = _ranking(catalogue, ("timeouts", 1.0), ("retries", 0.5), ("idempotency", 0.3))
    assert select_rules(ranking, "debug", catalogue) == ["timeouts", "retries", "idempotency"]
    assert select_rules(ranking, "fix", catalogue, ["secrets"]) == ["secrets", "timeouts"]


def test_optimize_always_measures_first(catalogue: Catalogue) -> None:
    ranking = _ranking(catalogue, ("cache", 1.0), ("batching", 0.9), ("pooling", 0.85))
    assert select_rules(ranking, "optimize", catalogue) == ["cache", "batching", "profiling"]


def test_refactor_covers_tests_and_build_covers_settings_and_tests(catalogue: Catalogue) -> None:
    ranking = _ranking(catalogue, ("typing", 1.0), ("invariants", 0.9), ("read-models", 0.85))
    assert select_rules(ranking, "refactor", catalogue)[-1] == "tests"
    build = select_rules(ranking, "build", catalogue)
    assert build[-2:] == ["config", "tests"]
    assert build[0] == "typing"  # the question's own best rule stays first
    assert "tests" not in select_rules(ranking, "review", catalogue)
    assert "config" not in select_rules(ranking, "review", catalogue)


# --- shapes -------------------------------------------------------------------------------------


def test_every_answer_keeps_the_frame_and_cites_each_rule_in_its_section(
    answers: dict[str, AskResult],
) -> None:
    for action, result in answers.items():
        text = result.answer
        assert text.startswith(f"**Action:** {action} · **Question:** "), action
        assert "\n## Checklist" in text, action
        assert "\n## Sources\n" in text, action
        sections = _rule_sections(text.split("\n## Checklist")[0])
        # the header cites in priority order; debug, optimize, plan, scale and fix lay their
        # sections out by rank, and say so
        header = "\nRules that apply, highest priority first: "
        assert header in text, action
        listed = text.split(header)[1].split("\n")[0]
        assert listed.startswith(" · ".join(f"[{rule_id}]" for rule_id in result.rules)), action
        layout = offline.SHAPES[action].ranked_by
        assert listed.endswith(f" (the sections below: {layout})" if layout else "]"), action
        assert sorted(rule_id for _, rule_id, _ in sections) == sorted(result.rules), action
        for _, rule_id, body in sections:
            assert f"[{rule_id}]" in body, (action, rule_id)


def test_a_plan_has_numbered_phases_with_rule_ids_and_exit_criteria(
    answers: dict[str, AskResult],
) -> None:
    result = answers["plan"]
    sections = _rule_sections(result.answer)
    assert [label for label, _, _ in sections] == [
        f"Phase {n} ·" for n in range(1, len(sections) + 1)
    ]
    for _, rule_id, body in sections:
        assert f"[{rule_id}]" in body
        assert "**Scope:**" in body
        criteria = body.split("**Exit criteria:**\n\n", 1)[1]
        assert criteria.startswith("- [ ] ")
    gates = result.answer.split("## Checklist: phase gates\n\n", 1)[1]
    assert gates.startswith(f"- [ ] Phase 1: every exit criterion of `{sections[0][1]}`")


def test_a_design_lists_options_with_trade_offs(answers: dict[str, AskResult]) -> None:
    sections = _rule_sections(answers["design"].answer)
    assert sections[0][0] == "Decision 1 ·"
    for _, _, body in sections:
        a = body.index("**Option A, apply it:**")
        b = body.index("**Option B, change nothing, and accept the risk:**")
        trade_offs = body.index("**Trade-offs and when not to apply it:**")
        assert a < b < trade_offs


def test_a_review_opens_with_a_findings_table(answers: dict[str, AskResult]) -> None:
    result = answers["review"]
    table = result.answer.split("## Findings to look for\n\n", 1)[1].split("\n\n", 1)[0]
    header, separator, *rows = table.splitlines()
    assert header == "| # | rule | severity | what to check | if found |"
    assert separator.count("---") == 5
    assert [re.findall(r"\[([a-z0-9-]+)\]", row)[0] for row in rows] == result.rules
    assert any("blocks the merge" in row for row in rows)  # its CRITICAL rule


def test_a_debug_answer_ranks_hypotheses_with_the_evidence_to_collect(
    answers: dict[str, AskResult],
) -> None:
    sections = _rule_sections(answers["debug"].answer)
    assert [label for label, _, _ in sections] == [
        f"Hypothesis {n} ·" for n in range(1, len(sections) + 1)
    ]
    assert sections[0][1] == "async-io"  # the likeliest cause first, whatever its priority
    for _, _, body in sections:
        assert "**Would explain it if you see:**" in body
        assert "**Evidence to collect:**" in body
        assert "`bepro review` flags" not in body  # runtime evidence, not code review
    # the symptom the question reports (a blocking call in async def) opens the answer, and the
    # hypothesis lists the rule's next closest ones
    reported = "- **An `async def` FastAPI endpoint is slower than the old sync one"
    closest = answers["debug"].answer.split("## Closest to your question\n\n", 1)[1]
    assert closest.startswith(reported)
    signs = sections[0][2].split("**Would explain it if you see:**\n\n", 1)[1].split("\n\n")[0]
    assert len(signs.splitlines()) == 3
    assert reported not in signs


def test_relevance_orders_items_by_the_rare_words_they_share_with_the_question() -> None:
    reference = load_reference(ROOT, "deploys")
    assert reference is not None
    symptoms = reference.blocks["Symptoms and situations"]
    asked = Relevance.of("Clients get 502s on every rolling deploy of our pods", [reference])
    assert asked.closest(symptoms, 1)[0].lead.startswith("**502s or `connection reset by peer`")
    unasked = Relevance.of("hello", [reference])
    items = [block for block in symptoms if block.kind == "item"]  # not the lead-in paragraph
    assert unasked.closest(symptoms, 2) == items[:2]  # no shared word: their own order


def test_optimize_measures_first_then_lists_levers(answers: dict[str, AskResult]) -> None:
    sections = _rule_sections(answers["optimize"].answer)
    assert sections[0][:2] == ("Measure first ·", "profiling")
    assert [label for label, _, _ in sections[1:]] == [
        f"Lever {n} ·" for n in range(1, len(sections))
    ]
    assert all("**Expected gain:**" in body for _, _, body in sections[1:])


def test_optimize_after_a_measurement_goes_to_the_levers(catalogue: Catalogue) -> None:
    """A question that quotes a profiler has measured: no "measure first" lecture before levers."""
    advice = _advise(ROOT, catalogue, "profiling", "batching")
    measured, _ = compose_answer(
        "py-spy shows most of the time in grant_role and a COMMIT per user. How do I speed it up?",
        "optimize",
        advice,
        catalogue,
    )
    profiling = _rule_sections(measured)[0]
    assert profiling[:2] == ("Measure first ·", "profiling")
    assert "**You have measured:** take the lever below" in profiling[2]
    assert "**Measure:**" not in profiling[2]
    unmeasured, _ = compose_answer(
        "Startup got slow. How do I speed it up?", "optimize", advice, catalogue
    )
    assert "**Measure:**" in _rule_sections(unmeasured)[0][2]


@pytest.mark.parametrize(
    ("question", "code", "sync"),
    [
        ("why does this hang?", "import requests\n\ndef f():\n    requests.get(URL)\n", True),
        ("why does this hang?", "async def f(client):\n    await client.get(URL)\n", False),
        ("Our Celery task calling the partner API hangs", None, True),
        ("Our gunicorn workers run FastAPI under uvicorn workers", None, False),
        ("We serve 2,000 requests per second", None, False),  # says nothing of the stack
    ],
)
def test_the_example_follows_the_stack_of_the_code_or_question(
    question: str, code: str | None, sync: bool, catalogue: Catalogue
) -> None:
    """Sync code (requests, Django, Celery) gets a reference's synchronous Do example where it
    has one; async code, or nothing to go on, the first."""
    assert synchronous(question, code) is sync
    answer, _ = compose_answer(
        question, "fix", _advise(ROOT, catalogue, "timeouts"), catalogue, synchronous=sync
    )
    example = answer.split("## Example: `timeouts`", 1)[1]
    if sync:
        assert example.startswith("\n\n**Do, synchronous:**")
        assert "requests.Session()" in example
    else:
        assert example.startswith("\n\n**Do:**")
        assert "httpx.AsyncClient" in example


def test_scale_secure_and_build_shapes(answers: dict[str, AskResult]) -> None:
    scale = _rule_sections(answers["scale"].answer)
    assert scale[0][:2] == ("Bottleneck 1 ·", "stateless")
    assert all("**Where it bites:**" in body and "**Changes:**" in body for *_, body in scale)
    secure = answers["secure"].answer
    assert "## Threats and controls\n\n| # | rule | severity | control |" in secure
    assert all("**Threat:**" in body for *_, body in _rule_sections(secure))
    build = answers["build"].answer
    scaffold = build.split("## Checklist: scaffolding\n\n", 1)[1].split("\n## ", 1)[0]
    assert scaffold.count("- [ ] ") >= len(answers["build"].rules)


@pytest.mark.parametrize("action", ["implement", "fix", "refactor"])
def test_changes_come_with_code(action: str, answers: dict[str, AskResult]) -> None:
    text = answers[action].answer
    assert "**How to apply it:**" in text
    # the closest rule's sample follows every rule's guidance, so it never fills the first screen
    example = re.search(r"^## Example: `([a-z0-9-]+)`\n\n\*\*Do:\*\*\n\n```python\n", text, re.M)
    assert example is not None
    assert example[1] in answers[action].rules
    last_rule = max(text.index(f"`{rule}`: ") for rule in answers[action].rules)
    assert last_rule < example.start() < text.index("## Checklist")


def test_answers_are_deterministic(
    paths: Paths, catalogue: Catalogue, retriever: Retriever, answers: dict[str, AskResult]
) -> None:
    again = ask(AskRequest(QUESTIONS["plan"], "plan"), catalogue, paths, retriever=retriever)
    assert again.answer == answers["plan"].answer


# --- faithful rendering ---------------------------------------------------------------------------

NESTED_REFERENCE = """\
# timeouts: Set per dependency; no unbounded waits

**Category:** Reliability & Resilience · **Priority:** 2 · **Severity:** CRITICAL

Every blocking call has a timeout.

## How to apply it in Python

- **HTTP:** one client per dependency.
- **Database:**
  - asyncpg: `connect(timeout=3)`.
  - PostgreSQL `statement_timeout`:
    1. 2-5 s for OLTP.
    2. longer for reporting.

| Dependency | connect | read |
| --- | :-: | ---: |
| Redis | 1 s | 0.5 s \\| 1 s |

## Do

```python
{code}
```

## Review checklist

- [ ] Does every call have a timeout?
"""


def _advise(root: Path, catalogue: Catalogue, *rule_ids: str) -> list[RuleAdvice]:
    retrieved = {
        rule_id: Citation(rule_id, f"references/rules/{rule_id}.md", rule_id)
        for rule_id in rule_ids
    }
    return advice_for(list(rule_ids), retrieved, catalogue, root)


def _pack(tmp_path: Path, code_lines: int) -> Path:
    rules = tmp_path / "references" / "rules"
    rules.mkdir(parents=True)
    code = "\n".join(f"step_{n} = {n}" for n in range(code_lines))
    (rules / "timeouts.md").write_text(NESTED_REFERENCE.format(code=code), encoding="utf-8")
    return tmp_path


def test_a_nested_list_keeps_its_children_tables_and_code_stay_whole(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    root = _pack(tmp_path, code_lines=80)
    answer, _ = compose_answer("q", "implement", _advise(root, catalogue, "timeouts"), catalogue)
    assert (
        "- **Database:**\n"
        "  - asyncpg: `connect(timeout=3)`.\n"
        "  - PostgreSQL `statement_timeout`:\n"
        "    1. 2-5 s for OLTP.\n"
        "    2. longer for reporting.\n"
    ) in answer
    assert "| Dependency | connect | read |\n| --- | :---: | ---: |\n" in answer
    assert "| Redis | 1 s | 0.5 s \\| 1 s |" in answer  # the escaped pipe stays one cell
    code = "\n".join(f"step_{n} = {n}" for n in range(80))
    assert f"```python\n{code}\n```" in answer  # 80 lines, not cut


def test_trimming_drops_whole_items_never_a_parent_without_its_children(
    catalogue: Catalogue,
) -> None:
    """Every rule and action: a reference item shown at all is shown with all its lines."""
    for rule in catalogue.rules:
        reference = load_reference(ROOT, rule.id)
        assert reference is not None
        nested = [
            block
            for blocks in reference.blocks.values()
            for block in blocks
            if block.kind == "item" and len(block.lines) > 1
        ]
        for action in (*WIDE, *NARROW):
            advice = _advise(ROOT, catalogue, rule.id, "idempotency", "metrics", "tests")
            answer, _ = compose_answer("q", action, advice, catalogue)
            for block in nested:
                if block.lines[0].removeprefix("- ") in answer:
                    body = "\n".join(block.lines[1:])
                    assert body in answer, (rule.id, action, block.lines[0])


def test_fit_keeps_a_prefix_of_whole_units() -> None:
    lead_in = Block("paragraph", ("Choosing the key:",), "Choosing the key:")
    item = Block("item", ("- **Immutable:** an id", "  - never an email"), "**Immutable:** an id")
    other = Block("paragraph", ("x" * 200,), "x" * 200)
    assert fit([lead_in, item, other], chars=10) == [lead_in, item]  # the first unit, whole
    assert fit([other, lead_in, item], chars=250) == [other]  # no lead-in without its list
    assert fit([other, lead_in, item], chars=10_000) == [other, lead_in, item]


def test_sources_name_the_sections_the_answer_shows(tmp_path: Path, catalogue: Catalogue) -> None:
    root = _pack(tmp_path, code_lines=5)
    _, citations = compose_answer("q", "implement", _advise(root, catalogue, "timeouts"), catalogue)
    headings = [c.heading.split(" > ")[-1] for c in citations[1:]]
    assert headings == ["How to apply it in Python", "Do", "Review checklist"]


def test_the_how_item_a_question_names_leads_even_past_the_budget(catalogue: Catalogue) -> None:
    advice = _advise(ROOT, catalogue, "load-shedding")
    per_ip = "- **Per-client rate limits (per API key, tenant or IP):**"
    first = "- **At the pod, limit concurrency"
    asked, _ = compose_answer(
        "How do I limit my API to 10 requests per minute for each IP?",
        "implement",
        advice,
        catalogue,
    )
    # it stands out for the question, so it opens the answer; its section then leaves it out
    assert asked.index(per_ip) < asked.index("**How to apply it:**") < asked.index(first)
    assert asked.count(per_ip) == 1
    plain, _ = compose_answer("How do we shed load gracefully?", "implement", advice, catalogue)
    assert per_ip not in plain  # nothing singles it out: the section's leading items only
    assert first in plain


def test_where_it_bites_is_the_symptom_a_question_names(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offline, "CLOSEST_SHOWN", 0)  # the rule's own section alone
    advice = _advise(ROOT, catalogue, "pooling")
    named = "- **Going from 2 to 20 Kubernetes pods, or from gunicorn `-w 2` to `-w 8`:**"
    asked, _ = compose_answer(
        "We are going from 2 to 20 Kubernetes pods with gunicorn -w 8. What breaks first?",
        "scale",
        advice,
        catalogue,
    )
    assert asked.split("**Where it bites:**\n\n", 1)[1].startswith(named)
    vague, _ = compose_answer("How do we scale this service?", "scale", advice, catalogue)
    assert named not in vague  # nothing named: the reference's incident story instead
    assert "Two opposite incidents come from the same missing arithmetic." in vague


def test_the_items_a_question_names_come_first_and_are_not_repeated(catalogue: Catalogue) -> None:
    advice = _advise(ROOT, catalogue, "input-validation")
    named = "- **File names and paths from clients (path traversal):**"
    asked, citations = compose_answer(
        "Our upload endpoint writes room_dir / upload_file.filename; a filename like"
        " ../../etc/passwd resolves outside the upload directory. How do we secure it?",
        "secure",
        advice,
        catalogue,
    )
    closest = asked.split("## Closest to your question\n\n", 1)[1].split("\n## ", 1)[0]
    assert named in closest
    assert "[input-validation]" in closest
    assert asked.count(named) == 1  # the rule's own Hardening section leaves it out
    assert any(c.heading.endswith("How to apply it in Python") for c in citations)
    vague, _ = compose_answer("How do we validate input?", "secure", advice, catalogue)
    assert "## Closest to your question" not in vague  # nothing stands out: no such section
