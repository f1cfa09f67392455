"""The store of record: a chromadb store (embedded, or on a Chroma server) plus the BM25 indexes
and the vector matrix, built aside and swapped in (layout.py draws the index directory).

With a Chroma server (`chroma-url`), the vectors live on the server in a collection named
`bepro-<index id>-<store folder>` and store-<hash>-<tag>/ holds no chroma/ folder; the swap is the
same: build a new collection, flip the manifest, then delete this index's older collections.

chromadb is imported in this module only. Builds, `bepro index` and queries against a Chroma
server use it; a local query reads layout.py's matrix and never imports this module.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chromadb
import httpx
import numpy as np
import numpy.typing as npt
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function
from filelock import FileLock, Timeout

from bepro.atomic import write_atomically
from bepro.errors import IndexUnavailableError
from bepro.knowledge.chunk import CHUNKER_VERSION, Chunk
from bepro.resilience import Backoff
from bepro.retrieval.embed import (
    DIMENSIONS,
    MODEL_ID,
    MODEL_SHA256,
    MiniLMEmbedder,
    default_embedder,
)
from bepro.retrieval.layout import (
    COLLECTION,
    EMBEDDED,
    MANIFEST,
    MANIFEST_VERSION,
    ChromaServer,
    Manifest,
    Matrix,
    ServerUnreachableError,
    load_chunks,
    load_matrix,
    load_rule_order,
    read_manifest,
    save_items,
    save_matrix,
)
from bepro.retrieval.openings import vectors_of

log = logging.getLogger(__name__)

BUILD_LOCK_TIMEOUT_S = 120.0
SERVER_CONNECT_TIMEOUT_S = 3.0
SERVER_READ_TIMEOUT_S = 30.0  # an add of 64 chunks or a query over the whole pack, with headroom
SERVER_ATTEMPTS = 3  # for reads, which are safe to repeat
SERVER_BACKOFF = Backoff(base=0.1, cap=1.0)
_JITTER = random.Random()  # noqa: S311 - retry jitter, not a secret
Progress = Callable[[int, int], None]


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb adapter for the offline MiniLM embedder (never chromadb's downloading default)."""

    def __init__(self, embedder: MiniLMEmbedder | None = None) -> None:
        self._embedder = embedder or default_embedder()

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - chromadb's protocol name
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "bepro-minilm-int8"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": MODEL_ID}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


def _client(path: Path) -> ClientAPI:
    return chromadb.PersistentClient(
        path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
    )


def _server_client(server: ChromaServer, read_timeout: float = SERVER_READ_TIMEOUT_S) -> ClientAPI:
    """A client for the server, after a bounded heartbeat so a dead server fails fast."""
    timeout = httpx.Timeout(read_timeout, connect=SERVER_CONNECT_TIMEOUT_S)
    try:
        heartbeat = httpx.get(f"{server.url}/api/v2/heartbeat", timeout=SERVER_CONNECT_TIMEOUT_S)
        heartbeat.raise_for_status()
        client = chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            settings=Settings(anonymized_telemetry=False),
        )
    except Exception as exc:  # chromadb wraps connect errors and timeouts in ValueError
        raise _unreachable(server, exc) from exc
    # chromadb gives its httpx session no timeout and no setting for one: bound every call here.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = timeout
    else:
        log.warning("cannot set a timeout on chromadb's HTTP client; calls are unbounded")
    return client


def _unreachable(server: ChromaServer, exc: Exception) -> ServerUnreachableError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return ServerUnreachableError(
        f"cannot reach the Chroma server at {server.url}: {reason}",
        "start it, or unset BEPRO_CHROMA_URL (and --chroma-url) to use the embedded store",
    )


def _chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    # chroma metadata values cannot be None: empty string and 0 stand for "none".
    return {
        "source": chunk.source,
        "heading": chunk.heading,
        "kind": chunk.kind,
        "rule_id": chunk.rule_id or "",
        "category": chunk.category or "",
        "priority": chunk.priority or 0,
        "action": chunk.action or "",
        "line": chunk.line,
    }


