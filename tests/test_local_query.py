"""A local query scores the store's vector matrix and keyword weights with numpy: it ranks as
chroma and bm25s do, and a cold `bepro ask` imports neither."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bepro.config import Paths
from bepro.retrieval import keyword, layout, store
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


@pytest.mark.integration  # every eval question through a Chroma store too
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


def test_answers_weigh_items_by_the_vectors_the_index_kept(
    paths: Paths, retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build embeds every How and Symptoms item's opening and the labelled questions that
    rank rules by example; an answer then embeds only the question (a cold `bepro ask` paid
    0.3 s for the openings before)."""
    from bepro.agent.ask import AskRequest, ask
    from bepro.catalogue.load import load_catalogue
    from bepro.knowledge.references import item_openings
    from bepro.retrieval import embed, openings
    from bepro.retrieval.examples import example_questions

    catalogue = load_catalogue(paths.skill)
    manifest = layout.read_manifest(paths.index)
    assert manifest is not None
    texts, vectors = layout.load_items(paths.index, manifest)
    openings_first = item_openings(paths.root, (rule.id for rule in catalogue.rules))
    assert texts == [*openings_first, *example_questions()]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    embedded: list[str] = []
    model = embed.default_embedder()
    real = model.embed
    monkeypatch.setattr(model, "embed", lambda batch: embedded.extend(batch) or real(batch))
    question = "Our Celery workers are killed mid-task on every Kubernetes deploy."
    ask(AskRequest(question), catalogue, paths, retriever=retriever)
    assert set(embedded) <= {question}, "only the question is embedded"
    assert openings.vector_of(texts[0]) is not None


def test_keyword_scores_equal_bm25s(paths: Paths, retriever: Retriever, tmp_path: Path) -> None:
    import bm25s

    manifest = layout.read_manifest(paths.index)
    assert manifest is not None
    documents = [chunk.document() for chunk in layout.load_chunks(paths.index, manifest)]
    keyword.build(tmp_path, documents)
    ours = keyword.KeywordIndex(tmp_path)
    theirs = bm25s.BM25()
    theirs.index([keyword.tokenize(document) for document in documents], show_progress=False)
    for question in [case["question"] for case in EVAL_CASES] + ["retry retry", "zzz"]:
        known = [word for word in keyword.tokenize(question) if word in theirs.vocab_dict]
        expected = theirs.get_scores(known) if known else np.zeros(len(documents), np.float32)
        assert np.array_equal(ours.scores(question), expected), question


@pytest.mark.slow
def test_a_cold_ask_imports_neither_chromadb_nor_bm25s(paths: Paths, retriever: Retriever) -> None:
    probe = (
        "import sys\n"
        "from bepro.surfaces.cli import app\n"
        "app(['ask', 'how do I make a payment call safe to retry?', '--format', 'json'],"
        " standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('chromadb', 'bm25s')))\n"
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
