"""`bepro mcp` end to end: the SDK's own client spawns `python -m bepro mcp` over stdio and calls
every tool and resource as a coding agent would; bad calls come back as error results."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.session import LoggingFnT
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, LoggingMessageNotificationParams, TextContent

from bepro.pack import MAX_TOOL_FINDINGS
from bepro.retrieval.search import Retriever

from .conftest import ROOT, run_bepro, small_pack

pytestmark = pytest.mark.integration  # starts the MCP server

CALL_TIMEOUT_S = 120.0  # the first call opens the index; every wait is bounded by this
TOOLS = {"ask", "search_rules", "get_rule", "review_code", "fix_code"}
T = TypeVar("T")


class McpSession:
    """A connected client driven from synchronous tests through an event loop in a thread."""

    def __init__(self, portal: BlockingPortal, client: Client, workdir: Path, errlog: Path) -> None:
        self.portal = portal
        self.client = client
        self.workdir = workdir
        self.errlog = errlog

    def run(self, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        async def bounded() -> T:
            with anyio.fail_after(CALL_TIMEOUT_S):
                return await call(*args)

        return self.portal.call(bounded)

    def tool(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        return self.run(self.client.call_tool, name, arguments)


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


@contextmanager
def serve_over_stdio(
    index_dir: Path,
    workdir: Path,
    mode: str = "auto",
    root: Path | None = None,
    on_log: LoggingFnT | None = None,
) -> Iterator[McpSession]:
    """Spawn `python -m bepro mcp` in workdir (on the pack at `root`, default the checkout's)
    and connect the SDK's client to it; with `on_log`, opted in to log notifications at info."""
    errlog = workdir.parent / f"{workdir.name}-stderr.log"
    env = {"BEPRO_INDEX_DIR": str(index_dir), "ANONYMIZED_TELEMETRY": "False"}
    if root is not None:
        env["BEPRO_ROOT"] = str(root)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "bepro", "mcp"], env=env, cwd=workdir
    )
    with errlog.open("w") as stderr, start_blocking_portal() as portal:
        transport = stdio_client(params, errlog=stderr)
        client = Client(
            transport,
            mode=mode,
            read_timeout_seconds=CALL_TIMEOUT_S,
            logging_callback=on_log,
            log_level="info" if on_log else None,
        )
        with portal.wrap_async_context_manager(client):
            yield McpSession(portal, client, workdir, errlog)