def build_store(
    index_dir: Path,
    chunks: Sequence[Chunk],
    content_hash: str,
    progress: Progress | None = None,
    server: ChromaServer | None = None,
    openings: Sequence[str] = (),
) -> Manifest:
    """Build a new store aside and swap it in; concurrent builders wait for the first one.
    `openings` are the reference items' openings whose vectors the store keeps (layout.ITEMS)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(index_dir / ".build.lock"), timeout=BUILD_LOCK_TIMEOUT_S):
            current = read_manifest(index_dir)
            if (
                current is not None
                and current.is_current(content_hash, server)
                and _store_ok(index_dir, current, server)
            ):
                return current
            return _build_locked(index_dir, chunks, content_hash, progress, server, openings)
    except Timeout as exc:
        raise IndexUnavailableError(
            f"another process has held the index build lock for {BUILD_LOCK_TIMEOUT_S:.0f} s",
            f"remove {index_dir / '.build.lock'} if no bepro process is running",
        ) from exc


def _build_locked(
    index_dir: Path,
    chunks: Sequence[Chunk],
    content_hash: str,
    progress: Progress | None,
    server: ChromaServer | None,
    openings: Sequence[str],
) -> Manifest:
    staging = index_dir / f".staging-{uuid.uuid4().hex[:8]}"
    store_name = f"store-{content_hash[:12]}-{uuid.uuid4().hex[:6]}"
    # On a server, this index's collections share a prefix, so it never deletes another's.
    owner = f"bepro-{_index_id(index_dir)}-" if server else ""
    collection_name = owner + store_name if server else COLLECTION
    try:
        staging.mkdir(parents=True)
        with _talking_to(server):
            client = _server_client(server) if server else _client(staging / "chroma")
            vectors = _populate(staging, client, collection_name, chunks, progress)
        save_matrix(staging, [chunk.id for chunk in chunks], vectors, content_hash)
        save_items(staging, list(openings), vectors_of(list(openings)))
        os.replace(staging, index_dir / store_name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    manifest = Manifest(
        version=MANIFEST_VERSION,
        content_hash=content_hash,
        model_id=MODEL_ID,
        model_sha256=MODEL_SHA256,
        chunker_version=CHUNKER_VERSION,
        store=store_name,
        chunks=len(chunks),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        vectors=server.url if server else EMBEDDED,
        collection=collection_name,
    )
    previous = read_manifest(index_dir)
    write_atomically(index_dir / MANIFEST, json.dumps(asdict(manifest), indent=2) + "\n")
    _remove_old_stores(index_dir, keep={store_name, previous.store if previous else ""})
    if server:
        keep = {collection_name, previous.collection if previous else ""}
        _remove_old_collections(client, owner, keep)
    log.info("index built", extra={"chunks": len(chunks), "store": store_name})
    return manifest


def _populate(
    staging: Path,
    client: ClientAPI,
    collection_name: str,
    chunks: Sequence[Chunk],
    progress: Progress | None,
) -> Matrix:
    """Fill the collection, the BM25 indexes and the chunk files; returns the chunks' vectors."""
    from bepro.retrieval import keyword

    embedder = default_embedder()
    collection = client.create_collection(
        collection_name,
        embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}},
    )
    # Vectors come from the chunks' embedding text (code trimmed); documents keep the full text.
    batch = 64
    vectors = np.empty((len(chunks), DIMENSIONS), dtype=np.float32)
    for start in range(0, len(chunks), batch):
        part = chunks[start : start + batch]
        vectors[start : start + len(part)] = embedder.embed([c.embedding_text() for c in part])
        collection.add(
            ids=[chunk.id for chunk in part],
            documents=[chunk.document() for chunk in part],
            embeddings=vectors[start : start + len(part)],
            metadatas=[_chunk_metadata(chunk) for chunk in part],
        )
        if progress is not None:
            progress(min(start + batch, len(chunks)), len(chunks))
    keyword.build(staging / "bm25", [chunk.document() for chunk in chunks])
    rule_documents: dict[str, list[str]] = {}
    for chunk in chunks:
        if chunk.rule_id is not None:
            rule_documents.setdefault(chunk.rule_id, []).append(chunk.document())
    keyword.build(staging / "bm25-rules", ["\n".join(docs) for docs in rule_documents.values()])
    (staging / "rules.json").write_text(json.dumps(list(rule_documents)), encoding="utf-8")
    records = [asdict(chunk) for chunk in chunks]
    (staging / "chunks.json").write_text(json.dumps(records), encoding="utf-8")
    return vectors


