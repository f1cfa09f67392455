"""`bepro install` as a user meets it: the skill lands where each agent looks, valid by the Agent
Skills rules, updates in place, never clobbers another skill, and --dry-run writes nothing."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import skills_ref
import yaml

from bepro.errors import UsageError
from bepro.surfaces.install import InstallPlan, apply_install

from .conftest import ROOT, CliRun, invoke_bepro

NAME = "backend-principle-eng-python-pro-max"
ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
# Where each agent's documentation says project skills live, and user skills under the home folder.
SKILL_DIRS = {
    "claude": ".claude/skills",
    "codex": ".agents/skills",
    "copilot": ".github/skills",
    "cursor": ".cursor/skills",
    "gemini": ".gemini/skills",
    "opencode": ".opencode/skills",
}
USER_SKILL_DIRS = {"copilot": ".copilot/skills", "opencode": ".config/opencode/skills"}
# A file SKILL.md points at: `references/...` in backticks or a markdown link; <placeholders> skipped.
_REFERENCED = re.compile(r"`(references/[^`<>\s]+)`|\]\((references/[^)<>\s]+)\)")


def _install(project: Path, home: Path, *args: str) -> CliRun:
    return invoke_bepro("install", *args, cwd=project, env={"HOME": str(home)})


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
    """The Agent Skills rules a loader enforces, checked on the installed copy: by the reference
    validator (skills-ref), then the rules it leaves out."""
    assert skills_ref.validate(folder) == []
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
    linked = set(re.findall(r"\]\((references/[^)]+)\)", text))  # links one level deep
    rules = set(re.findall(r"^- `([a-z0-9-]+)` - ", text, re.MULTILINE))
    assert len(rules) == 39
    assert {f"references/rules/{rule}.md" for rule in rules} <= linked
    assert "references/actions/review.md" in linked
    assert "references/python-core.md" in linked
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
    # a project-scope install puts nothing in the home folder but bepro's user cache
    assert {entry.name for entry in home.iterdir()} <= {".cache"}


@pytest.mark.parametrize("agent", ["claude", "copilot", "opencode"])
def test_user_scope_installs_in_the_home_folder(agent: str, project: Path, home: Path) -> None:
    result = _install(project, home, "--agent", agent, "--scope", "user")
    assert result.returncode == 0, result.stderr
    assert_valid_agent_skill(home / USER_SKILL_DIRS.get(agent, SKILL_DIRS[agent]) / NAME)
    assert list(project.iterdir()) == []


def test_rerun_updates_in_place_and_keeps_the_users_files(project: Path, home: Path) -> None:
    assert _install(project, home, "--agent", "claude").returncode == 0
    folder = project / ".claude" / "skills" / NAME
    marker = folder / ".bepro-install.json"
    record = json.loads(marker.read_text(encoding="utf-8"))
    retired = folder / "references" / "rules" / "retired-rule.md"  # as an older bepro wrote it
    retired.write_text("from an older version\n")
    record["files"]["references/rules/retired-rule.md"] = hashlib.sha256(
        retired.read_bytes()
    ).hexdigest()
    record["files"]["SKILL.md"] = hashlib.sha256(b"an older SKILL.md\n").hexdigest()
    (folder / "SKILL.md").write_bytes(b"an older SKILL.md\n")
    marker.write_text(json.dumps(record), encoding="utf-8")
    notes = folder / "team-notes.md"
    notes.write_text("our own additions\n")

    result = _install(project, home, "--agent", "claude")
    assert result.returncode == 0, result.stderr
    assert f"updated {NAME}" in result.stdout
    assert "kept 1 files you added" in result.stdout
    assert notes.read_text() == "our own additions\n"
    assert not retired.exists()
    assert_same_as_pack(folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == [NAME]  # no staging left behind

    again = _install(project, home, "--agent", "claude")
    assert again.returncode == 0
    assert "already up to date" in again.stdout


def test_a_file_the_user_edited_is_not_overwritten_without_force(project: Path, home: Path) -> None:
    assert _install(project, home, "--agent", "gemini").returncode == 0
    folder = project / ".gemini" / "skills" / NAME
    timeouts = folder / "references" / "rules" / "timeouts.md"
    timeouts.write_text("our house rules for timeouts\n")
    marker = folder / ".bepro-install.json"
    record = json.loads(marker.read_text(encoding="utf-8"))
    record["files"]["references/rules/retries.md"] = "0" * 64  # as if the pack changed it since
    marker.write_text(json.dumps(record), encoding="utf-8")
    (folder / "references" / "rules" / "retries.md").write_text("an older retries\n")

    refused = _install(project, home, "--agent", "gemini")
    assert refused.returncode == 2
    assert "you edited" in refused.stderr
    assert "references/rules/timeouts.md" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert timeouts.read_text() == "our house rules for timeouts\n"

    forced = _install(project, home, "--agent", "gemini", "--force")
    assert forced.returncode == 0, forced.stderr
    assert_same_as_pack(folder)


def test_uninstall_removes_only_what_bepro_wrote_unless_forced(project: Path, home: Path) -> None:
    assert _install(project, home, "--agent", "opencode").returncode == 0
    folder = project / ".opencode" / "skills" / NAME
    (folder / "team-notes.md").write_text("ours\n")

    refused = invoke_bepro("uninstall", "--agent", "opencode", cwd=project, env={"HOME": str(home)})
    assert refused.returncode == 2
    assert "added: team-notes.md" in refused.stderr
    assert folder.is_dir()

    (folder / "team-notes.md").unlink()
    done = invoke_bepro("uninstall", "--agent", "opencode", cwd=project, env={"HOME": str(home)})
    assert done.returncode == 0, done.stderr
    assert f"removed {NAME}" in done.stdout
    assert list((project / ".opencode" / "skills").iterdir()) == []

    again = invoke_bepro("uninstall", "--agent", "opencode", cwd=project, env={"HOME": str(home)})
    assert again.returncode == 2
    assert "nothing is installed" in again.stderr


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
    folder = project / ".agents" / "skills" / NAME
    older = b"an older SKILL.md\n"  # as an older bepro wrote it: the marker says so
    (folder / "SKILL.md").write_bytes(older)
    marker = folder / ".bepro-install.json"
    record = json.loads(marker.read_text(encoding="utf-8"))
    record["files"]["SKILL.md"] = hashlib.sha256(older).hexdigest()
    marker.write_text(json.dumps(record), encoding="utf-8")
    update = _install(project, home, "--agent", "codex", "--dry-run")
    assert "update  SKILL.md" in update.stdout
    assert "references/rules/timeouts.md" not in update.stdout  # unchanged files are not listed
    assert (folder / "SKILL.md").read_bytes() == older


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
