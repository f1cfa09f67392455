"""bepro in LangChain: the retriever, a real LCEL chain, the prompt and the tools, over the real
pack and a real index (the session fixtures), with langchain-core's fake chat models."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from bepro import Pack
from bepro.catalogue.model import Catalogue
from bepro.config import BeproSettings, LLMSettings, Paths
from bepro.errors import UsageError
from bepro.langchain import (
    MAX_REFERENCE_CHARS,
    BeproRetriever,
    answer_prompt,
    bepro_tools,
    format_docs,
)
from bepro.llm.prompts import JSON_INSTRUCTIONS, Passage, build_messages
from bepro.pack import MAX_TOOL_FINDINGS
from bepro.retrieval.search import Retriever

from .llm_stub import STALL_S, running_stub
from .test_llm_real import llama_url  # noqa: F401  (the llama.cpp server fixture, for the last test)

pytestmark = pytest.mark.slow

HANGING_CALL = "My service's HTTP call to a partner API hangs forever and never returns. Why?"
NO_TIMEOUT = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"


@pytest.fixture(scope="module")
def pack(paths: Paths, catalogue: Catalogue, retriever: Retriever) -> Pack:
    """A pack over the session's index (Pack.open() would find the same pack and settings)."""
    return Pack(paths, catalogue, retriever=retriever)


@pytest.fixture(scope="module")
def tools(pack: Pack) -> dict[str, BaseTool]:
    return {tool.name: tool for tool in bepro_tools(pack)}


class PromptRecorder(BaseCallbackHandler):
    """Records the messages each chat model of a run receives."""

    def __init__(self) -> None:
        self.prompts: list[list[BaseMessage]] = []

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self.prompts.extend(messages)


# --- the retriever ---------------------------------------------------------------------------


def test_retriever_returns_documents_best_first(pack: Pack, catalogue: Catalogue) -> None:
    docs = BeproRetriever(pack=pack).invoke(HANGING_CALL)

    assert docs
    assert all(isinstance(doc, Document) and doc.page_content.strip() for doc in docs)
    for doc in docs:
        assert set(doc.metadata) == {
            "rule_id",
            "priority",
            "category",
            "source",
            "heading",
            "score",
        }
        if doc.metadata["rule_id"] is not None:
            rule = catalogue.rule(doc.metadata["rule_id"])
            assert rule is not None, doc.metadata
            assert doc.metadata["priority"] == rule.priority
            assert doc.metadata["category"] == rule.category
    scores = [doc.metadata["score"] for doc in docs]
    assert scores == sorted(scores, reverse=True)
    assert "timeouts" in [doc.metadata["rule_id"] for doc in docs[:5]]


def test_retriever_weighs_the_action_and_keeps_top_k(pack: Pack) -> None:
    docs = BeproRetriever(pack=pack, action="debug", top_k=3).invoke(HANGING_CALL)

    assert len(docs) == 3
    assert "timeouts" in [doc.metadata["rule_id"] for doc in docs]


def test_retriever_abstains_off_topic_unless_asked_not_to(pack: Pack) -> None:
    query = "what is a good recipe for sourdough bread?"

    assert BeproRetriever(pack=pack).invoke(query) == []
    assert len(BeproRetriever(pack=pack, abstain=False, top_k=2).invoke(query)) == 2


def test_retriever_rejects_an_unknown_action(pack: Pack) -> None:
    with pytest.raises(UsageError, match="unknown action"):
        BeproRetriever(pack=pack, action="dance").invoke(HANGING_CALL)


def test_retriever_async_matches_sync(pack: Pack) -> None:
    retriever = BeproRetriever(pack=pack, top_k=4)

    docs = asyncio.run(retriever.ainvoke(HANGING_CALL))

    assert docs == retriever.invoke(HANGING_CALL)


