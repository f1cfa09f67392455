"""The persisted index: built on first use, rebuilt when stale or corrupt, safe under concurrency.

These tests run on a small pack (SKILL.md listing two rules, and their references) so each build
takes a second or so; those that start from a built index start from a copy of one built once for
the module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bepro.catalogue.load import load_catalogue
from bepro.config import Paths
from bepro.retrieval import layout
from bepro.retrieval.search import Retriever, index_state

from .conftest import invoke_bepro, run_bepro, small_pack_paths


class RecordingReporter:
    def __init__(self) -> None:
        self.notices: list[str] = []
        self.progress_calls: list[tuple[int, int]] = []

    def notice(self, message: str) -> None:
        self.notices.append(message)

    def progress(self, done: int, total: int) -> None:
        self.progress_calls.append((done, total))


@pytest.fixture
def small_pack(tmp_path: Path) -> Paths:
    return small_pack_paths(tmp_path, trim_skill=True)


@pytest.fixture(scope="module")
def small_pack_built_once(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    pack = small_pack_paths(tmp_path_factory.mktemp("built"), trim_skill=True)
    Retriever(pack, load_catalogue(pack.skill))
    return pack


@pytest.fixture
def built_small_pack(small_pack_built_once: Paths, tmp_path: Path) -> Paths:
    """A small pack and its built index, copied for this test to change as it likes."""
    shutil.copytree(small_pack_built_once.root, tmp_path / "pack")
    shutil.copytree(small_pack_built_once.index, tmp_path / "index")
    root = tmp_path / "pack"
    return Paths(
        root=root, skill=root / "SKILL.md", references=root / "references", index=tmp_path / "index"
    )


def test_first_use_builds_with_progress_then_reuses(small_pack: Paths) -> None:
    catalogue = load_catalogue(small_pack.skill)
    reporter = RecordingReporter()
    Retriever(small_pack, catalogue, reporter)
    assert any("first run" in notice for notice in reporter.notices)
    assert reporter.progress_calls[-1][0] == reporter.progress_calls[-1][1]
    assert index_state(small_pack).state == "ready"
    again = RecordingReporter()
    Retriever(small_pack, catalogue, again)
    assert again.notices == []
    assert again.progress_calls == []


def test_changed_knowledge_makes_the_index_stale_and_it_is_rebuilt(
    built_small_pack: Paths,
) -> None:
    small_pack = built_small_pack
    catalogue = load_catalogue(small_pack.skill)
    assert index_state(small_pack).state == "ready"
    reference = small_pack.references / "rules" / "timeouts.md"
    reference.write_text(
        reference.read_text(encoding="utf-8") + "\nA new paragraph on deadlines.\n",
        encoding="utf-8",
    )
    assert index_state(small_pack).state == "stale"
    reporter = RecordingReporter()
    retriever = Retriever(small_pack, catalogue, reporter)
    assert any("changed" in notice for notice in reporter.notices)
    assert index_state(small_pack).state == "ready"
    hits = retriever.search("A new paragraph on deadlines", top_k=3)
    assert any("new paragraph" in hit.chunk.text for hit in hits)


@pytest.mark.integration  # rebuilds a Chroma store
def test_a_corrupt_chroma_store_is_reported_and_rebuilt_by_index_build(
    built_small_pack: Paths,
) -> None:
    # chromadb caches open stores per process, so corruption is checked from fresh processes.
    small_pack = built_small_pack
    manifest = layout.read_manifest(small_pack.index)
    assert manifest is not None
    sqlite = small_pack.index / manifest.store / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database" * 100)
    env = {"BEPRO_ROOT": str(small_pack.root), "BEPRO_INDEX_DIR": str(small_pack.index)}
    status = run_bepro("index", "status", env=env)
    assert status.returncode == 1
    assert status.stdout.startswith("corrupt")
    # A query reads the vector matrix, not chroma: its answer is still right.
    search = run_bepro("search", "timeout for an HTTP call", "--format", "json", env=env)
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)[0]["rule_id"] == "timeouts"
    built = run_bepro("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert run_bepro("index", "status", env=env).returncode == 0


def _damage_matrix(folder: Path, damage: str) -> None:
    matrix_file, ids_file = folder / layout.MATRIX, folder / layout.MATRIX_IDS
    if damage == "missing":
        matrix_file.unlink()
    elif damage == "garbled":
        matrix_file.write_bytes(b"not a matrix" * 100)
    elif damage == "rows missing":
        np.save(matrix_file, np.load(matrix_file)[:-1])
    elif damage == "rows of another order":
        rows = json.loads(ids_file.read_text(encoding="utf-8"))
        rows["ids"].reverse()
        ids_file.write_text(json.dumps(rows), encoding="utf-8")
    else:  # of another build of the knowledge
        rows = json.loads(ids_file.read_text(encoding="utf-8"))
        rows["content_hash"] = "0" * 64
        ids_file.write_text(json.dumps(rows), encoding="utf-8")


@pytest.mark.parametrize(
    "damage", ["missing", "garbled", "rows missing", "rows of another order", "another build"]
)
def test_a_missing_or_stale_matrix_is_rebuilt_never_used(
    built_small_pack: Paths, damage: str
) -> None:
    small_pack = built_small_pack
    catalogue = load_catalogue(small_pack.skill)
    manifest = layout.read_manifest(small_pack.index)
    assert manifest is not None
    _damage_matrix(small_pack.index / manifest.store, damage)
    assert index_state(small_pack).state == "corrupt"
    reporter = RecordingReporter()
    retriever = Retriever(small_pack, catalogue, reporter)
    assert any("corrupt; rebuilding" in notice for notice in reporter.notices)
    assert retriever.search("timeout for an HTTP call", top_k=1)[0].chunk.rule_id == "timeouts"
    assert index_state(small_pack).state == "ready"


@pytest.mark.integration  # rebuilds a Chroma store
def test_two_processes_building_at_once_leave_one_good_index(small_pack: Paths) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from bepro.config import Paths\n"
        "from bepro.catalogue.load import load_catalogue\n"
        "from bepro.retrieval.search import Retriever\n"
        "root, index = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "paths = Paths(root, root / 'SKILL.md', root / 'references', index)\n"
        "r = Retriever(paths, load_catalogue(paths.skill))\n"
        "print(r.search('retry with jitter', top_k=1)[0].chunk.rule_id)\n"
    )
    args = [sys.executable, "-c", script, str(small_pack.root), str(small_pack.index)]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert all(out.strip() for out, _ in outputs)
    assert len(list(small_pack.index.glob("store-*"))) == 1
    assert index_state(small_pack).state == "ready"


def test_cli_index_status_and_build(small_pack: Paths) -> None:
    env = {"BEPRO_ROOT": str(small_pack.root), "BEPRO_INDEX_DIR": str(small_pack.index)}
    missing = invoke_bepro("index", "status", env=env)
    assert missing.returncode == 1
    assert missing.stdout.startswith("missing")
    built = invoke_bepro("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "index ready" in built.stdout
    status = invoke_bepro("index", "status", "--format", "json", env=env)
    assert status.returncode == 0
    assert json.loads(status.stdout)["state"] == "ready"
