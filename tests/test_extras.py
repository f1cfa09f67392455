"""The LLM upgrade is an optional extra: without it every offline command works, an LLM that is
configured is skipped with a one-line notice, and asking for it explicitly is a clear error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

from bepro.extras import EXTRAS

from .conftest import ROOT

LLM_ENV = {"BEPRO_LLM_MODEL": "any-model", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}


def _without_llm_extra(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`bepro ARGS` in a process where the llm extra's modules cannot be imported."""
    blocked = list(EXTRAS["llm"][1])
    probe = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None  # import fails, find_spec finds nothing\n"
        "from bepro.surfaces.cli import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=ROOT,
        check=False,
    )


def test_extras_match_the_optional_dependencies_in_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    optional = declared["project"]["optional-dependencies"]
    for extra, (_purpose, modules) in EXTRAS.items():
        names = {re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0] for req in optional[extra]}
        assert {name.replace("-", "_") for name in names} == set(modules)
        assert f"bepro[{extra}]" in optional["dev"], "the test install must include every extra"
    required = " ".join(declared["project"]["dependencies"])
    for _purpose, modules in EXTRAS.values():
        assert not any(module.replace("_", "-") in required for module in modules)


def test_a_configured_llm_without_the_extra_answers_offline_with_a_notice() -> None:
    result = _without_llm_extra("ask", "how long should an HTTP timeout be?", env=LLM_ENV)
    assert result.returncode == 0, result.stderr
    assert "[timeouts]" in result.stdout
    assert "pip install 'bepro[llm]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_asking_for_the_llm_without_the_extra_is_a_one_line_error() -> None:
    result = _without_llm_extra("ask", "how long should an HTTP timeout be?", "--llm", env=LLM_ENV)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error[BEPRO009]: answers and rewrites by an LLM need the 'llm' extra "
        "(openai, langchain_core not installed) (pip install 'bepro[llm]')"
    ]
