"""The README's two commands are the ones CI runs, so a new user gets what CI checked."""

from __future__ import annotations

from .conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_opens_with_install_and_test_commands() -> None:
    install, test = _readme_commands()
    assert "pip install" in install
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in _readme_commands():
        assert command in ci, f"README command not run by CI: {command}"
