"""A local query scores the store's vector matrix with numpy: it ranks as chroma does, and a cold
`bepro ask` never imports chromadb."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bepro.config import Paths
from bepro.retrieval import layout, store
from bepro.retrieval.search import LocalVectors, Retriever, RuleRanking

from .conftest import ROOT

EVAL_CASES = [
    json.loads(line)
    for line in (ROOT / "evals" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
]


def _top_ids(ranking: RuleRanking) -> tuple[bool, list[tuple[str, list[str]]]]:
    return ranking.abstained, [
        (rule.rule_id, [hit.chunk.id for hit in rule.chunks]) for rule in ranking.rules
    ]


@pytest.fixture(scope="module")
def chroma_retriever(retriever: Retriever, paths: Paths) -> Retriever:
    """The session's index, its cosines asked of the embedded chroma store instead."""
    manifest = layout.read_manifest(paths.index)
    assert manifest is not None
    collection = store.open_collection(paths.index, manifest)
    chunks = layout.load_chunks(paths.index, manifest)
    return retriever.with_vectors(store.ChromaVectors(collection, chunks))


def test_the_matrix_ranks_the_eval_questions_as_chroma_does(
    retriever: Retriever, chroma_retriever: Retriever
) -> None:
    assert isinstance(retriever._index.vectors, LocalVectors)
    for case in EVAL_CASES:
        question, action = case["question"], case["action"]
        ours = retriever.rank_rules(question, action=action)
        chroma = chroma_retriever.rank_rules(question, action=action)
        assert _top_ids(ours) == _top_ids(chroma), case["id"]
        assert ours.confidence == pytest.approx(chroma.confidence, abs=1e-5)
        chunk_ids = [hit.chunk.id for hit in retriever.search(question, action=action)]
        assert chunk_ids == [hit.chunk.id for hit in chroma_retriever.search(question, action)]


def test_the_matrix_is_memory_mapped_and_read_only(retriever: Retriever) -> None:
    vectors = retriever._index.vectors
    assert isinstance(vectors, LocalVectors)
    assert isinstance(vectors.matrix, np.memmap)
    assert not vectors.matrix.flags.writeable


@pytest.mark.slow
def test_a_cold_ask_never_imports_chromadb(paths: Paths, retriever: Retriever) -> None:
    probe = (
        "import sys\n"
        "from bepro.surfaces.cli import app\n"
        "app(['ask', 'how do I make a payment call safe to retry?', '--format', 'json'],"
        " standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'chromadb'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "BEPRO_INDEX_DIR": str(paths.index)},
    )
    assert result.returncode == 0, result.stderr
    answer, modules = result.stdout.rsplit("\n[", 1)
    assert "idempotency" in json.loads(answer)["rules"]
    assert modules.strip() == "]"
