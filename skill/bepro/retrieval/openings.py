"""Embeddings of reference items' openings, by their text: built with the index (layout.ITEMS) and
kept per process, so an answer that weighs items by meaning embeds only the question.

An opening's vector depends only on its text and the model, so one table serves every index a
process opens; a text the index does not hold (an edited reference before its rebuild) is embedded
once and kept. Its keys are the pack's own item openings, a few hundred.
"""

from __future__ import annotations

import threading

import numpy as np

from bepro.retrieval.embed import DIMENSIONS, Vectors, default_embedder

_known: dict[str, Vectors] = {}
_lock = threading.Lock()


def remember(texts: list[str], vectors: Vectors) -> None:
    """Keep the index's vectors of these openings (row i is texts[i])."""
    with _lock:
        for text, vector in zip(texts, vectors, strict=True):
            _known.setdefault(text, vector)


def vector_of(opening: str) -> Vectors:
    """The opening's unit vector: the index's, or embedded now and kept."""
    found = _known.get(opening)
    if found is not None:
        return found
    vector: Vectors = default_embedder().embed([opening])[0]
    vector.flags.writeable = False
    with _lock:
        return _known.setdefault(opening, vector)


def vectors_of(texts: list[str]) -> Vectors:
    """The texts' unit vectors, row i for texts[i]: those this process knows already, the rest
    embedded in one batch and kept (a process that builds indexes again, as the tests do, embeds
    the same openings once)."""
    unknown = [text for text in dict.fromkeys(texts) if text not in _known]
    if unknown:
        remember(unknown, default_embedder().embed(unknown))
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.stack([_known[text] for text in texts])