def _remove_old_stores(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.glob("store-*"):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _index_id(index_dir: Path) -> str:
    """A random id made once per index directory (called under the build lock)."""
    path = index_dir / "index-id"
    try:
        found = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        found = ""
    if len(found) == 8 and all(char in "0123456789abcdef" for char in found):
        return found
    index_id = uuid.uuid4().hex[:8]
    write_atomically(path, index_id + "\n")
    return index_id


def _remove_old_collections(client: ClientAPI, owner: str, keep: set[str]) -> None:
    """Delete this index's older collections; a failure only leaves garbage for the next build."""
    try:
        for collection in client.list_collections():
            if collection.name.startswith(owner) and collection.name not in keep:
                client.delete_collection(collection.name)
    except Exception as exc:  # noqa: BLE001 - the new index is live already
        log.warning("old collections not deleted", extra={"error": type(exc).__name__})


@contextmanager
def _talking_to(server: ChromaServer | None) -> Iterator[None]:
    """A Chroma server that stops answering becomes one clear error, not a traceback."""
    try:
        yield
    except httpx.TransportError as exc:
        if server is None:
            raise
        raise _unreachable(server, exc) from exc


def _store_ok(index_dir: Path, manifest: Manifest, server: ChromaServer | None) -> bool:
    try:
        verify(index_dir, manifest, server)
        return True
    except ServerUnreachableError:
        raise
    except Exception:  # noqa: BLE001 - any failure to open means the store must be rebuilt
        return False


def verify(index_dir: Path, manifest: Manifest, server: ChromaServer | None) -> None:
    """Raise unless every part of the store opens and agrees with the manifest: the vectors
    (in chroma and in the matrix), the chunks and both BM25 indexes."""
    from bepro.retrieval.keyword import KeywordIndex

    if open_collection(index_dir, manifest, server).count() != manifest.chunks:
        raise IndexUnavailableError("the store's chunk count does not match its manifest")
    chunks = load_chunks(index_dir, manifest)
    if len(chunks) != manifest.chunks:
        raise IndexUnavailableError("the chunk file's count does not match the manifest")
    load_matrix(index_dir, manifest, chunks)
    load_rule_order(index_dir, manifest)
    KeywordIndex(index_dir / manifest.store / "bm25")
    KeywordIndex(index_dir / manifest.store / "bm25-rules")


def open_collection(
    index_dir: Path,
    manifest: Manifest,
    server: ChromaServer | None = None,
    read_timeout: float = SERVER_READ_TIMEOUT_S,
) -> Collection:
    """The manifest's collection; a server's calls each wait at most `read_timeout` seconds."""
    with _talking_to(server):
        client = (
            _server_client(server, read_timeout)
            if server
            else _client(index_dir / manifest.store / "chroma")
        )
        return client.get_collection(
            manifest.collection,
            embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
        )


def query_distances(
    collection: Collection, query: str, n_results: int, server: ChromaServer | None
) -> tuple[list[str], list[float]]:
    """The ids and cosine distances of the query's nearest n_results chunks. A query is a read,
    so against a Chroma server a dropped connection is retried (SERVER_ATTEMPTS attempts,
    full-jitter backoff) before it becomes one clear error; a timeout is not (a server that
    froze answers a retry no sooner, and the caller has a local answer to give)."""
    embedding = default_embedder().embed([query])  # once, not once per attempt
    attempt = 1
    while True:
        try:
            result = collection.query(
                query_embeddings=embedding, n_results=n_results, include=["distances"]
            )
            return result["ids"][0], [float(d) for d in (result["distances"] or [[]])[0]]
        except httpx.TransportError as exc:
            if server is None:
                raise
            if attempt == SERVER_ATTEMPTS or isinstance(exc, httpx.TimeoutException):
                raise _unreachable(server, exc) from exc
            delay = SERVER_BACKOFF.delay(attempt - 1, _JITTER)
            log.warning("chroma query failed (%s); retrying in %.2f s", type(exc).__name__, delay)
            time.sleep(delay)
            attempt += 1


class ChromaVectors:
    """Cosines of a query to every chunk from a chroma collection: a Chroma server's, or the
    embedded store's (which tests and bench/perf.py compare with the matrix)."""

    def __init__(
        self, collection: Collection, chunks: list[Chunk], server: ChromaServer | None = None
    ) -> None:
        self._collection = collection
        self._server = server
        self._position = {chunk.id: index for index, chunk in enumerate(chunks)}

    def cosines(self, query: str) -> npt.NDArray[np.float32]:
        ids, distances = query_distances(self._collection, query, len(self._position), self._server)
        dense = np.zeros(len(self._position), dtype=np.float32)
        for chunk_id, distance in zip(ids, distances, strict=True):
            dense[self._position[chunk_id]] = 1.0 - distance
        return dense
