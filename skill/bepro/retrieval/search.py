"""Action-aware hybrid retrieval: dense (cosine) plus BM25, fused, weighted by the action's focus.

Dense scores come from the store's vector matrix (layout.py), one numpy product a query, so a
local query never imports chromadb; with a Chroma server (`chroma-url`) they come from the server.

Ranking parameters live in RankingParams; their defaults were chosen on evals/retrieval.jsonl
(bench/retrieval_eval.py prints the figures for any setting), not by taste.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.errors import IndexUnavailableError
from bepro.knowledge.chunk import Chunk, chunk_pack, content_hash
from bepro.knowledge.references import item_openings
from bepro.retrieval.examples import example_questions, example_votes, examples_bytes
from bepro.retrieval.keyword import tokenize
from bepro.retrieval.openings import remember as remember_openings

if TYPE_CHECKING:
    from bepro.retrieval.dependency import ChromaDependency
    from bepro.retrieval.keyword import KeywordIndex
    from bepro.retrieval.layout import ChromaServer, Manifest, Matrix


log = logging.getLogger(__name__)
# Matching rule ids needs no stop list (and bm25s' own would import bm25s on a cold query).
NO_STOPWORDS: frozenset[str] = frozenset()

# Questions whose evidence (embedding, cosine and BM25 scores, ~6 KB) a process remembers:
# a repeated question (a retried request, the same question from several agents) skips the model.
EVIDENCE_CACHE_SIZE = 1024
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class Reporter(Protocol):
    """How the index tells the user what it is doing (the CLI draws a progress bar)."""

    def notice(self, message: str) -> None: ...

    def progress(self, done: int, total: int) -> None: ...


class SilentReporter:
    def notice(self, message: str) -> None:
        return None

    def progress(self, done: int, total: int) -> None:
        return None


@dataclass(frozen=True)
class RankingParams:
    """How dense and keyword evidence combine. Tuned on evals/retrieval.jsonl (README, Retrieval).

    Every chunk gets a cosine score (the pack is small enough to score it all) and a BM25 score.
    Chunks (for `search`): (cosine + chunk_keyword_weight * bm25 / best bm25) * focus boost.
    Rules (for `ask`): (best chunk cosine + second_chunk_weight * second best
    + rule_keyword_weight * keyword) * focus boost, where keyword mixes the rule-level BM25 (each
    rule's whole reference as one document, over the best) with the rule's best chunk BM25 (over
    the best chunk's), chunk_keyword_share of it: a word that is rare in one reference but common
    across many (retry) still counts where a passage is about it. The focus boost is 1 + the boost of
    the category's place among the action's focus categories; a rule the query names (every word
    of its id, stemmed: "caching" names `cache`, "load shedding" `load-shedding`) scores
    1 + named_rule_boost times more. Its id's word is common across references ("cache" is in
    most), so BM25 alone gives it little weight in a long report that also says "requests".
    A query abstains when the best cosine plus confidence_per_bm25 * the best raw chunk BM25
    is below abstain_below.
    """

    chunk_keyword_weight: float = 0.5
    rule_keyword_weight: float = 0.6
    second_chunk_weight: float = 0.2
    chunk_keyword_share: float = 0.3
    segment_chars: int = 150
    segment_weight: float = 0.5
    focus_boosts: tuple[float, ...] = (0.15, 0.10, 0.05)
    # Measured on real questions with the action inferred (bench/questions_bench.py), top3/any3:
    # held-out 0.770/0.885 -> 0.799/0.921, dev 0.862/0.943 -> 0.886/0.967, fresh 0.630/0.833 ->
    # 0.648/0.852, ours unchanged; 0.15 to 0.3 all did about as well.
    named_rule_boost: float = 0.2
    confidence_per_bm25: float = 0.02
    abstain_below: float = 0.35
    # Rules by example (examples.py): each rule gains example_weight times its share of the
    # votes of the 16 labelled questions nearest the query (cosine >= 0.4; a rule after an
    # example's first gets half its vote). First chosen on the dev halves at 0.45, 5 and 0.5
    # (real-dev top 3 with the query itself left out 0.878 -> 0.911; real-heldout 0.799 ->
    # 0.827). With 513 examples (seven fresh sets), chosen again with each query left out over
    # the dev half and the fresh sets: top 3 0.840 -> 0.862, any 0.955 -> 0.957 (weights 0.3-1.2,
    # 5-12 neighbours, 0.45-0.5: 0.6 and up all within 0.01); real-heldout 0.892 -> 0.906.
    # With 735 (eleven sets), the same way: 0.8/12/0.45 0.859, 1.2/16/0.4 0.869, and every
    # weight from 1.2 to 2.0 within 0.003 of it (3.0 falls off); the lower weight keeps the
    # passages in charge of questions no example is near.
    example_weight: float = 1.2
    example_neighbours: int = 16
    example_min_cosine: float = 0.4
    example_later_share: float = 0.5


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    dense: float


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    score: float
    chunks: tuple[Hit, ...]
    # the score the reference passages alone give (no example votes): how near the question's
    # own words and meaning come to the rule, whatever labellers reached for first
    passage_score: float | None = None


@dataclass(frozen=True)
class RuleRanking:
    rules: tuple[RuleHit, ...]
    abstained: bool
    confidence: float
    degraded: str | None = None  # why the dense scores came from the local vectors


@dataclass
class IndexState:
    state: str
    detail: str
    manifest: dict[str, Any] = field(default_factory=dict)


class DenseVectors(Protocol):
    """Where a query's cosine to every chunk comes from (in chunk order)."""

    def cosines(self, query: str) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class LocalVectors:
    """The store's matrix of unit vectors: a query's cosines are one matrix-vector product."""

    matrix: Matrix

    def cosines(self, query: str) -> npt.NDArray[np.float32]:
        from bepro.retrieval.embed import default_embedder

        query_vector = default_embedder().embed([query])[0]
        return np.asarray(self.matrix @ query_vector, dtype=np.float32)


@dataclass(frozen=True)
class _OpenIndex:
    vectors: DenseVectors
    chunk_keyword: KeywordIndex
    rule_keyword: KeywordIndex
    rule_order: list[str]
    chunks: list[Chunk]
    # With a Chroma server: the server as a dependency, and the local matrix to answer from
    # while it is down (None when the matrix cannot be read).
    dependency: ChromaDependency | None = None
    fallback: DenseVectors | None = None


@dataclass(frozen=True)
class _Evidence:
    dense: npt.NDArray[np.float32]
    chunk_bm25: npt.NDArray[np.float32]
    rule_bm25: dict[str, float]
    words: frozenset[str] = frozenset()  # the query's stemmed words
    degraded: str | None = None
    example_votes: dict[str, float] = field(default_factory=dict)  # examples.py


class Retriever:
    """An opened index: rebuilt first when missing, stale or corrupt."""

    def __init__(
        self,
        paths: Paths,
        catalogue: Catalogue,
        reporter: Reporter | None = None,
        params: RankingParams | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.params = params or RankingParams()
        self._index = _open_or_build(paths, catalogue, reporter or SilentReporter())
        self._rule_chunks = _chunks_by_rule(self._index.chunks)
        self._id_words = {
            rule_id: frozenset(tokenize(rule_id.replace("-", " "), NO_STOPWORDS))
            for rule_id in self._rule_chunks
        }
        self._cached: Callable[[str], _Evidence] = lru_cache(maxsize=EVIDENCE_CACHE_SIZE)(
            self._gather_evidence
        )

    def with_vectors(self, vectors: DenseVectors) -> Retriever:
        """The same index and parameters, its cosines from `vectors` (with an empty evidence
        cache): how tests and bench/perf.py compare chroma's ranking with the matrix's."""
        other = copy.copy(self)
        other._index = replace(self._index, vectors=vectors)
        other._cached = lru_cache(maxsize=EVIDENCE_CACHE_SIZE)(other._gather_evidence)
        return other

    def vector_store_problem(self, probe: bool = False) -> str | None:
        """Why the Chroma server counts as down (None: it answers, or there is none); with
        `probe`, a heartbeat first."""
        dependency = self._index.dependency
        if dependency is None:
            return None
        if probe:
            dependency.probe()
        return dependency.problem

    def search(self, query: str, action: str | None = None, top_k: int = 5) -> list[Hit]:
        """The best chunks for a query, best first."""
        evidence = self._evidence(query)
        boosts = self._focus_boosts(action)
        lexical = _normalised(evidence.chunk_bm25)
        hits = [
            Hit(
                chunk=chunk,
                score=float(evidence.dense[i] + self.params.chunk_keyword_weight * lexical[i])
                * (1.0 + boosts.get(chunk.category or "", 0.0)),
                dense=float(evidence.dense[i]),
            )
            for i, chunk in enumerate(self._index.chunks)
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.chunk.id))
        return hits[:top_k]

    def rank_rules(
        self,
        query: str,
        action: str | None = None,
        top_k: int = 5,
        include: frozenset[str] = frozenset(),
        examples: bool = True,
    ) -> RuleRanking:
        """Distinct rules, best first; abstains when nothing in the pack is close enough. Rules in
        `include` (those a review of the user's code found broken) are always ranked, after the
        top_k when they score below them, and the query never abstains. Without `examples`,
        the labelled questions cast no votes: the references' passages alone rank."""
        params = self.params
        evidence = self._evidence(query)
        weight = params.example_weight if examples else 0.0
        confidence = float(evidence.dense.max(initial=0.0))
        confidence += params.confidence_per_bm25 * float(evidence.chunk_bm25.max(initial=0.0))
        if confidence < params.abstain_below and not include:
            return RuleRanking(
                (), abstained=True, confidence=confidence, degraded=evidence.degraded
            )
        best_bm25 = max(evidence.rule_bm25.values(), default=0.0) or 1.0
        best_chunk_bm25 = float(evidence.chunk_bm25.max(initial=0.0)) or 1.0
        share = params.chunk_keyword_share
        boosts = self._focus_boosts(action)
        named = 1.0 + params.named_rule_boost
        scored: list[tuple[float, str, npt.NDArray[np.intp], float]] = []
        for rule_id, positions in self._rule_chunks.items():
            cosines = evidence.dense[positions]
            # best first; among equal cosines, the chunk that comes first in the pack
            best = positions[np.argsort(-cosines, kind="stable")[:3]]
            second = float(evidence.dense[best[1]]) if len(best) > 1 else 0.0
            lexical = (1.0 - share) * evidence.rule_bm25.get(rule_id, 0.0) / best_bm25
            lexical += share * float(evidence.chunk_bm25[positions].max()) / best_chunk_bm25
            base = (
                float(evidence.dense[best[0]])
                + params.second_chunk_weight * second
                + params.rule_keyword_weight * lexical
            )
            category = self._index.chunks[int(best[0])].category or ""
            score = base * (1.0 + boosts.get(category, 0.0))
            if self._id_words[rule_id] <= evidence.words:
                score *= named
            passages = score
            score += weight * evidence.example_votes.get(rule_id, 0.0)
            scored.append((score, rule_id, best, passages))
        scored.sort(key=lambda item: (-item[0], item[1]))
        kept = scored[:top_k] + [item for item in scored[top_k:] if item[1] in include]
        rules = tuple(
            RuleHit(rule_id, score, tuple(self._hit(int(i), evidence) for i in best), passages)
            for score, rule_id, best, passages in kept
        )
        return RuleRanking(
            rules, abstained=False, confidence=confidence, degraded=evidence.degraded
        )

    def _hit(self, position: int, evidence: _Evidence) -> Hit:
        cosine = float(evidence.dense[position])
        return Hit(chunk=self._index.chunks[position], score=cosine, dense=cosine)

    def _evidence(self, query: str) -> _Evidence:
        """The query's evidence, cached; while the Chroma server is down, from the local vectors
        and not cached (the next asking of it tries the server again)."""
        from bepro.retrieval.dependency import DEGRADED, DependencyDownError
        from bepro.retrieval.layout import ServerUnreachableError

        try:
            return self._cached(query)
        except DependencyDownError as down:
            if self._index.fallback is None:
                raise ServerUnreachableError(f"{down}; no local vectors to answer from") from down
            return self._gather_evidence(query, self._index.fallback, degraded=DEGRADED)

    def _gather_evidence(
        self, query: str, vectors: DenseVectors | None = None, degraded: str | None = None
    ) -> _Evidence:
        """Cosine and BM25 scores of every chunk, and BM25 of every rule, for one query (the
        cosines from `vectors`, default the index's). Cached per query (EVIDENCE_CACHE_SIZE), so
        the arrays are made read-only."""
        from bepro.retrieval.embed import default_embedder

        index = self._index
        dense = self._dense(query, vectors or index.vectors)
        rule_scores = index.rule_keyword.scores(query)
        params = self.params
        chunk_bm25 = index.chunk_keyword.scores(query)
        dense.flags.writeable = False
        chunk_bm25.flags.writeable = False
        return _Evidence(
            dense=dense,
            chunk_bm25=chunk_bm25,
            rule_bm25={
                rule_id: float(rule_scores[i]) for i, rule_id in enumerate(index.rule_order)
            },
            words=frozenset(tokenize(query, NO_STOPWORDS)),
            degraded=degraded,
            example_votes=example_votes(
                default_embedder().embed([query])[0],  # embedded already: cached
                params.example_neighbours,
                params.example_min_cosine,
                params.example_later_share,
            )
            if params.example_weight
            else {},
        )

    def _dense(self, query: str, vectors: DenseVectors) -> npt.NDArray[np.float32]:
        """The query's cosine to every chunk. The model reads only its first 128 tokens, so a
        long question (an issue report: symptom, stack, code) is also read in pieces, and each
        chunk's best cosine to a piece weighs segment_weight of its score."""
        whole = vectors.cosines(query)
        pieces = segments(query, self.params.segment_chars)
        if len(pieces) < 2 or self.params.segment_weight == 0:
            return whole
        best = np.max([vectors.cosines(piece) for piece in pieces], axis=0)
        weight = self.params.segment_weight
        return np.asarray((1 - weight) * whole + weight * best, dtype=np.float32)

    def _focus_boosts(self, action: str | None) -> dict[str, float]:
        found = self.catalogue.action(action) if action else None
        if found is None:
            return {}
        return dict(zip(found.focus, self.params.focus_boosts, strict=False))


def _chunks_by_rule(chunks: list[Chunk]) -> dict[str, npt.NDArray[np.intp]]:
    """Each rule's chunk positions, in pack order."""
    positions: dict[str, list[int]] = {}
    for index, chunk in enumerate(chunks):
        if chunk.rule_id is not None:
            positions.setdefault(chunk.rule_id, []).append(index)
    return {rule_id: np.array(found, dtype=np.intp) for rule_id, found in positions.items()}


def segments(text: str, size: int) -> list[str]:
    """The text in pieces of about `size` characters, cut between sentences and lines."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if current and len(current) + len(sentence) > size:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _normalised(scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    top = float(scores.max(initial=0.0))
    return scores / top if top > 0 else scores


def _open_or_build(paths: Paths, catalogue: Catalogue, reporter: Reporter) -> _OpenIndex:
    from bepro.retrieval import layout

    current_hash = index_hash(paths.root)
    server = layout.chroma_server(paths.chroma_url)
    manifest = layout.read_manifest(paths.index)
    if manifest is None:
        reporter.notice(f"building the index in {paths.index} (first run)")
    elif not manifest.is_current(current_hash, server):
        reporter.notice(
            "the knowledge base or the vector store changed since the index was built; "
            "rebuilding it"
        )
    else:
        try:
            return _open(paths, manifest)
        except layout.ServerUnreachableError:
            raise  # a rebuild cannot cure a server that does not answer
        except Exception:  # noqa: BLE001 - whatever broke, a rebuild is the cure
            reporter.notice(f"the index in {paths.index} is corrupt; rebuilding it")
    try:
        return _open(paths, _build(paths, catalogue, reporter))
    except OSError as exc:
        raise IndexUnavailableError(
            f"cannot build the index in {paths.index}: {exc}",
            "set BEPRO_INDEX_DIR to a writable directory",
        ) from exc


def _open(paths: Paths, manifest: Manifest) -> _OpenIndex:
    from bepro.retrieval import layout
    from bepro.retrieval.keyword import KeywordIndex

    server = layout.chroma_server(paths.chroma_url)
    chunks = layout.load_chunks(paths.index, manifest)
    folder = paths.index / manifest.store
    dependency: ChromaDependency | None = None
    fallback: DenseVectors | None = None
    if server is None:
        vectors: DenseVectors = LocalVectors(layout.load_matrix(paths.index, manifest, chunks))
    else:
        vectors, dependency, fallback = _server_vectors(paths, manifest, chunks, server)
    remember_openings(*layout.load_items(paths.index, manifest))
    return _OpenIndex(
        vectors=vectors,
        chunk_keyword=KeywordIndex(folder / "bm25"),
        rule_keyword=KeywordIndex(folder / "bm25-rules"),
        rule_order=layout.load_rule_order(paths.index, manifest),
        chunks=chunks,
        dependency=dependency,
        fallback=fallback,
    )


def _server_vectors(
    paths: Paths, manifest: Manifest, chunks: list[Chunk], server: ChromaServer
) -> tuple[DenseVectors, ChromaDependency, DenseVectors | None]:
    """The server's collection behind its dependency's breaker, the dependency, and the local
    matrix to answer from while the server is down. A server down as the index opens is no
    error when the matrix can stand in: the collection is opened on the first query it answers."""
    from bepro.retrieval import layout
    from bepro.retrieval.dependency import ChromaDependency, GuardedVectors, Reconnecting

    fallback: DenseVectors | None = None
    try:
        fallback = LocalVectors(layout.load_matrix(paths.index, manifest, chunks))
    except IndexUnavailableError as exc:  # the server answers; only an outage needs the matrix
        log.warning("no local vectors to fall back on: %s", exc.message)
    dependency = ChromaDependency(server)

    def connect() -> DenseVectors:
        return _server_collection(paths, manifest, chunks, server)

    try:
        remote = connect()
    except layout.ServerUnreachableError as exc:
        if fallback is None:
            raise
        dependency.failed(exc)
        remote = Reconnecting(connect)
    return GuardedVectors(remote, dependency), dependency, fallback


def _server_collection(
    paths: Paths, manifest: Manifest, chunks: list[Chunk], server: ChromaServer
) -> DenseVectors:
    """The manifest's collection on the server (chromadb imported), its calls bounded by
    CHROMA_QUERY_TIMEOUT_S."""
    from bepro.retrieval import store
    from bepro.retrieval.dependency import CHROMA_QUERY_TIMEOUT_S

    collection = store.open_collection(paths.index, manifest, server, CHROMA_QUERY_TIMEOUT_S)
    if collection.count() != manifest.chunks:
        raise IndexUnavailableError("the store's chunk count does not match its manifest")
    return store.ChromaVectors(collection, chunks, server)


def index_state(paths: Paths) -> IndexState:
    """What `bepro index status` reports: missing, stale, corrupt or ready. It checks the store of
    record (chroma) as well as the files a query reads."""
    from dataclasses import asdict

    from bepro.retrieval import layout, store

    manifest = layout.read_manifest(paths.index)
    if manifest is None:
        return IndexState("missing", f"no index in {paths.index}")
    details = asdict(manifest)
    server = layout.chroma_server(paths.chroma_url)
    if not manifest.is_current(index_hash(paths.root), server):
        return IndexState(
            "stale", "the knowledge base or the vector store changed since the build", details
        )
    try:
        store.verify(paths.index, manifest, server)
    except layout.ServerUnreachableError as exc:
        return IndexState("unreachable", exc.message, details)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: status must always answer
        return IndexState("corrupt", f"{type(exc).__name__}: {exc}", details)
    return IndexState(
        "ready", f"{manifest.chunks} chunks in {paths.index / manifest.store}", details
    )


def build_index(paths: Paths, catalogue: Catalogue, reporter: Reporter, force: bool = False) -> int:
    """Build the index if it is not current (with force, always); returns the chunk count."""
    from bepro.retrieval import layout

    if force:
        (paths.index / layout.MANIFEST).unlink(missing_ok=True)
    return _build(paths, catalogue, reporter).chunks


def _build(paths: Paths, catalogue: Catalogue, reporter: Reporter) -> Manifest:
    """A current store for the pack: its chunks, and the openings of its reference items."""
    from bepro.retrieval import layout, store

    return store.build_store(
        paths.index,
        chunk_pack(paths.root, catalogue),
        index_hash(paths.root),
        reporter.progress,
        layout.chroma_server(paths.chroma_url),
        [*item_openings(paths.root, (rule.id for rule in catalogue.rules)), *example_questions()],
    )


def index_hash(root: Path) -> str:
    """What the index is built from: the pack's sources and the questions that rank rules by
    example (their vectors are kept beside the item openings)."""
    digest = hashlib.sha256(content_hash(root).encode())
    digest.update(examples_bytes())
    return digest.hexdigest()
