"""`bepro.Pack`, the one Python API, as a library user meets it: typed results, clear errors with
did-you-mean hints, nothing written without `apply`, and no lock held while an LLM answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import bepro
from bepro import Pack
from bepro.catalogue.model import Catalogue
from bepro.config import LLMSettings, Paths
from bepro.errors import BeproError, UnknownActionError, UnknownRuleError, UsageError
from bepro.retrieval.search import Retriever

from .conftest import ROOT
from .llm_stub import STALL_S, running_stub

UNTIMED_CALL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
HEAVY_MODULES = ("chromadb", "onnxruntime", "openai", "langchain_core", "bm25s")


@pytest.fixture(scope="module")
def pack(paths: Paths, catalogue: Catalogue, retriever: Retriever) -> Pack:
    """A pack over the session's index (Pack.open() would find the same pack and settings)."""
    return Pack(paths, catalogue, retriever=retriever)


def test_the_public_names_are_pinned() -> None:
    assert set(bepro.__all__) == {
        "AskResult", "BeproError", "CitationOut", "FileIssue", "Finding", "FixOut", "FixReport",
        "LLMChoice", "Outcome", "Pack", "ReviewResult", "RuleDoc", "SearchHit", "SearchResult",
        "UnknownActionError", "UnknownRuleError", "UsageError", "__version__",
    }  # fmt: skip
    for name in bepro.__all__:
        assert getattr(bepro, name) is not None
    assert (ROOT / "skill" / "bepro" / "py.typed").is_file()


