"""The offline embedder: real model, normalised vectors, meaningful similarity, checksum enforced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bepro.errors import ModelError
from bepro.retrieval.embed import DIMENSIONS, MiniLMEmbedder, default_embedder


def test_vectors_are_unit_length_and_similar_texts_are_close() -> None:
    vectors = default_embedder().embed(
        [
            "set a timeout on every outgoing HTTP request",
            "requests.get hangs forever without a deadline",
            "my sourdough bread needs a crispier crust",
        ]
    )
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    related, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert related > unrelated + 0.2


def test_batching_does_not_change_vectors() -> None:
    texts = [f"retry number {i} with jitter" + " and backoff" * i for i in range(12)]
    together = default_embedder().embed(texts)
    alone = np.stack([default_embedder().embed([text])[0] for text in texts])
    assert np.allclose(together, alone, atol=1e-3)


def test_model_failing_its_checksum_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelError, match="sha256"):
        MiniLMEmbedder(fake).embed(["anything"])


def test_a_text_embedded_again_is_remembered_not_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A question is embedded to infer its action and again to rank rules: the model runs once,
    and what the caller gets back is its own copy."""
    embedder = MiniLMEmbedder()
    runs: list[int] = []
    original = MiniLMEmbedder._embed_batch

    def counted(session: object, tokenizer: object, texts: list[str]) -> np.ndarray:
        runs.append(len(texts))
        return original(session, tokenizer, texts)  # type: ignore[arg-type]

    monkeypatch.setattr(MiniLMEmbedder, "_embed_batch", staticmethod(counted))
    first = embedder.embed(["how do I make a payment call safe to retry?"])
    first[0, 0] = 42.0  # a caller's edit does not reach the remembered vector
    second = embedder.embed(["how do I make a payment call safe to retry?"])
    assert runs == [1]
    assert second[0, 0] != 42.0
    assert np.isclose(np.linalg.norm(second[0]), 1.0, atol=1e-4)