def test_without_a_pack_the_pack_the_cli_uses_opens_on_first_use(
    paths: Paths, catalogue: Catalogue
) -> None:
    retriever = BeproRetriever.from_pack(top_k=2)  # BEPRO_INDEX_DIR is the session's index

    assert retriever.pack is None  # nothing is loaded before the first query
    opened = retriever.open_pack()
    assert (opened.paths, opened.catalogue) == (paths, catalogue)
    assert retriever.open_pack() is opened
    assert not opened.index_open  # the index opens on the first search, not with the pack
    assert BeproRetriever.from_pack(paths.root).open_pack().paths == paths
    assert BeproRetriever().open_pack().paths == paths
    default_tools = {tool.name: tool for tool in bepro_tools()}
    assert default_tools["get_rule"].invoke({"rule_id": "timeouts"})["id"] == "timeouts"


# --- a real LCEL chain and the prompt --------------------------------------------------------


def test_lcel_chain_sends_the_retrieved_rules_to_the_model(pack: Pack) -> None:
    retriever = BeproRetriever(pack=pack, action="debug")
    model = GenericFakeChatModel(messages=iter(["Set a timeout [timeouts]."]))
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | answer_prompt(pack, action="debug")
        | model
        | StrOutputParser()
    )
    recorder = PromptRecorder()

    reply = chain.invoke(HANGING_CALL, config={"callbacks": [recorder]})

    assert reply == "Set a timeout [timeouts]."
    [messages] = recorder.prompts
    system, human = messages
    assert human == HumanMessage(HANGING_CALL)
    retrieved = {doc.metadata["rule_id"] for doc in retriever.invoke(HANGING_CALL)} - {None}
    assert "timeouts" in retrieved
    for rule_id in retrieved:
        assert f"[{rule_id}] priority" in system.content
    assert "Action: debug." in system.content
    assert "**Symptom and impact**" in system.content  # the debug guide's output contract


def test_answer_prompt_is_the_llm_paths_prompt(pack: Pack, catalogue: Catalogue) -> None:
    docs = BeproRetriever(pack=pack).invoke(HANGING_CALL)
    passages = [
        Passage(d.metadata["rule_id"], d.metadata["priority"], d.metadata["heading"],
                d.page_content, d.metadata["score"])
        for d in docs if d.metadata["rule_id"]
    ]  # fmt: skip
    allowed = ", ".join(sorted({p.rule_id for p in passages}))
    for structured in (False, True):
        expected = build_messages(
            catalogue, "debug", "Say what is wrong.", HANGING_CALL, None, passages, structured
        )
        rendered = answer_prompt(pack, action="debug", structured=structured).format_messages(
            question=HANGING_CALL,
            context=format_docs([d for d in docs if d.metadata["rule_id"]]),
            contract="Say what is wrong.",
            allowed_ids=allowed,
        )
        assert [m.content for m in rendered] == [m["content"] for m in expected]
        assert [m.type for m in rendered] == ["system", "human"]
        assert (JSON_INSTRUCTIONS in str(rendered[0].content)) is structured


def test_answer_prompt_inputs_and_defaults(pack: Pack) -> None:
    prompt = answer_prompt(pack)

    assert set(prompt.input_variables) == {"question", "context"}
    system = str(prompt.format_messages(question="q", context="c")[0].content)
    assert "1. " in system  # the pack's priority model
    assert "Use only these ids: the rule ids in square brackets in CONTEXT." in system
    with pytest.raises(UsageError, match="unknown action"):
        answer_prompt(pack, action="dance")


# --- the tools -------------------------------------------------------------------------------


def test_tools_have_names_descriptions_and_json_schemas(tools: dict[str, BaseTool]) -> None:
    assert set(tools) == {"ask", "search_rules", "get_rule", "review_code", "fix_code"}
    for tool in tools.values():
        spec = convert_to_openai_tool(tool)["function"]
        assert len(spec["description"]) > 60
        assert spec["parameters"]["type"] == "object"
    ask = convert_to_openai_tool(tools["ask"])["function"]["parameters"]
    assert set(ask["properties"]) == {"question", "action", "code"}
    assert ask["required"] == ["question"]
    assert convert_to_openai_tool(tools["get_rule"])["function"]["parameters"]["required"] == [
        "rule_id"
    ]


