"""BM25 keyword index over the same chunks as the vector store, saved beside it.

bm25s computes the BM25 weight of every (word, document) pair at build time; they are saved as
a sparse matrix (one column a word) with the vocabulary and the stop words the tokenizer used.
A query's score is then the sum of its words' columns, computed here with numpy as bm25s does, so
a query never imports bm25s (whose import pulls in tqdm and asyncio: a sixth of a cold `ask`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z0-9]+")
_EXTRA_STOPWORDS = frozenset({"how", "what", "why", "should", "can", "do", "we", "our", "i"})
WEIGHTS = "weights.npz"  # the BM25 matrix in CSC form: data, indices, indptr
VOCABULARY = "vocabulary.json"  # word -> column, the stop words, the number of documents


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | _EXTRA_STOPWORDS


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str, stopwords: frozenset[str] | None = None) -> list[str]:
    """Lower-cased words without stop words, Snowball-stemmed (retries, retry -> retri)."""
    stop = _stopwords() if stopwords is None else stopwords
    words = [word for word in _WORD.findall(text.lower()) if word not in stop]
    return list(_stemmer().stemWords(words))


def build(directory: Path, documents: list[str]) -> None:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([tokenize(doc) for doc in documents], show_progress=False)
    directory.mkdir(parents=True, exist_ok=True)
    matrix = retriever.scores
    np.savez(
        directory / WEIGHTS,
        data=matrix["data"],
        indices=matrix["indices"],
        indptr=matrix["indptr"],
    )
    columns = len(matrix["indptr"]) - 1  # bm25s adds "" to its vocabulary, with no column
    vocabulary = {
        "words": {
            word: int(column) for word, column in retriever.vocab_dict.items() if column < columns
        },
        "stopwords": sorted(_stopwords()),
        "documents": int(matrix["num_docs"]),
    }
    (directory / VOCABULARY).write_text(json.dumps(vocabulary), encoding="utf-8")


class KeywordIndex:
    def __init__(self, directory: Path) -> None:
        vocabulary = json.loads((directory / VOCABULARY).read_text(encoding="utf-8"))
        self._words: dict[str, int] = vocabulary["words"]
        self._stopwords = frozenset(vocabulary["stopwords"])
        self._documents = int(vocabulary["documents"])
        with np.load(directory / WEIGHTS, allow_pickle=False) as matrix:
            self._data: npt.NDArray[np.float32] = matrix["data"]
            self._indices: npt.NDArray[np.int32] = matrix["indices"]
            self._indptr: npt.NDArray[np.int64] = matrix["indptr"]
        word_without_column = max(self._words.values(), default=-1) >= len(self._indptr) - 1
        if word_without_column or len(self._data) != len(self._indices):
            raise ValueError(f"the keyword index in {directory} is inconsistent")

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """A BM25 score for every document, in build order (zeros when no query word is known).
        A word said twice counts twice, as in bm25s."""
        words = tokenize(query, self._stopwords)
        columns = [self._words[word] for word in words if word in self._words]
        scores = np.zeros(self._documents, dtype=np.float32)
        if columns:
            spans = [slice(self._indptr[c], self._indptr[c + 1]) for c in columns]
            documents = np.concatenate([self._indices[span] for span in spans])
            np.add.at(scores, documents, np.concatenate([self._data[span] for span in spans]))
        return scores