def test_import_bepro_and_reading_rules_stay_light() -> None:
    probe = (
        "import sys\n"
        "import bepro\n"
        "from bepro import Pack\n"
        "pack = Pack.open()\n"
        "assert pack.rule('timeouts').reference_text\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_ask_cites_the_rules_in_priority_order(pack: Pack, catalogue: Catalogue) -> None:
    result = pack.ask("how do I make a payment call safe to retry?")
    assert result.mode == "offline"
    assert {"idempotency", "retries"} <= set(result.rules)
    assert result.rules == catalogue.in_priority_order(result.rules)
    assert {"idempotency", "retries"} <= {citation.rule_id for citation in result.citations}
    assert result.findings is None  # no code was asked about


def test_ask_about_code_opens_with_its_findings(pack: Pack) -> None:
    result = pack.ask("is this call safe?", code=UNTIMED_CALL, filename="client.py")
    assert result.answer.startswith("## Findings in your code")
    assert "| client.py:5 | `ruff:S113` | [timeouts] |" in result.answer
    assert result.findings is not None
    assert [f.rule_id for f in result.findings] == ["timeouts"]
    assert result.rules[0] == "timeouts"


def test_bad_questions_fail_before_the_index_opens(paths: Paths, catalogue: Catalogue) -> None:
    pack = Pack(paths, catalogue)  # no retriever yet
    with pytest.raises(UnknownActionError, match="unknown action 'reveiw'") as unknown:
        pack.ask("how do I retry safely?", action="reveiw")
    assert unknown.value.suggestions == ("review",)
    assert unknown.value.hint.startswith("did you mean 'review'? choose one of: plan, design")
    with pytest.raises(UsageError, match="the question is 4001 characters; the limit is 4000"):
        pack.ask("q" * 4001)
    with pytest.raises(UsageError, match="the question is empty"):
        pack.ask("   ")
    with pytest.raises(UsageError, match="the code is 300000 bytes; the limit is 200000"):
        pack.ask("is this fine?", code="é" * 150_000)
    assert not pack.index_open


def test_search_hits_carry_their_rule(pack: Pack) -> None:
    found = pack.search("retry storm", top_k=3)
    assert not found.abstained
    assert len(found.hits) == 3
    assert found.hits[0].rule_id == "retries"
    assert all(hit.source and hit.text for hit in found.hits)
    assert [hit.score for hit in found.hits] == sorted((h.score for h in found.hits), reverse=True)
    off_topic = pack.search("a good sourdough recipe")
    assert off_topic.abstained
    assert off_topic.hits == []
    with pytest.raises(UnknownActionError, match="unknown action 'dance'"):
        pack.search("retry", action="dance")


def test_rule_by_id_or_by_review_code(pack: Pack) -> None:
    rule = pack.rule("timeouts")
    assert (rule.id, rule.priority, rule.severity) == ("timeouts", 2, "CRITICAL")
    reference = (ROOT / "references" / "rules" / "timeouts.md").read_text(encoding="utf-8")
    assert rule.reference_text == reference
    assert rule.code is None
    code = pack.rule("S113")
    assert (code.id, code.code) == ("timeouts", "ruff:S113")
    assert code.explanation is not None
    assert "Rule `timeouts`" in code.explanation
    assert pack.rule("bepro:random-id").code == "bepro:random-id"


def test_an_unknown_rule_suggests_the_closest(pack: Pack) -> None:
    with pytest.raises(UnknownRuleError, match="unknown rule id 'timeoutz'") as unknown:
        pack.rule("timeoutz")
    assert isinstance(unknown.value, BeproError)
    assert "timeouts" in unknown.value.suggestions
    assert "did you mean: timeouts" in unknown.value.hint
    with pytest.raises(UnknownRuleError):
        pack.rule("S113", codes=False)  # rule ids only


def test_review_a_path_and_code_given_as_text(pack: Pack, tmp_path: Path) -> None:
    service = tmp_path / "svc"
    service.mkdir()
    naive_clock = "\n\ndef stamp():\n    return datetime.datetime.now()\n"
    (service / "client.py").write_text("import datetime\n" + UNTIMED_CALL + naive_clock, "utf-8")
    on_disk = pack.review([service])
    assert [(f.rule_id, f.source, f.line) for f in on_disk.findings] == [
        ("timeouts", "ruff:S113", 6)
    ]
    with_preview = pack.review([service], preview=True)  # DTZ005 is a preview code (bench/audit/)
    assert [f.source for f in with_preview.findings] == ["ruff:DTZ005", "ruff:S113"]  # P1 first
    assert on_disk.files == 1
    as_text = pack.review(code=UNTIMED_CALL, filename="client.py")
    assert [(f.rule_id, f.path, f.line) for f in as_text.findings] == [("timeouts", "client.py", 5)]
    assert pack.review(code=UNTIMED_CALL, ignore=["timeouts"]).findings == []
    with pytest.raises(UsageError, match="no such file or directory"):
        pack.review([tmp_path / "nowhere"])
    with pytest.raises(UsageError, match="pass paths or code"):
        pack.review()


def test_fix_returns_a_validated_diff_and_writes_nothing(pack: Pack, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(UNTIMED_CALL, encoding="utf-8")
    report = pack.fix([app], rules=["timeouts"], cwd=tmp_path)
    assert [(o.finding.rule_id, o.status) for o in report.outcomes] == [("timeouts", "proposed")]
    assert "+    return requests.get(url, timeout=HTTP_TIMEOUT_S)" in report.diffs[str(app)]
    assert app.read_text(encoding="utf-8") == UNTIMED_CALL
    assert report.undo_folder is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["app.py"]

    as_text = pack.fix(code=UNTIMED_CALL, rules=["timeouts"])
    assert list(as_text.diffs) == ["snippet.py"]
    assert "a/snippet.py" in as_text.diffs["snippet.py"]
    assert [o.path for o in as_text.outcomes] == ["snippet.py"]
    assert json.dumps(as_text.to_json())  # JSON-able, as the MCP tool sends it
    with pytest.raises(UnknownRuleError, match="unknown rule id 'timeout'") as unknown:
        pack.fix([app], rules=["timeout"])
    assert unknown.value.hint.startswith("did you mean: timeouts")


@pytest.mark.integration  # starts an LLM server
def test_no_lock_is_held_while_the_llm_answers(pack: Pack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three questions to a slow LLM on one shared pack take about one LLM call, not three."""
    for name in ("BEPRO_LLM_MODEL", "OPENAI_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with running_stub() as (url, calls):
        llm = LLMSettings(model="slow", base_url=url, read_timeout=STALL_S * 4, max_attempts=1)
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            results = list(
                pool.map(lambda _: pack.ask("how should I retry payments?", llm=llm), range(3))
            )
        elapsed = time.monotonic() - started
    assert calls["slow"] == 3
    assert [result.mode for result in results] == ["llm"] * 3
    assert elapsed < STALL_S * 2, f"the answers ran one after another ({elapsed:.1f} s)"


PAYMENT = (
    "import datetime\n\nimport requests\n\n"
    'API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n\n\n'
    "def charge(amount: int) -> dict:\n"
    "    sent_at = datetime.datetime.utcnow().isoformat()\n"
    '    headers = {"Authorization": f"Bearer {API_KEY}"}\n'
    '    body = {"amount": amount, "sent_at": sent_at}\n'
    '    return requests.post("https://pay.example/charges", json=body, headers=headers).json()\n'
)


def test_a_fix_answer_ends_with_the_validated_rewrites(pack: Pack) -> None:
    """Asked to fix code, the answer opens with the findings and ends with bepro fix's diff;
    a debug answer about the same code proposes no rewrite."""
    result = pack.ask("fix this", action="fix", code=PAYMENT)
    assert result.fixes is not None
    outcomes = {fix.code: fix.status for fix in result.fixes}
    assert outcomes["ruff:S113"] == "proposed"
    assert outcomes["ruff:DTZ003"] == "proposed"
    assert outcomes["bepro:credential-literal"] == "skipped"
    answer = result.answer
    assert answer.index("## Findings in your code") < answer.index("## 1.")
    assert answer.index("## 1.") < answer.index("## Validated rewrites")
    assert "timeout=HTTP_TIMEOUT_S" in answer
    assert "| `bepro:credential-literal` | [secrets] | no offline rewrite |" in answer
    debug = pack.ask("why does this hang?", action="debug", code=PAYMENT)
    assert debug.fixes is None
    assert "## Validated rewrites" not in debug.answer


@pytest.mark.integration  # starts an LLM server
@pytest.mark.parametrize("model", ["ok", "ok-text"])
def test_an_llm_answer_that_ignores_the_findings_is_flagged(
    pack: Pack, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stub's answer only talks about retries: the untimed call and the live key the review
    found are named under it, and the citation check counts them; the naive utcnow() (a preview
    code, as in the offline answer) is no reason to flag it."""
    for name in ("BEPRO_LLM_MODEL", "OPENAI_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    streamed: list[str] = []
    with running_stub() as (url, _calls):
        llm = LLMSettings(model=model, base_url=url, max_attempts=1)
        stream = streamed.append if model == "ok-text" else None
        result = pack.ask(
            "what is wrong here?", action="review", code=PAYMENT, llm=llm, stream=stream
        )
    assert result.mode == "llm"
    assert "bepro's review disagrees with this answer" in result.answer
    assert "`ruff:S113` [timeouts]" in result.answer
    assert result.citation_check is not None
    unaddressed = result.citation_check["unaddressed_findings"]
    assert isinstance(unaddressed, list)
    assert {entry.split(":", 1)[1] for entry in unaddressed} == {
        "ruff:S113",
        "bepro:credential-literal",
    }
    if streamed:  # the flag reaches a streaming reader too
        assert "bepro's review disagrees" in "".join(streamed)


def test_an_all_clear_about_flawed_code_is_flagged(pack: Pack) -> None:
    from bepro.llm.grounding import check_against_findings

    findings = pack.review(code=PAYMENT).findings
    said = check_against_findings(
        "This code looks good to me.", ["timeouts", "secrets", "time-utc"], findings
    )
    assert said.all_clear == "looks good"
    assert not said.unaddressed
    assert 'It says "looks good"' in said.note()
    clean = check_against_findings("Looks good.", [], [])
    assert clean.agrees
    assert clean.note() == ""


def test_the_llm_prompt_carries_the_findings_and_lets_their_rules_be_cited(
    pack: Pack, catalogue: Catalogue
) -> None:
    from bepro.llm.prompts import Passage, build_messages

    findings = pack.review(code=PAYMENT).findings
    passage = Passage("retries", 2, "retries > Do", "Retry with jitter.", 1.0)
    system, user = build_messages(
        catalogue, "review", "", "what is wrong?", PAYMENT, [passage], False, findings
    )
    assert "REVIEW FINDINGS" in user["content"]
    assert "ruff:S113 [timeouts] priority 2" in user["content"]
    allowed = system["content"].split("Use only these ids: ", 1)[1].split(".\n", 1)[0]
    assert set(allowed.split(", ")) >= {"retries", "timeouts", "secrets", "time-utc"}
    assert "synchronous stack" not in user["content"]


def test_the_llm_is_asked_for_synchronous_code_for_code_that_never_awaits(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """The passages often show asyncio; a sync requests client gets sync code, async code not."""
    from bepro.agent.ask import AskRequest, retrieve
    from bepro.llm.prompts import build_messages

    for code, sync in ((PAYMENT, True), ("async def f(c):\n    await c.get(URL)\n", False)):
        found = retrieve(
            AskRequest("why does this hang?", context=code), catalogue, paths, retriever=retriever
        )
        assert found.synchronous is sync
        _system, user = build_messages(
            catalogue, "debug", "", found.question, code, [], False, (), found.synchronous
        )
        assert ("Write any code for a synchronous stack" in user["content"]) is sync


def test_the_llm_context_leads_with_the_items_the_question_names(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A small context still carries the one item about `--preload`, though its rule (pooling,
    priority 4) comes after higher-priority ones and its section is a long chunk."""
    from bepro.agent.ask import AskRequest, retrieve
    from bepro.agent.llm_answer import passages_for
    from bepro.llm.prompts import select_passages

    question = (
        "With gunicorn --preload our SQLAlchemy engine is created before the fork and workers"
        " get SSL errors on shared connections."
    )
    found = retrieve(AskRequest(question), catalogue, paths, retriever=retriever)
    context = select_passages(passages_for(found, catalogue, paths.root), 600)
    assert context[0].pinned
    assert any("Fork-safe pools" in passage.text for passage in context if passage.pinned)