def test_review_code_cites_timeouts(tools: dict[str, BaseTool]) -> None:
    report = tools["review_code"].invoke({"code": NO_TIMEOUT})

    assert [f["rule_id"] for f in report["findings"]] == ["timeouts"]
    assert report["findings"][0]["line"] == 5
    assert report["findings_total"] == 1
    assert report["findings_omitted"] == 0
    json.dumps(report)


def test_review_code_caps_findings_and_counts_the_rest(tools: dict[str, BaseTool]) -> None:
    calls = "".join(f"    requests.get(url{i})\n" for i in range(MAX_TOOL_FINDINGS + 7))
    code = f"import requests\n\n\ndef fetch({', '.join(f'url{i}' for i in range(27))}):\n{calls}"

    report = tools["review_code"].invoke({"code": code})

    assert len(report["findings"]) == MAX_TOOL_FINDINGS
    assert report["findings_total"] >= MAX_TOOL_FINDINGS + 7
    assert report["findings_omitted"] == report["findings_total"] - MAX_TOOL_FINDINGS
    priorities = [f["priority"] for f in report["findings"]]
    assert priorities == sorted(priorities)


def test_get_rule_returns_its_reference(tools: dict[str, BaseTool], paths: Paths) -> None:
    rule = tools["get_rule"].invoke({"rule_id": "timeouts"})

    assert rule["id"] == "timeouts"
    assert rule["priority"] == 2
    assert rule["reference"] == "references/rules/timeouts.md"
    expected = (paths.root / "references/rules/timeouts.md").read_text(encoding="utf-8")
    assert rule["reference_text"] == expected
    assert tools["get_rule"].invoke({"rule_id": " Timeouts "})["id"] == "timeouts"
    longest = max(
        len(path.read_text(encoding="utf-8")) for path in paths.root.glob("references/rules/*.md")
    )
    assert longest <= MAX_REFERENCE_CHARS, "every reference reaches a model whole"


def test_unknown_rule_ids_and_bad_arguments_give_clear_errors(tools: dict[str, BaseTool]) -> None:
    message = tools["get_rule"].invoke({"rule_id": "timeout"})
    assert message.startswith("error[BEPRO001]: unknown rule id 'timeout'")
    assert "did you mean: timeouts" in message

    fixed = tools["fix_code"].invoke({"code": NO_TIMEOUT, "rule_ids": ["no-such-rule"]})
    assert "unknown rule id 'no-such-rule'" in fixed

    assert tools["get_rule"].invoke({}) == "invalid arguments: rule_id: Field required"
    assert "unknown action 'dance'" in tools["search_rules"].invoke(
        {"query": "x", "action": "dance"}
    )


def test_search_rules_returns_passages_with_rule_ids(
    tools: dict[str, BaseTool], catalogue: Catalogue
) -> None:
    result = tools["search_rules"].invoke({"query": HANGING_CALL, "k": 3})

    assert result["abstained"] is False
    assert len(result["hits"]) == 3
    assert {hit["rule_id"] for hit in result["hits"]} - {None} <= set(catalogue.rule_ids)
    off_topic = tools["search_rules"].invoke({"query": "a recipe for sourdough bread"})
    assert off_topic == {"hits": [], "abstained": True}


def test_ask_answers_offline_about_code(tools: dict[str, BaseTool]) -> None:
    result = tools["ask"].invoke({"question": HANGING_CALL, "code": NO_TIMEOUT})

    assert result["mode"] == "offline"
    assert result["rules"][0] == "timeouts"
    assert "[timeouts]" in result["answer"]
    assert [f["rule_id"] for f in result["findings"]] == ["timeouts"]
    assert result["findings_omitted"] == 0
    assert len(json.dumps(result)) < 40_000


