"""`bepro install` as a user meets it: the skill lands where each agent looks, valid by the Agent
Skills rules, updates in place, never clobbers another skill, and --dry-run writes nothing."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bepro.errors import UsageError
from bepro.surfaces.install import InstallPlan, apply_install

from .conftest import ROOT, run_bepro

NAME = "backend-principle-eng-python-pro-max"
ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
SKILL_DIRS = {"claude": ".claude/skills", "codex": ".agents/skills", "cursor": ".cursor/skills"}
# A file SKILL.md points at: `references/...` in backticks or a markdown link; <placeholders> skipped.
_REFERENCED = re.compile(r"`(references/[^`<>\s]+)`|\]\((references/[^)<>\s]+)\)")


def _install(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bepro("install", *args, cwd=project, env={"HOME": str(home)})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def assert_valid_agent_skill(folder: Path) -> None:
    """The Agent Skills rules a loader enforces, checked on the installed copy."""
    text = (folder / "SKILL.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.DOTALL)
    assert match, "SKILL.md starts with YAML frontmatter"
    frontmatter = yaml.safe_load(match[1])
    assert set(frontmatter) <= ALLOWED_KEYS
    assert frontmatter["name"] == folder.name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", frontmatter["name"])
    assert len(frontmatter["name"]) <= 64
    description = frontmatter["description"]
    assert 0 < len(description) <= 1024
    assert "<" not in description
    assert ">" not in description
    assert len(match[2].splitlines()) < 500
    referenced = {a or b for a, b in _REFERENCED.findall(text)}
    assert "references/rules/timeouts.md" in referenced
    missing = sorted(path for path in referenced if not (folder / path).is_file())
    assert missing == []


def assert_same_as_pack(folder: Path) -> None:
    pack = [ROOT / "SKILL.md", *(p for p in (ROOT / "references").rglob("*") if p.is_file())]
    for source in pack:
        assert (folder / source.relative_to(ROOT)).read_bytes() == source.read_bytes()
    marker = json.loads((folder / ".bepro-install.json").read_text(encoding="utf-8"))
    assert marker["installed_by"] == "bepro"
    assert set(marker["files"]) == {p.relative_to(ROOT).as_posix() for p in pack}


@pytest.mark.parametrize("agent", sorted(SKILL_DIRS))
def test_installs_where_each_agent_looks(agent: str, project: Path, home: Path) -> None:
    result = _install(project, home, "--agent", agent)
    assert result.returncode == 0, result.stderr
    folder = project / SKILL_DIRS[agent] / NAME
    assert f"installed {NAME} for {agent} (project scope)" in result.stdout
    assert_valid_agent_skill(folder)
    assert_same_as_pack(folder)
    assert list(home.iterdir()) == []


def test_user_scope_installs_in_the_home_folder(project: Path, home: Path) -> None:
    result = _install(project, home, "--agent", "claude", "--scope", "user")
    assert result.returncode == 0, result.stderr
    assert_valid_agent_skill(home / ".claude" / "skills" / NAME)
    assert list(project.iterdir()) == []


def test_rerun_updates_in_place(project: Path, home: Path) -> None:
    assert _install(project, home, "--agent", "claude").returncode == 0
    folder = project / ".claude" / "skills" / NAME
    (folder / "references" / "rules" / "timeouts.md").write_text("edited by hand\n")
    (folder / "references" / "rules" / "retired-rule.md").write_text("from an older version\n")

    result = _install(project, home, "--agent", "claude")
    assert result.returncode == 0, result.stderr
    assert f"updated {NAME}" in result.stdout
    assert_same_as_pack(folder)
    assert not (folder / "references" / "rules" / "retired-rule.md").exists()
    assert sorted(p.name for p in folder.parent.iterdir()) == [NAME]  # no staging left behind

    again = _install(project, home, "--agent", "claude")
    assert again.returncode == 0
    assert "already up to date" in again.stdout


def test_a_foreign_skill_of_the_same_name_is_refused_unless_forced(
    project: Path, home: Path
) -> None:
    folder = project / ".cursor" / "skills" / NAME
    folder.mkdir(parents=True)
    theirs = f"---\nname: {NAME}\ndescription: someone else's skill\n---\nTheirs.\n"
    (folder / "SKILL.md").write_text(theirs)

    refused = _install(project, home, "--agent", "cursor")
    assert refused.returncode == 2
    assert "bepro did not install" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert (folder / "SKILL.md").read_text() == theirs

    forced = _install(project, home, "--agent", "cursor", "--force")
    assert forced.returncode == 0, forced.stderr
    assert_valid_agent_skill(folder)
    assert_same_as_pack(folder)


def test_dry_run_writes_nothing(project: Path, home: Path) -> None:
    result = _install(project, home, "--agent", "codex", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"would install {NAME} for codex" in result.stdout
    assert "new     SKILL.md" in result.stdout
    assert "new     references/rules/timeouts.md" in result.stdout
    assert "nothing was written" in result.stdout
    assert list(project.iterdir()) == []

    assert _install(project, home, "--agent", "codex").returncode == 0
    skill = project / ".agents" / "skills" / NAME / "SKILL.md"
    skill.write_text("edited\n")
    update = _install(project, home, "--agent", "codex", "--dry-run")
    assert "update  SKILL.md" in update.stdout
    assert "references/rules/timeouts.md" not in update.stdout  # unchanged files are not listed
    assert skill.read_text() == "edited\n"


def test_unknown_agent_is_a_usage_error(project: Path, home: Path) -> None:
    result = _install(project, home, "--agent", "vim")
    assert result.returncode == 2
    assert "vim" in result.stderr
    assert list(project.iterdir()) == []


def test_a_failed_install_keeps_the_previous_skill_whole(tmp_path: Path) -> None:
    target = tmp_path / "skills" / NAME
    target.mkdir(parents=True)
    (target / "SKILL.md").write_text("previous\n")
    # "references" as a file and as a folder: the second write fails halfway through the install.
    broken = InstallPlan(
        name=NAME,
        target=target,
        files={"SKILL.md": b"new\n", "references": b"x", "references/a.md": b"y"},
        changes={},
    )
    with pytest.raises(UsageError, match="cannot write"):
        apply_install(broken)
    assert (target / "SKILL.md").read_text() == "previous\n"
    assert sorted(p.name for p in target.parent.iterdir()) == [NAME]
