"""Action-aware hybrid retrieval: dense (chroma) plus BM25, fused, weighted by the action's focus.

Ranking parameters live in RankingParams; their defaults were chosen on evals/retrieval.jsonl
(see bench/retrieval_tuning.py and the README's figures), not by taste.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.errors import IndexUnavailableError
from bepro.knowledge.chunk import Chunk, chunk_pack, content_hash

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from bepro.retrieval.keyword import KeywordIndex


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
    dense_candidates: int = 60
    keyword_weight: float = 0.25
    focus_boosts: tuple[float, ...] = (0.10, 0.06, 0.03)
    abstain_below: float = 0.30


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


@dataclass(frozen=True)
class RuleRanking:
    rules: tuple[RuleHit, ...]
    abstained: bool
    best_similarity: float


@dataclass
class IndexState:
    state: str
    detail: str
    manifest: dict[str, Any] = field(default_factory=dict)


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
        self._collection, self._keyword, self._chunks = _open_or_build(
            paths, catalogue, reporter or SilentReporter()
        )
        self._position = {chunk.id: index for index, chunk in enumerate(self._chunks)}

    def search(self, query: str, action: str | None = None, top_k: int = 5) -> list[Hit]:
        """The best chunks for a query, best first."""
        return self._ranked(query, action)[:top_k]

    def rank_rules(self, query: str, action: str | None = None, top_k: int = 5) -> RuleRanking:
        """Distinct rules by their best chunk; abstains when nothing is close enough."""
        hits = self._ranked(query, action)
        best = max((hit.dense for hit in hits), default=0.0)
        if best < self.params.abstain_below:
            return RuleRanking(rules=(), abstained=True, best_similarity=best)
        grouped: dict[str, list[Hit]] = {}
        for hit in hits:
            if hit.chunk.rule_id is not None:
                grouped.setdefault(hit.chunk.rule_id, []).append(hit)
        rules = [RuleHit(rule_id, group[0].score, tuple(group)) for rule_id, group in grouped.items()]
        rules.sort(key=lambda rule: -rule.score)
        return RuleRanking(rules=tuple(rules[:top_k]), abstained=False, best_similarity=best)

    def _ranked(self, query: str, action: str | None) -> list[Hit]:
        params = self.params
        count = min(params.dense_candidates, len(self._chunks))
        result = self._collection.query(
            query_texts=[query], n_results=count, include=["distances"]
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        keyword = self._keyword.scores(query)
        top_keyword = float(keyword.max()) if keyword.size else 0.0
        boosts = self._focus_boosts(action)
        hits: list[Hit] = []
        for chunk_id, distance in zip(ids, distances, strict=True):
            chunk = self._chunks[self._position[chunk_id]]
            dense = 1.0 - float(distance)
            lexical = float(keyword[self._position[chunk_id]]) / top_keyword if top_keyword else 0.0
            score = (dense + params.keyword_weight * lexical) * (1.0 + boosts.get(chunk.category or "", 0.0))
            hits.append(Hit(chunk=chunk, score=score, dense=dense))
        hits.sort(key=lambda hit: (-hit.score, hit.chunk.id))
        return hits

    def _focus_boosts(self, action: str | None) -> dict[str, float]:
        found = self.catalogue.action(action) if action else None
        if found is None:
            return {}
        return dict(zip(found.focus, self.params.focus_boosts, strict=False))


def _open_or_build(
    paths: Paths, catalogue: Catalogue, reporter: Reporter
) -> tuple[Collection, KeywordIndex, list[Chunk]]:
    from bepro.retrieval import store

    current_hash = content_hash(paths.root)
    manifest = store.read_manifest(paths.index)
    if manifest is None:
        reporter.notice(f"building the index in {paths.index} (first run)")
    elif not manifest.is_current(current_hash):
        reporter.notice("the knowledge base changed since the index was built; rebuilding it")
    else:
        try:
            return _open(paths, manifest)
        except Exception:  # noqa: BLE001 - whatever broke, a rebuild is the cure
            reporter.notice(f"the index in {paths.index} is corrupt; rebuilding it")
            manifest = None
    chunks = chunk_pack(paths.root, catalogue)
    try:
        manifest = store.build_store(paths.index, chunks, current_hash, reporter.progress)
        return _open(paths, manifest)
    except OSError as exc:
        raise IndexUnavailableError(
            f"cannot build the index in {paths.index}: {exc}",
            "set BEPRO_INDEX_DIR to a writable directory",
        ) from exc


def _open(paths: Paths, manifest: Any) -> tuple[Collection, KeywordIndex, list[Chunk]]:
    from bepro.retrieval import store
    from bepro.retrieval.keyword import KeywordIndex

    collection = store.open_collection(paths.index, manifest)
    if collection.count() != manifest.chunks:
        raise IndexUnavailableError("the store's chunk count does not match its manifest")
    keyword = KeywordIndex(paths.index / manifest.store / "bm25")
    return collection, keyword, store.load_chunks(paths.index, manifest)


def index_state(paths: Paths) -> IndexState:
    """What `bepro index status` reports: missing, stale, corrupt or ready."""
    from dataclasses import asdict

    from bepro.retrieval import store

    manifest = store.read_manifest(paths.index)
    if manifest is None:
        return IndexState("missing", f"no index in {paths.index}")
    details = asdict(manifest)
    if not manifest.is_current(content_hash(paths.root)):
        return IndexState("stale", "the knowledge base changed since the build", details)
    try:
        _open(paths, manifest)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: status must always answer
        return IndexState("corrupt", f"{type(exc).__name__}: {exc}", details)
    return IndexState("ready", f"{manifest.chunks} chunks in {paths.index / manifest.store}", details)


def build_index(paths: Paths, catalogue: Catalogue, reporter: Reporter, force: bool = False) -> int:
    """Build the index if it is not current (with force, always); returns the chunk count."""
    from bepro.retrieval import store

    if force:
        (paths.index / store.MANIFEST).unlink(missing_ok=True)
    chunks = chunk_pack(paths.root, catalogue)
    manifest = store.build_store(paths.index, chunks, content_hash(paths.root), reporter.progress)
    return manifest.chunks
