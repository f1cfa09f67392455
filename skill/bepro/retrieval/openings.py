"""Embeddings of reference items' openings, by their text: built with the index (layout.ITEMS) and
kept per process, so an answer that weighs items by meaning embeds only the question.

An opening's vector depends only on its text and the model, so one table serves every index a
process opens; a text the index does not hold (an edited reference before its rebuild) is embedded
once and kept. Its keys are the pack's own item openings, a few hundred.
"""

from __future__ import annotations

import threading

from bepro.retrieval.embed import Vectors, default_embedder

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
