"""BM25 keyword index over the same chunks as the vector store (bm25s, saved beside it)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z0-9]+")


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | {"how", "what", "why", "should", "can", "do", "we", "our", "i"}


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased words without stop words, Snowball-stemmed (retries, retry -> retri)."""
    stop = _stopwords()
    words = [word for word in _WORD.findall(text.lower()) if word not in stop]
    return list(_stemmer().stemWords(words))


def build(directory: Path, documents: list[str]) -> None:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([tokenize(doc) for doc in documents], show_progress=False)
    retriever.save(str(directory), show_progress=False)


class KeywordIndex:
    def __init__(self, directory: Path) -> None:
        import bm25s

        self._retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """A BM25 score for every chunk, in build order (zeros when no query word is known)."""
        tokens = tokenize(query)
        vocab = self._retriever.vocab_dict
        known = [token for token in tokens if token in vocab]
        if not known:
            return np.zeros(self._retriever.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)
