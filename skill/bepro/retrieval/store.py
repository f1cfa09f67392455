"""The persisted vector index: a chromadb store plus a BM25 index, built aside and swapped in.

Layout of the index directory:
    manifest.json          what is live: content hash, model id, store folder, chunk count,
                           where the vectors are and their collection
    store-<hash>-<tag>/    chroma/ (PersistentClient), bm25/ (bm25s), chunks.json
    .build.lock            held while a build runs, so two processes never build at once
    index-id               (Chroma server only) names this index's collections on the server

With a Chroma server (`chroma-url`), the vectors live on the server in a collection named
`bepro-<index id>-<store folder>` and store-<hash>-<tag>/ holds no chroma/ folder; the swap is the
same: build a new collection, flip the manifest, then delete this index's older collections.

chromadb is imported in this module only, and this module is imported lazily by retrieval.search.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function
from filelock import FileLock, Timeout

from bepro.errors import ConfigError, IndexUnavailableError
from bepro.knowledge.chunk import CHUNKER_VERSION, Chunk
from bepro.resilience import Backoff
from bepro.retrieval.embed import MODEL_ID, MODEL_SHA256, MiniLMEmbedder, default_embedder

log = logging.getLogger(__name__)

COLLECTION = "bepro"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 2  # bump when the store layout or the keyword tokenizer changes
BUILD_LOCK_TIMEOUT_S = 120.0
EMBEDDED = "embedded"  # Manifest.vectors when the vectors live in the store folder
SERVER_CONNECT_TIMEOUT_S = 3.0
SERVER_READ_TIMEOUT_S = 30.0  # an add of 64 chunks or a query over the whole pack, with headroom
SERVER_ATTEMPTS = 3  # for reads, which are safe to repeat
SERVER_BACKOFF = Backoff(base=0.1, cap=1.0)
_JITTER = random.Random()  # noqa: S311 - retry jitter, not a secret
Progress = Callable[[int, int], None]


class ServerUnreachableError(IndexUnavailableError):
    """The Chroma server named by `chroma-url` does not answer: a rebuild cannot cure that."""


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


@dataclass(frozen=True)
class Manifest:
    version: int
    content_hash: str
    model_id: str
    model_sha256: str
    chunker_version: str
    store: str
    chunks: int
    built_at: str
    vectors: str = EMBEDDED  # or the Chroma server's URL
    collection: str = COLLECTION

    def is_current(self, content_hash: str, server: ChromaServer | None = None) -> bool:
        return (
            self.version == MANIFEST_VERSION
            and self.content_hash == content_hash
            and self.model_id == MODEL_ID
            and self.chunker_version == CHUNKER_VERSION
            and self.vectors == (server.url if server else EMBEDDED)
        )


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server's address, parsed from `chroma-url` (http[s]://host[:port])."""

    host: str
    port: int
    ssl: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"


def chroma_server(url: str | None) -> ChromaServer | None:
    """The server `chroma-url` names (None: the embedded store); a malformed URL is a ConfigError."""
    if not url:
        return None
    hint = "set BEPRO_CHROMA_URL or --chroma-url to http://HOST:PORT, e.g. http://127.0.0.1:8000"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"invalid Chroma server URL {url!r}: {exc}", hint) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid Chroma server URL {url!r}: expected http(s)://HOST:PORT", hint)
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(
            f"invalid Chroma server URL {url!r}: no path, query or credentials allowed", hint
        )
    ssl = parts.scheme == "https"
    return ChromaServer(host=parts.hostname, port=port or (443 if ssl else 8000), ssl=ssl)


def read_manifest(index_dir: Path) -> Manifest | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temp, path)


def _client(path: Path) -> ClientAPI:
    return chromadb.PersistentClient(
        path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
    )


def _server_client(server: ChromaServer) -> ClientAPI:
    """A client for the server, after a bounded heartbeat so a dead server fails fast."""
    timeout = httpx.Timeout(SERVER_READ_TIMEOUT_S, connect=SERVER_CONNECT_TIMEOUT_S)
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
) -> Manifest:
    """Build a new store aside and swap it in; concurrent builders wait for the first one."""
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
            return _build_locked(index_dir, chunks, content_hash, progress, server)
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
            _populate(staging, client, collection_name, chunks, progress)
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
    _write_atomically(index_dir / MANIFEST, json.dumps(asdict(manifest), indent=2) + "\n")
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
) -> None:
    from bepro.retrieval import keyword

    embedder = default_embedder()
    collection = client.create_collection(
        collection_name,
        embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}},
    )
    # Vectors come from the chunks' embedding text (code trimmed); documents keep the full text.
    batch = 64
    for start in range(0, len(chunks), batch):
        part = chunks[start : start + batch]
        collection.add(
            ids=[chunk.id for chunk in part],
            documents=[chunk.document() for chunk in part],
            embeddings=embedder.embed([chunk.embedding_text() for chunk in part]),
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
    _write_atomically(path, index_id + "\n")
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
    """Every part of the store opens and agrees with the manifest: vectors, chunks, BM25."""
    from bepro.retrieval.keyword import KeywordIndex

    try:
        if open_collection(index_dir, manifest, server).count() != manifest.chunks:
            return False
        if len(load_chunks(index_dir, manifest)) != manifest.chunks:
            return False
        load_rule_order(index_dir, manifest)
        KeywordIndex(index_dir / manifest.store / "bm25")
        KeywordIndex(index_dir / manifest.store / "bm25-rules")
        return True
    except ServerUnreachableError:
        raise
    except Exception:  # noqa: BLE001 - any failure to open means the store must be rebuilt
        return False


def open_collection(
    index_dir: Path, manifest: Manifest, server: ChromaServer | None = None
) -> Collection:
    with _talking_to(server):
        client = (
            _server_client(server) if server else _client(index_dir / manifest.store / "chroma")
        )
        return client.get_collection(
            manifest.collection,
            embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
        )


def query_distances(
    collection: Collection, query: str, n_results: int, server: ChromaServer | None
) -> tuple[list[str], list[float]]:
    """The ids and cosine distances of the query's nearest n_results chunks. A query is a read,
    so against a Chroma server a dropped connection or a timeout is retried (SERVER_ATTEMPTS
    attempts, full-jitter backoff) before it becomes one clear error."""
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
            if attempt == SERVER_ATTEMPTS:
                raise _unreachable(server, exc) from exc
            delay = SERVER_BACKOFF.delay(attempt - 1, _JITTER)
            log.warning("chroma query failed (%s); retrying in %.2f s", type(exc).__name__, delay)
            time.sleep(delay)
            attempt += 1


def load_chunks(index_dir: Path, manifest: Manifest) -> list[Chunk]:
    data = json.loads((index_dir / manifest.store / "chunks.json").read_text(encoding="utf-8"))
    return [Chunk(**record) for record in cast(list[dict[str, Any]], data)]


def load_rule_order(index_dir: Path, manifest: Manifest) -> list[str]:
    """The rule ids in the order of the rule-level BM25 index's documents."""
    data = json.loads((index_dir / manifest.store / "rules.json").read_text(encoding="utf-8"))
    return [str(rule_id) for rule_id in cast(list[object], data)]
