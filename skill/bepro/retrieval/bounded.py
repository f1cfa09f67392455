"""A Retriever that runs at most `limit` queries at once (by default one per CPU core).

Embedding a question is CPU work outside the GIL: more queries at once than cores only
time-slice the cores, and starve a server's event loop, which then accepts, sheds and answers
late. Retrieval itself needs no lock (chroma's local client locks its own shared state,
onnxruntime's run and tokenizers' encode are thread-safe, BM25 scoring only reads, and the
evidence cache is an lru_cache: tests/test_retrieval.py checks rankings from many threads at
once). The bound is held only for the query, never while an answer is written (by the LLM).
"""

from __future__ import annotations

import os
import threading

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.retrieval.search import Hit, RankingParams, Reporter, Retriever, RuleRanking


class CoreBoundRetriever(Retriever):
    def __init__(
        self,
        paths: Paths,
        catalogue: Catalogue,
        reporter: Reporter | None = None,
        params: RankingParams | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(paths, catalogue, reporter, params)
        self._slots = threading.BoundedSemaphore(limit or os.cpu_count() or 1)

    def search(self, query: str, action: str | None = None, top_k: int = 5) -> list[Hit]:
        with self._slots:
            return super().search(query, action, top_k)

    def rank_rules(
        self,
        query: str,
        action: str | None = None,
        top_k: int = 5,
        include: frozenset[str] = frozenset(),
        examples: bool = True,
    ) -> RuleRanking:
        with self._slots:
            return super().rank_rules(query, action, top_k, include, examples)
