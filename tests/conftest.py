"""Shared fixtures: the real pack, its catalogue, and one real index built per test session."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import openai
import pytest

from bepro.catalogue.load import load_catalogue
from bepro.catalogue.model import Catalogue
from bepro.config import Paths, resolve_paths
from bepro.knowledge.chunk import content_hash
from bepro.retrieval.search import Retriever, SilentReporter

if TYPE_CHECKING:
    from .serve_helpers import Server

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TIMEOUT_S = 30.0


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "SKILL.md")


# What the session index is built from besides the pack: the code that parses, chunks, embeds
# and stores it. A change to any of it (or to the pack) gets a freshly built index.
INDEX_CODE = ("catalogue", "knowledge", "retrieval")


def _index_key() -> str:
    digest = hashlib.sha256(content_hash(ROOT).encode())
    package = ROOT / "skill" / "bepro"
    for path in sorted(p for folder in INDEX_CODE for p in (package / folder).rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def index_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full pack's index, kept between runs in pytest's cache under a key of what it is built
    from, so a run after an unrelated change opens it instead of spending a minute building it.
    Without the cache (`-p no:cacheprovider`), a fresh one per session."""
    cache: pytest.Cache | None = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("index")
    folder = cache.mkdir("bepro-index")
    key = _index_key()
    for old in folder.iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    return folder / key


@pytest.fixture(scope="session")
def paths(index_dir: Path) -> Iterator[Paths]:
    previous = os.environ.get("BEPRO_INDEX_DIR")
    os.environ["BEPRO_INDEX_DIR"] = str(index_dir)
    yield resolve_paths()
    if previous is None:
        os.environ.pop("BEPRO_INDEX_DIR", None)
    else:
        os.environ["BEPRO_INDEX_DIR"] = previous


@pytest.fixture(scope="session")
def retriever(paths: Paths, catalogue: Catalogue) -> Retriever:
    return Retriever(paths, catalogue, SilentReporter())


def bepro_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bepro", *args]


def run_bepro(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        bepro_command(*args),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd or ROOT,
        check=False,
    )


@dataclass(frozen=True)
class CliRun:
    """What a user sees of one CLI run: the exit code and the two output streams."""

    returncode: int
    stdout: str
    stderr: str


def invoke_bepro(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliRun:
    """Run the CLI's entry point (`bepro.surfaces.cli.main`, error handling and exit codes
    included) in this process, as run_bepro runs it in a subprocess: the same argv, environment
    overrides and working directory, without a second of interpreter start and imports per call.
    What a process would start afresh is reset around the call: the environment (`--chroma-url`
    sets a variable), the settings read from the nearest pyproject.toml (cached per process) and
    the `bepro` logger the CLI configures.
    Keep run_bepro for what only a real process shows (import costs, a per-process store cache,
    the `python -m bepro` entry) and for a few smoke tests of each command."""
    from click.testing import CliRunner

    from bepro.config import load_settings
    from bepro.surfaces.cli import main

    logger = logging.getLogger("bepro")
    saved_logger = (logger.handlers[:], logger.level, logger.propagate)
    previous_cwd, previous_argv, previous_env = Path.cwd(), sys.argv, dict(os.environ)
    load_settings.cache_clear()
    try:
        with CliRunner().isolation(env=env) as (stdout, stderr, _):
            os.chdir(cwd or ROOT)
            sys.argv = ["bepro", *args]
            code: object = 0
            try:
                main()
            except SystemExit as done:
                code = done.code
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = stdout.getvalue(), stderr.getvalue()
    finally:
        os.chdir(previous_cwd)
        sys.argv = previous_argv
        os.environ.clear()
        os.environ.update(previous_env)
        logger.handlers[:], logger.level, logger.propagate = saved_logger
        load_settings.cache_clear()
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return CliRun(returncode, out.decode(), err.decode())


# A rule line of SKILL.md's Quick Reference: "- `timeouts` - Set per dependency; ...".
RULE_LINE = re.compile(r"- `(?P<rule_id>[a-z0-9-]+)` - ")


def small_pack(
    root: Path, rules: tuple[str, ...] = ("timeouts", "retries"), trim_skill: bool = False
) -> Path:
    """A pack of SKILL.md and a few rule references (timeouts, retries) at `root`: its index
    builds in a second or two, for the tests of building, rebuilding and corruption. With
    trim_skill, SKILL.md lists only those rules (categories, actions and other sections kept):
    a third of the chunks to embed, for tests about the index rather than about answers."""
    (root / "references" / "rules").mkdir(parents=True)
    skill = (ROOT / "SKILL.md").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [
        line
        for line in skill
        if not trim_skill or (found := RULE_LINE.match(line)) is None or found["rule_id"] in rules
    ]
    (root / "SKILL.md").write_text("".join(kept), encoding="utf-8")
    for rule_id in rules:
        shutil.copy(ROOT / "references" / "rules" / f"{rule_id}.md", root / "references" / "rules")
    return root


def small_pack_paths(
    folder: Path, rules: tuple[str, ...] = ("timeouts", "retries"), trim_skill: bool = False
) -> Paths:
    """A small_pack in folder/pack with its index in folder/index."""
    root = small_pack(folder / "pack", rules, trim_skill)
    return Paths(
        root=root, skill=root / "SKILL.md", references=root / "references", index=folder / "index"
    )


# A real `bepro serve` (tests/serve_helpers.py) and its clients: each test module that uses
# them gets its own server, on the session's index.
@pytest.fixture(scope="module")
def server(
    index_dir: Path, retriever: Retriever, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A real server; the session's `retriever` fixture has built the index it opens."""
    from .serve_helpers import running_server  # it imports ROOT from here

    log = tmp_path_factory.mktemp("serve") / "server.log"
    with running_server(log, {"BEPRO_INDEX_DIR": str(index_dir), "BEPRO_API_TOKEN": ""}) as running:
        yield running


@pytest.fixture(scope="module")
def base_url(server: Server) -> str:
    return server.base


@pytest.fixture(scope="module")
def server_log(server: Server) -> Path:
    return server.log


@pytest.fixture(scope="module")
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{base_url}/v1", api_key="unused", timeout=CLIENT_TIMEOUT_S, max_retries=0
    )


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_S) as session:
        yield session
