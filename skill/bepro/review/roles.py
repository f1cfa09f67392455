"""What a file is for: production code, tests, migrations, scripts, examples or vendored code.

Most backend rules are about code that runs in production: a dummy key in a test, an applied
migration or a one-off script run by hand are not defects worth a finding. Each detector code
declares the roles it applies to (registry.py); a file's role comes from its path, the way pytest
and Django lay projects out, and `[tool.bepro.review] roles` can override it per glob.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Literal, get_args

from bepro.review.globs import matches

Role = Literal["production", "test", "migration", "script", "example", "vendored"]
ROLES: tuple[Role, ...] = get_args(Role)
PRODUCTION_ONLY: frozenset[Role] = frozenset({"production"})

# test_project/: the project a test suite runs against (modoboa's, which setup.py leaves out);
# test_utils/: what a suite imports (baserow's fixtures and a throwaway RSA key)
_TEST_DIRS = frozenset(
    {"tests", "test", "testing", "fixtures", "testdata", "test_data", "test_project", "testproject",
     "e2e", "test_utils", "testutils", "test_helpers", "test_support", "unittests"}
)  # fmt: skip
_TEST_FILES = frozenset({"conftest.py", "tests.py", "test.py", "fixtures.py"})
# Words of a file name that make it test code: test_app.py, app_tests.py, tests_e2e.py,
# configuration_testing.py (settings), create_ci_test_db.py (FitTrackee's CI database set-up)
_TEST_WORDS = frozenset({"test", "tests", "testing", "e2e"})
_TEST_DIR_SUFFIXES = ("_test", "_tests")  # playwright_tests/, integration_tests/
# Stand-ins for real services in development and tests: warehouse/mock/billing.py,
# docker/mockservices/, mocks/mock_infobase.py.
_MOCK = re.compile(r"^mocks?(?:_\w*|services?)?(?:\.py)?$")
_MIGRATION_DIRS = frozenset({"migrations", "alembic", "migration", "revisions"})
# One module of ordered migration functions (lnbits and its extensions: `async def m001_...`).
_MIGRATION_FILES = frozenset({"migrations.py"})
# Django management commands are left out here: see is_management_command.
# CI, editor, linter-rule (gitlint/, .semgrep/) and coding-agent folders hold developers' tools;
# development/ holds a developer's setup (EvaP's localsettings template for its nix environment);
# cli/ holds commands an operator runs (liberapay's maintainer scripts, warehouse's click group);
# docker/, infra/ and tools/ hold container, deployment and maintenance helpers (a HEALTHCHECK
# probe, a log viewer, a database converter).
_SCRIPT_DIRS = frozenset(
    {"scripts", "script", "bin", "cli", "dev", "development", "devtools", "tools", "docker", "infra",
     ".github", ".gitlab", ".circleci", ".buildkite", ".devcontainer", ".vscode", ".claude",
     ".cursor", ".semgrep", "gitlint"}
)  # fmt: skip
# dev-tools/, build-tools/, kolibri-tools/ (its font and translation scripts)
_SCRIPT_DIR_SUFFIXES = ("-tools", "_tools")
_SCRIPT_FILES = frozenset(
    {"manage.py", "noxfile.py", "fabfile.py", "__main__.py", "seed.py", "seeds.py"}
)  # fmt: skip
# Development settings modules: cookiecutter-django's settings/local.py, edx's devstack.py, a
# settings/development.py that a developer's local.py imports, readthedocs' docker_compose.py for
# its local compose setup. The production ones sit beside them.
_DEV_SETTINGS = frozenset(
    {"local.py", "dev.py", "development.py", "develop.py", "devel.py", "devstack.py",
     "docker_compose.py"}
)  # fmt: skip
# The settings modules a test run or CI loads (yournextrepresentative's settings/testing.py).
_TEST_SETTINGS = frozenset({"test.py", "tests.py", "testing.py", "ci.py"})
_EXAMPLE_DIRS = frozenset(
    {"examples", "example", "docs", "doc", "samples", "demo", "demos", "tutorial"}
)
# Copies of other projects' code, which the application does not write and a review cannot fix
# (indico's vendor/django_mail). Not third_party/: courtlistener's settings for its services.
_VENDOR_DIRS = frozenset({"vendor", "vendored", "_vendor", "site-packages"})
# Import names of packages applications install and never write: a folder holding three of them
# side by side is a copy of dependencies put on sys.path (Tautulli's lib/: 17 of its 27
# findings were in dnspython, pygments and the like; bazarr's custom_libs/: its patched copies of
# subliminal, py7zr, flask_compress and sseclient held 51 findings, none worth a change there).
_DISTRIBUTIONS = frozenset(
    {"requests", "urllib3", "certifi", "idna", "chardet", "charset_normalizer", "six",
     "dateutil", "pytz", "yaml", "bs4", "jinja2", "markupsafe", "cherrypy", "cheroot", "tornado",
     "simplejson", "future", "past", "backports", "pkg_resources", "setuptools", "attr", "click",
     "html5lib", "bleach", "arrow", "mako", "dns", "pygments", "websocket", "oauthlib",
     "requests_oauthlib", "xmltodict", "tzlocal", "apscheduler", "httplib2", "socks",
     "packaging", "pyparsing", "colorama", "distro", "feedparser", "jaraco", "more_itertools",
     "zipp", "importlib_metadata", "typing_extensions", "soupsieve", "webencodings", "jwt",
     "flask_compress", "py7zr", "sseclient", "subliminal", "imghdr"}
)  # fmt: skip
_VENDORED_AT_LEAST = 3
# A plugin written as an example (ckanext/example_idatastorebackend/).
_EXAMPLE_PREFIX = "example_"


def role_of(
    path: str,
    overrides: Mapping[str, Role] | None = None,
    entry_point: bool = False,
    within: str | None = None,
) -> Role:
    """The role of a file: the first matching override glob, else what its path inside its
    project (`within`, see project_root; the path itself when not given) says; a module run as a
    program (an `if __name__ == "__main__":` block) that its path calls production is a script,
    the way one-off tools and CLIs are written (the caller passes entry_point=False for one that
    production code imports: the application's own app.py or a helper with a debugging main
    block)."""
    for pattern, role in (overrides or {}).items():
        if matches(path, pattern):
            return role
    role = _role_from_path(within or path)
    return "script" if role == "production" and entry_point else role


# What marks a project's top folder: the folders above it say nothing of its files' roles.
_PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


def project_root(target: Path) -> str:
    """The absolute folder a reviewed target's roles are judged from: the nearest one at or
    above it that holds a project marker (a checkout named `docs`, reviewed by that name, is an
    application, not documentation), else the folder holding the target, so its own name still
    counts (`bepro review /home/me/dev/app` is not a developer tool for being under `dev/`)."""
    absolute = Path(os.path.abspath(target))
    folder = absolute if absolute.is_dir() else absolute.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in _PROJECT_MARKERS):
            return str(candidate)
    return str(folder.parent)


def is_entry_point(tree: ast.Module, source: str = "") -> bool:
    """Whether the module is run by hand, as a program or a tool: a `#!` line (made to be run:
    zds-site's munin plugin, whose host kills it after its own timeout), a top-level
    `if __name__ == "__main__":` block, click/typer commands (an operator's CLI), an import of
    faker (demo and seed data generators: a truncated uuid or a random id there names fake rows),
    or a `while` loop at the top level (an entrypoint's wait-for-the-database script: a module
    that is imported never loops on import)."""
    return source.startswith("#!") or any(
        _main_guard(statement)
        or _cli_command(statement)
        or _imports_faker(statement)
        or isinstance(statement, ast.While)
        for statement in tree.body
    )


def is_management_command(path: str) -> bool:
    """A Django management command (`<app>/management/commands/<name>.py`): manage.py runs it as
    a program, mostly by hand: of 18 findings judged in commands of audited applications, 2 were
    worth fixing (one a Celery task runs, one a deprecated cron job) and the rest sat in
    backfills and developers' loaders. The commands a deployment file or the code itself runs
    are production code (engine._production_entry_points)."""
    parts = path.replace("\\", "/").rsplit("/", 3)  # string splits: asked of every file
    return (
        len(parts) >= 3
        and parts[-3].lower() == "management"
        and parts[-2].lower() == "commands"
        and parts[-1].endswith(".py")
        and not parts[-1].startswith("_")
    )


# A command's docstring or help naming its scheduler: courtlistener's check_gemini_batch_status
# ("Intended to be run periodically via cronjob or daemon"), its *_daemon commands.
_SCHEDULED = re.compile(r"\b(?:cron(?:job|tab)?s?|periodically|daemon)\b", re.IGNORECASE)


def says_scheduled(tree: ast.Module) -> bool:
    """Whether a management command's docstrings or `help` text say a scheduler runs it."""
    texts = [ast.get_docstring(tree) or ""]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            texts.append(ast.get_docstring(node) or "")
            texts += [
                statement.value.value
                for statement in node.body
                if isinstance(statement, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "help" for t in statement.targets)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ]
    return any(_SCHEDULED.search(text) for text in texts)


def command_name(path: str) -> str:
    """The name manage.py knows a management command by: its module's name."""
    return PurePath(path).stem


# Files that start processes where the application is deployed: a Procfile, compose and
# Kubernetes manifests, shell entrypoints, cron tables, supervisor, uwsgi and systemd
# configuration (healthchecks' uwsgi.ini attaches `manage.py sendalerts` as a daemon).
_DEPLOY_FILE = re.compile(
    r"procfile.*|dockerfile.*|crontab|.*\.(sh|ya?ml|ini|conf|cfg|toml|json|service|cron|j2)", re.I
)
# A developer's or CI's copy of them: docker-compose.dev.yml, setup-local.sh, Ctl/local/.
_DEV_ONLY = re.compile(r"(^|[._-])(dev|devel|development|local|test|tests|testing|ci)([._-]|$)")
_NOT_DEPLOYMENT_DIRS = _TEST_DIRS | _EXAMPLE_DIRS | {"node_modules", "site-packages", "venv"}
# `manage.py name` (or a wrapper named after it: EveryElection's `manage-py-command snoop`), or
# a scheduled event that names the command for a handler that calls call_command
# (WhoCanIVoteFor's SAM template: `Input: '{"command": "import_people"}'`).
RUNS_COMMAND = re.compile(
    r"(?:manage[.-]py[\w-]*|django-admin)\s+([A-Za-z_][\w-]*)"
    r"|[\"']command[\"']\s*:\s*[\"']([A-Za-z_][\w-]*)[\"']"
)
_DEPLOY_FILE_MOST_BYTES = 256 * 1024


def deployed_commands(folders: Iterable[Path]) -> frozenset[str]:
    """The management commands the deployment files under `folders` run (`manage.py <name>`),
    hidden folders (CI, editors) and developers' copies left out. The walk does not go below a
    Python package's folder: deployment files sit beside the code, not inside it, and the
    packages are most of a tree (on courtlistener, 23 ms -> 3 ms)."""
    names: set[str] = set()
    for folder in folders:
        for directory, subfolders, files in os.walk(folder):
            inside_package = "__init__.py" in files
            subfolders[:] = [
                name for name in subfolders if not inside_package and _deployment_folder(name)
            ]
            for name in files:
                if _DEPLOY_FILE.fullmatch(name) and not _DEV_ONLY.search(name.lower()):
                    text = _small_text(Path(directory, name))
                    names.update(a or b for a, b in RUNS_COMMAND.findall(text))
    return frozenset(names)


def _deployment_folder(name: str) -> bool:
    lowered = name.lower()
    return not (
        lowered.startswith(".")
        or lowered in _NOT_DEPLOYMENT_DIRS
        or _DEV_ONLY.fullmatch(lowered) is not None
    )


def _small_text(path: Path) -> str:
    try:
        if path.stat().st_size > _DEPLOY_FILE_MOST_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _imports_faker(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import):
        modules = [alias.name for alias in statement.names]
    elif isinstance(statement, ast.ImportFrom):
        modules = [statement.module or ""]
    else:
        return False
    return any(module.split(".")[0] == "faker" for module in modules)


def _main_guard(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.If)
        and isinstance(test := statement.test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def _cli_command(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in statement.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in _CLI_DECORATORS:
            owner = target.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            # click.command, @cli.command (click groups), @app.command (typer),
            # @app.cli.command (flask), @manager.command (flask-script)
            if name in ("click", "typer") or name.endswith(("cli", "app", "group", "manager")):
                return True
    return False


_CLI_DECORATORS = frozenset({"command", "group"})


@lru_cache(maxsize=8192)
def _role_from_path(text: str) -> Role:
    """Memoised by the path's text: a review asks for each file's role twice (which files to
    analyse, then which findings to report), and a long-lived server for the same files again."""
    path = PurePath(text)
    folders = {part.lower() for part in path.parts[:-1]}
    name = path.name.lower()
    # pytest_plugin.py: fixtures a package ships for its tests (pulpcore's, a pytest11 entry
    # point)
    if name.startswith("pytest_") or not _TEST_WORDS.isdisjoint(
        name.removesuffix(".py").split("_")
    ):
        return "test"
    if name in _TEST_FILES or not folders.isdisjoint(_TEST_DIRS):
        return "test"
    if any(folder.endswith(_TEST_DIR_SUFFIXES) for folder in folders):
        return "test"
    if any(_MOCK.match(part) for part in (*folders, name)):
        return "test"
    if name in _MIGRATION_FILES or not folders.isdisjoint(_MIGRATION_DIRS):
        return "migration"
    if (
        name in _SCRIPT_FILES
        or not folders.isdisjoint(_SCRIPT_DIRS)
        or any(folder.endswith(_SCRIPT_DIR_SUFFIXES) for folder in folders)
    ):
        return "script"
    if name in _DEV_SETTINGS and path.parent.name.lower() == "settings":
        return "script"
    if name in _TEST_SETTINGS and path.parent.name.lower() == "settings":
        return "test"
    if path.parent.name.lower() == "commands" and path.parent.parent.name.lower() != "management":
        return "script"  # an operator's CLI commands (faraday-manage's server/commands/)
    if not folders.isdisjoint(_VENDOR_DIRS):
        return "vendored"
    if not folders.isdisjoint(_EXAMPLE_DIRS) or any(
        folder.startswith(_EXAMPLE_PREFIX) for folder in folders
    ):
        return "example"
    if not path.is_absolute() and any("." in part.lstrip(".") for part in path.parts[1:-1]):
        # No import reaches a folder with a dot in its name: its modules run on their own, in
        # another host (SickGear's Kodi add-on, service.sickgear.watchedstate.updater/). The top
        # folder is left out, and so is a path not judged from inside its project: a checkout
        # named after its site (changedetection.io) holds the application.
        return "script"
    return "production"


def vendored_folders(paths: Iterable[str]) -> list[str]:
    """The folders among `paths`' parents that hold copies of installed packages: three or more
    well-known distributions' packages or modules directly inside (`lib/certifi/`, `lib/six.py`).
    An application's own folders hold its own packages. String splits: asked of every file."""
    held: dict[str, set[str]] = {}
    for text in paths:
        parts = text.replace("\\", "/").split("/")
        for depth in range(1, len(parts)):
            name = parts[depth].removesuffix(".py")
            if name in _DISTRIBUTIONS:
                held.setdefault("/".join(parts[:depth]), set()).add(name)
    return sorted(folder for folder, names in held.items() if len(names) >= _VENDORED_AT_LEAST)


def parse_role(text: str) -> Role:
    """A role named in configuration; ValueError names the valid ones."""
    for role in ROLES:
        if text == role:
            return role
    raise ValueError(f"unknown file role {text!r}: use one of {', '.join(ROLES)}")
