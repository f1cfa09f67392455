"""The CLI as a user meets it: help, rule listing, clear one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, invoke_bepro, run_bepro

HEAVY_MODULES = ("chromadb", "onnxruntime", "openai", "langchain_core", "bm25s")


def test_help_explains_the_commands() -> None:
    result = run_bepro("--help")
    assert result.returncode == 0
    for command in ("rules", "search", "ask", "index"):
        assert command in result.stdout


def test_rules_json_lists_39_in_priority_order() -> None:
    result = invoke_bepro("rules", "--format", "json")
    assert result.returncode == 0
    rules = json.loads(result.stdout)
    assert len(rules) == 39
    assert [r["priority"] for r in rules] == sorted(r["priority"] for r in rules)
    assert rules[0] == {
        "id": "api-contracts",
        "category": "Correctness & Contracts",
        "priority": 1,
        "severity": "CRITICAL",
        "summary": "Versioned schemas and explicit validation",
        "reference": "references/rules/api-contracts.md",
    }


def test_rules_id_shows_the_reference() -> None:
    result = invoke_bepro("rules", "retries", "--format", "json")
    assert result.returncode == 0
    payload = json.loads(result.stdout)
    assert payload["id"] == "retries"
    assert "## Why it matters" in payload["reference_text"]


def test_unknown_rule_suggests_close_ids() -> None:
    result = run_bepro("rules", "timeout")
    assert result.returncode == 2
    assert "unknown rule id 'timeout'" in result.stderr
    assert "timeouts" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "   "), "the question is empty"),
        (("ask", "how to retry?", "--action", "deploy"), "choose one of: plan, design, build"),
        (("ask", "what is wrong here?", "--file", "no/such/file.py"), "no such file"),
        (("rules", "--format", "yaml"), "Invalid value"),
        (("search", "retry", "--action", "nope"), "unknown action 'nope'"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = invoke_bepro(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_skill_md_is_reported_with_its_line(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "references").mkdir()
    text = (
        (ROOT / "SKILL.md").read_text(encoding="utf-8").replace("- `retries` -", "- `timeouts` -")
    )
    (root / "SKILL.md").write_text(text, encoding="utf-8")
    result = invoke_bepro("rules", env={"BEPRO_ROOT": str(root)})
    assert result.returncode == 2
    assert "duplicate rule id 'timeouts'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [("--help",), ("rules",), ("rules", "timeouts")])
def test_light_commands_never_import_heavy_libraries(args: tuple[str, ...]) -> None:
    probe = (
        "import sys\n"
        "from bepro.surfaces.cli import app\n"
        f"app({list(args)!r}, standalone_mode=False)\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