@pytest.fixture(scope="module")
def mcp(
    retriever: Retriever, index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[McpSession]:
    """One server for the module, on the session's index (built first by the retriever fixture)."""
    with serve_over_stdio(index_dir, tmp_path_factory.mktemp("mcp-cwd")) as session:
        yield session


def test_lists_tools_with_typed_schemas_and_read_only_hints(mcp: McpSession) -> None:
    tools = {tool.name: tool for tool in mcp.run(mcp.client.list_tools).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.description
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"]
    assert ask["properties"]["question"]["maxLength"] == 4000
    review = tools["review_code"].input_schema
    assert review["required"] == ["code"]
    assert review["properties"]["code"]["maxLength"] == 200_000
    assert tools["search_rules"].input_schema["properties"]["k"]["maximum"] == 50
    assert tools["get_rule"].input_schema["required"] == ["rule_id"]
    assert tools["fix_code"].input_schema["properties"]["rule_ids"]["type"] == "array"


def test_ask_about_retrying_a_payment_cites_idempotency(mcp: McpSession) -> None:
    result = mcp.tool("ask", {"question": "how do I make a payment call safe to retry?"})
    assert not result.is_error
    answer = result.structured_content
    assert answer is not None
    assert answer["rules"][0] == "idempotency"
    assert any(c["source"] == "references/rules/idempotency.md" for c in answer["citations"])
    assert "Idempotency-Key" in answer["answer"]
    assert json.loads(text_of(result))["rules"] == answer["rules"]


def test_ask_with_code_takes_the_code_into_account(mcp: McpSession) -> None:
    code = "import requests\n\ndef fetch(url):\n    return requests.get(url)\n"
    result = mcp.tool("ask", {"question": "what could go wrong with this call?", "code": code})
    assert not result.is_error
    assert result.structured_content is not None
    assert "timeouts" in result.structured_content["rules"]


def test_search_rules_matches_the_cli(mcp: McpSession) -> None:
    result = mcp.tool("search_rules", {"query": "retry storm", "k": 3})
    assert not result.is_error
    assert result.structured_content is not None
    hits = result.structured_content["hits"]
    cli = run_bepro("search", "retry storm", "--top-k", "3", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    assert [(h["rule_id"], h["source"], h["heading"]) for h in hits] == [
        (h["rule_id"], h["source"], h["heading"]) for h in expected
    ]
    assert hits[0]["rule_id"] == "retries"


def test_get_rule_returns_the_entry_and_its_reference(mcp: McpSession) -> None:
    result = mcp.tool("get_rule", {"rule_id": "timeouts"})
    assert not result.is_error
    rule = result.structured_content
    assert rule is not None
    assert (rule["id"], rule["priority"], rule["severity"]) == ("timeouts", 2, "CRITICAL")
    assert rule["category"] == "Reliability & Resilience"
    reference = (ROOT / "references" / "rules" / "timeouts.md").read_text(encoding="utf-8")
    assert rule["reference_text"] == reference


def test_review_code_finds_a_missing_timeout_and_writes_nothing(mcp: McpSession) -> None:
    code = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
    result = mcp.tool("review_code", {"code": code, "filename": "client.py"})
    assert not result.is_error
    report = result.structured_content
    assert report is not None
    timeouts = [f for f in report["findings"] if f["rule_id"] == "timeouts"]
    assert [(f["path"], f["line"]) for f in timeouts] == [("client.py", 5)]
    assert report["summary"]["by_rule"]["timeouts"] == 1
    assert report["issues"] == []
    assert list(mcp.workdir.iterdir()) == []


def test_fix_code_returns_a_validated_diff_and_writes_nothing(mcp: McpSession) -> None:
    code = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
    result = mcp.tool("fix_code", {"code": code, "rule_ids": ["timeouts"]})
    assert not result.is_error, text_of(result)
    payload = result.structured_content
    assert payload is not None
    assert [(f["rule_id"], f["status"]) for f in payload["fixes"]] == [("timeouts", "proposed")]
    assert payload["fixes"][0]["code"] == "ruff:S113"
    assert "+    return requests.get(url, timeout=HTTP_TIMEOUT_S)" in payload["diff"]
    assert "a/snippet.py" in payload["diff"]
    assert payload["summary"]["proposed"] == 1
    assert list(mcp.workdir.iterdir()) == []


def test_every_tool_declares_its_output_schema(mcp: McpSession) -> None:
    tools = {tool.name: tool for tool in mcp.run(mcp.client.list_tools).tools}
    for name in TOOLS:
        assert tools[name].output_schema is not None, name
    assert {"diff", "fixes", "summary"} <= set(tools["fix_code"].output_schema["properties"])


def test_a_huge_review_is_capped_with_the_rest_counted_per_rule(mcp: McpSession) -> None:
    code = "import requests\n\n\ndef fetch(url):\n" + "    requests.get(url)\n" * 150
    result = mcp.tool("review_code", {"code": code})
    report = result.structured_content
    assert report is not None
    assert len(report["findings"]) == MAX_TOOL_FINDINGS
    assert report["omitted"] == report["summary"]["findings"] - MAX_TOOL_FINDINGS > 0
    assert sum(report["omitted_by_rule"].values()) == report["omitted"]


def test_an_unknown_argument_is_an_error_that_names_it(mcp: McpSession) -> None:
    result = mcp.tool("review_code", {"code": "x = 1\n", "language": "python"})
    assert result.is_error
    assert "review_code takes no argument 'language'" in text_of(result)
    assert "code, filename" in text_of(result)


def test_each_action_is_a_prompt_that_asks_for_the_tool(mcp: McpSession) -> None:
    prompts = {p.name: p for p in mcp.run(mcp.client.list_prompts).prompts}
    assert set(prompts) == {
        "plan", "design", "build", "implement", "review", "fix",
        "optimize", "refactor", "debug", "secure", "scale",
    }  # fmt: skip
    assert [a.name for a in prompts["review"].arguments or []] == ["task", "code"]
    got = mcp.run(mcp.client.get_prompt, "review", {"task": "our payments client", "code": "x = 1"})
    text = getattr(got.messages[0].content, "text", "")
    assert text.startswith("Review: our payments client")
    assert "action='review'" in text
    assert "```python\nx = 1\n```" in text


def test_rules_are_resources(mcp: McpSession) -> None:
    listed = mcp.run(mcp.client.list_resources).resources
    assert [str(r.uri) for r in listed] == ["bepro://rules"]
    templates = mcp.run(mcp.client.list_resource_templates).resource_templates
    assert [t.uri_template for t in templates] == ["bepro://rules/{rule_id}"]

    index = mcp.run(mcp.client.read_resource, "bepro://rules").contents[0]
    rules = json.loads(getattr(index, "text", ""))
    assert len(rules) == 39
    assert rules[0]["uri"] == "bepro://rules/api-contracts"
    assert [r["priority"] for r in rules] == sorted(r["priority"] for r in rules)

    reference = mcp.run(mcp.client.read_resource, "bepro://rules/retries").contents[0]
    assert reference.mime_type == "text/markdown"
    assert getattr(reference, "text", "").startswith("# retries: Bounded with jitter")


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("get_rule", {"rule_id": "timeoutz"}, "did you mean: timeouts"),
        ("fix_code", {"code": "x = 1\n", "rule_ids": ["nope"]}, "unknown rule id 'nope'"),
        ("review_code", {"code": "x" * 200_001}, "at most 200000 characters"),
        ("review_code", {"code": "é" * 150_000}, "the limit is 200000"),
        ("review_code", {"code": "x = 1\n", "filename": "notes.txt"}, "filename"),
        ("ask", {"question": "q" * 4001}, "at most 4000 characters"),
        ("ask", {"question": "how to retry?", "action": "dance"}, "unknown action 'dance'"),
        ("ask", {"question": "   "}, "the question is empty"),
        ("search_rules", {"query": "retry", "k": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_calls_are_error_results_and_the_server_lives_on(
    mcp: McpSession, tool: str, arguments: dict[str, Any], message: str
) -> None:
    result = mcp.tool(tool, arguments)
    assert result.is_error
    assert message in text_of(result)
    assert not mcp.tool("get_rule", {"rule_id": "retries"}).is_error
    assert "Traceback" not in mcp.errlog.read_text(encoding="utf-8")


def test_an_unknown_rule_resource_is_a_protocol_error(mcp: McpSession) -> None:
    with pytest.raises(MCPError, match="unknown rule id 'nope'"):
        mcp.run(mcp.client.read_resource, "bepro://rules/nope")
    assert not mcp.tool("get_rule", {"rule_id": "retries"}).is_error


def test_a_handshake_era_client_initializes_and_calls(
    mcp: McpSession, index_dir: Path, tmp_path: Path
) -> None:
    with serve_over_stdio(index_dir, tmp_path, mode="legacy") as legacy:
        assert legacy.client.server_info is not None
        assert legacy.client.server_info.name == "bepro"
        assert "[rule-id]" in (legacy.client.instructions or "")
        assert {tool.name for tool in legacy.run(legacy.client.list_tools).tools} == TOOLS
        result = legacy.tool("review_code", {"code": "import requests\nrequests.get(url)\n"})
        assert result.structured_content is not None
        assert result.structured_content["summary"]["by_rule"] == {"timeouts": 1}


def test_a_first_run_index_build_reports_progress_to_the_client(tmp_path: Path) -> None:
    """The server starts building a missing index at startup; a call that needs it meanwhile
    gets progress notifications (clients reset their timeouts on them), then its answer."""
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    root = small_pack(tmp_path / "pack")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    with serve_over_stdio(tmp_path / "index", workdir, root=root) as session:
        result = session.run(
            session.client.call_tool, "search_rules", {"query": "timeouts"}, None, on_progress
        )
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["hits"]
    assert updates, "no progress while the index was built"
    assert "index" in (updates[0][2] or "")
    stderr = session.errlog.read_text(encoding="utf-8")
    assert "Building index from tokens" not in stderr  # bm25s's DEBUG line, printed before
    assert "DEBUG" not in stderr


def test_a_tool_calls_logs_reach_the_client_and_stderr_stays_quiet(
    index_dir: Path, retriever: Retriever, tmp_path: Path
) -> None:
    messages: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        messages.append(params)

    with serve_over_stdio(index_dir, tmp_path, on_log=on_log) as session:
        assert not session.tool("ask", {"question": "how do I retry a payment call?"}).is_error
        assert session.tool("get_rule", {"rule_id": "nope"}).is_error
        assert not session.tool("search_rules", {"query": "retry storm"}).is_error
        stderr = session.errlog.read_text(encoding="utf-8")
    calls = [m for m in messages if isinstance(m.data, dict) and m.data["msg"] == "tool call"]
    assert [(m.data["tool"], m.data["outcome"]) for m in calls] == [
        ("ask", "ok"),
        ("get_rule", "BEPRO001"),
        ("search_rules", "ok"),
    ]
    assert {(m.level, m.logger) for m in calls} == {("info", "bepro.surfaces.mcp")}
    assert stderr == ""
