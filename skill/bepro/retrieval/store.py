"""The persisted vector index: a chromadb store plus a BM25 index, built aside and swapped in.

Layout of the index directory:
    manifest.json          what is live: content hash, model id, store folder, chunk count
    store-<hash>-<tag>/    chroma/ (PersistentClient), bm25/ (bm25s), chunks.json
    .build.lock            held while a build runs, so two processes never build at once

chromadb is imported in this module only, and this module is imported lazily by retrieval.search.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function
from filelock import FileLock, Timeout

from bepro.errors import IndexUnavailableError
from bepro.knowledge.chunk import CHUNKER_VERSION, Chunk
from bepro.retrieval.embed import MODEL_ID, MODEL_SHA256, MiniLMEmbedder, default_embedder

log = logging.getLogger(__name__)

COLLECTION = "bepro"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 2  # bump when the store layout or the keyword tokenizer changes
BUILD_LOCK_TIMEOUT_S = 120.0
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

    def is_current(self, content_hash: str) -> bool:
        return (
            self.version == MANIFEST_VERSION
            and self.content_hash == content_hash
            and self.model_id == MODEL_ID
            and self.chunker_version == CHUNKER_VERSION
        )


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
) -> Manifest:
    """Build a new store aside and swap it in; concurrent builders wait for the first one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(index_dir / ".build.lock"), timeout=BUILD_LOCK_TIMEOUT_S):
            current = read_manifest(index_dir)
            if (
                current is not None
                and current.is_current(content_hash)
                and _store_ok(index_dir, current)
            ):
                return current
            return _build_locked(index_dir, chunks, content_hash, progress)
    except Timeout as exc:
        raise IndexUnavailableError(
            f"another process has held the index build lock for {BUILD_LOCK_TIMEOUT_S:.0f} s",
            f"remove {index_dir / '.build.lock'} if no bepro process is running",
        ) from exc


def _build_locked(
    index_dir: Path, chunks: Sequence[Chunk], content_hash: str, progress: Progress | None
) -> Manifest:
    staging = index_dir / f".staging-{uuid.uuid4().hex[:8]}"
    try:
        _populate(staging, chunks, progress)
        store_name = f"store-{content_hash[:12]}-{uuid.uuid4().hex[:6]}"
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
    )
    previous = read_manifest(index_dir)
    _write_atomically(index_dir / MANIFEST, json.dumps(asdict(manifest), indent=2) + "\n")
    _remove_old_stores(index_dir, keep={store_name, previous.store if previous else ""})
    log.info("index built", extra={"chunks": len(chunks), "store": store_name})
    return manifest


def _populate(staging: Path, chunks: Sequence[Chunk], progress: Progress | None) -> None:
    from bepro.retrieval import keyword

    staging.mkdir(parents=True)
    embedder = default_embedder()
    collection = _client(staging / "chroma").create_collection(
        COLLECTION,
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


def _store_ok(index_dir: Path, manifest: Manifest) -> bool:
    try:
        return open_collection(index_dir, manifest).count() == manifest.chunks
    except Exception:  # noqa: BLE001 - any failure to open means the store must be rebuilt
        return False


def open_collection(index_dir: Path, manifest: Manifest) -> Collection:
    client = _client(index_dir / manifest.store / "chroma")
    return client.get_collection(
        COLLECTION,
        embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
    )


def load_chunks(index_dir: Path, manifest: Manifest) -> list[Chunk]:
    data = json.loads((index_dir / manifest.store / "chunks.json").read_text(encoding="utf-8"))
    return [Chunk(**record) for record in cast(list[dict[str, Any]], data)]


def load_rule_order(index_dir: Path, manifest: Manifest) -> list[str]:
    """The rule ids in the order of the rule-level BM25 index's documents."""
    data = json.loads((index_dir / manifest.store / "rules.json").read_text(encoding="utf-8"))
    return [str(rule_id) for rule_id in cast(list[object], data)]