def test_fix_code_returns_a_validated_diff(tools: dict[str, BaseTool]) -> None:
    result = tools["fix_code"].invoke({"code": NO_TIMEOUT, "rule_ids": ["timeouts"]})

    assert "+    return requests.get(url, timeout=" in result["diff"]
    assert result["diff"].startswith("--- a/snippet.py\n+++ b/snippet.py\n")
    assert [(f["rule_id"], f["status"]) for f in result["fixes"]] == [("timeouts", "proposed")]
    assert "bepro-fix-" not in json.dumps(result)  # no temporary path leaks


def test_a_tool_calling_model_runs_a_bepro_tool(tools: dict[str, BaseTool]) -> None:
    call = {
        "name": "review_code",
        "args": {"code": NO_TIMEOUT},
        "id": "call_1",
        "type": "tool_call",
    }
    wrong = {"name": "get_rule", "args": {"rule_id": "retry"}, "id": "call_2", "type": "tool_call"}
    model = GenericFakeChatModel(
        messages=iter([AIMessage("", tool_calls=[call, wrong]), "Add a timeout [timeouts]."])
    )
    history: list[BaseMessage] = [HumanMessage("Review this code:\n" + NO_TIMEOUT)]

    request = model.invoke(history)
    assert isinstance(request, AIMessage)
    history.append(request)
    for tool_call in request.tool_calls:
        history.append(tools[tool_call["name"]].invoke(tool_call))
    final = model.invoke(history)

    reviewed, missing = history[2], history[3]
    assert isinstance(reviewed, ToolMessage)
    assert (reviewed.tool_call_id, reviewed.name, reviewed.status) == (
        "call_1",
        "review_code",
        "success",
    )
    assert json.loads(str(reviewed.content))["findings"][0]["rule_id"] == "timeouts"
    assert isinstance(missing, ToolMessage)
    assert missing.status == "error"
    assert "did you mean: retries" in str(missing.content)
    assert final.content == "Add a timeout [timeouts]."


def test_tools_run_async(tools: dict[str, BaseTool]) -> None:
    rule = asyncio.run(tools["get_rule"].ainvoke({"rule_id": "timeouts"}))

    assert rule["id"] == "timeouts"


@pytest.mark.integration  # starts an LLM server
def test_tool_calls_do_not_wait_on_each_others_llm_answer(
    paths: Paths, catalogue: Catalogue, retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three `ask` calls to a slow LLM on one shared pack take about one LLM call, not three."""
    for name in ("BEPRO_LLM_MODEL", "OPENAI_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with running_stub() as (url, calls):
        llm = LLMSettings(model="slow", base_url=url, read_timeout=STALL_S * 4, max_attempts=1)
        pack = Pack(paths, catalogue, BeproSettings(llm=llm), retriever=retriever)
        ask = {tool.name: tool for tool in bepro_tools(pack, llm=True)}["ask"]
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            results = list(
                pool.map(
                    lambda _: ask.invoke({"question": "how should I retry payments?"}), range(3)
                )
            )
        elapsed = time.monotonic() - started
    assert calls["slow"] == 3
    assert [result["mode"] for result in results] == ["llm"] * 3
    assert elapsed < STALL_S * 2, f"the answers ran one after another ({elapsed:.1f} s)"


# --- the real-LLM tier (see test_llm_real.py) ------------------------------------------------


@pytest.mark.integration  # starts an LLM server
@pytest.mark.skipif(
    importlib.util.find_spec("langchain_openai") is None,
    reason="langchain-openai is not installed (bepro does not depend on it): the chain against "
    "the local llama.cpp server needs it",
)
def test_chain_over_the_real_local_server(pack: Pack, request: pytest.FixtureRequest) -> None:
    from langchain_openai import ChatOpenAI

    url = request.getfixturevalue("llama_url")
    model = ChatOpenAI(
        base_url=url, api_key="unused", model="smollm2", max_tokens=32, temperature=0, timeout=200
    )
    retriever = BeproRetriever(pack=pack, top_k=2)  # the server's context is 2,048 tokens
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | answer_prompt(pack)
        | model
        | StrOutputParser()
    )

    reply = chain.invoke(HANGING_CALL)

    assert isinstance(reply, str)  # the tiny model's words are nonsense: the protocol is tested
