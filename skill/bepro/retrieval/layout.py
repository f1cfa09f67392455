"""The index directory on disk, read without chromadb: the manifest, the chunks, the vector matrix.

Layout of the index directory:
    manifest.json          what is live: content hash, model id, store folder, chunk count,
                           where the vectors are and their collection
    store-<hash>-<tag>/    chroma/ (PersistentClient), bm25/ and bm25-rules/ (bm25s),
                           chunks.json, rules.json, vectors.npy and vectors.json,
                           items.npy and items.json
    .build.lock            held while a build runs, so two processes never build at once
    index-id               (Chroma server only) names this index's collections on the server

vectors.npy holds the chunks' unit embeddings in chunks.json's order (float32, one row a chunk);
vectors.json names the rows' chunk ids, the content hash and the model they were made from. A
local query scores them with one matrix product (memory-mapped, so opening costs no copy) and never
imports chromadb, which stays the store of record for `bepro index` and for a Chroma server.
items.npy holds the embeddings of the reference items' openings (knowledge.references.item_openings),
which answers weigh against the question, and of the labelled questions that rank rules by example
(retrieval.examples); items.json lists their texts in the rows' order.
A store folder is written in a staging folder and renamed into place, so the matrix, the chroma
store and the manifest that names them are always of one build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from bepro.atomic import replace_from_temp, write_atomically
from bepro.errors import ConfigError, IndexUnavailableError
from bepro.knowledge.chunk import CHUNKER_VERSION, Chunk
from bepro.retrieval.embed import DIMENSIONS, MODEL_ID

COLLECTION = "bepro"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 4  # bump when the store layout or the keyword tokenizer changes
EMBEDDED = "embedded"  # Manifest.vectors when the vectors live in the store folder
MATRIX = "vectors.npy"
MATRIX_IDS = "vectors.json"
ITEMS = "items.npy"
ITEM_TEXTS = "items.json"

Matrix = npt.NDArray[np.float32]


class ServerUnreachableError(IndexUnavailableError):
    """The Chroma server named by `chroma-url` does not answer: a rebuild cannot cure that."""


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


def read_manifest(index_dir: Path) -> Manifest | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def load_chunks(index_dir: Path, manifest: Manifest) -> list[Chunk]:
    data = json.loads((index_dir / manifest.store / "chunks.json").read_text(encoding="utf-8"))
    return [Chunk(**record) for record in cast(list[dict[str, Any]], data)]


def load_rule_order(index_dir: Path, manifest: Manifest) -> list[str]:
    """The rule ids in the order of the rule-level BM25 index's documents."""
    data = json.loads((index_dir / manifest.store / "rules.json").read_text(encoding="utf-8"))
    return [str(rule_id) for rule_id in cast(list[object], data)]


def save_matrix(folder: Path, ids: list[str], vectors: Matrix, content_hash: str) -> None:
    """Write the matrix and the ids of its rows, each through a temporary file."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    replace_from_temp(folder / MATRIX, lambda stream: np.save(stream, matrix))
    rows = {"content_hash": content_hash, "model_id": MODEL_ID, "ids": ids}
    write_atomically(folder / MATRIX_IDS, json.dumps(rows))


def save_items(folder: Path, openings: list[str], vectors: Matrix) -> None:
    """Write the item openings' matrix and their texts, each through a temporary file."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(openings), DIMENSIONS)
    replace_from_temp(folder / ITEMS, lambda stream: np.save(stream, matrix))
    write_atomically(folder / ITEM_TEXTS, json.dumps({"model_id": MODEL_ID, "texts": openings}))


def load_items(index_dir: Path, manifest: Manifest) -> tuple[list[str], Matrix]:
    """The item openings and their vectors; none when the store has no readable ones of this
    model (answers then embed the openings they weigh)."""
    folder = index_dir / manifest.store
    none: tuple[list[str], Matrix] = ([], np.zeros((0, DIMENSIONS), dtype=np.float32))
    try:
        data = json.loads((folder / ITEM_TEXTS).read_text(encoding="utf-8"))
        matrix = np.load(folder / ITEMS, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return none
    texts = [str(text) for text in cast(list[object], data.get("texts", []))]
    if data.get("model_id") != MODEL_ID or matrix.shape != (len(texts), DIMENSIONS):
        return none
    return texts, cast(Matrix, matrix)


def load_matrix(index_dir: Path, manifest: Manifest, chunks: list[Chunk]) -> Matrix:
    """The store's matrix, memory-mapped read-only; an IndexUnavailableError when it is missing,
    unreadable, or not of this manifest's build (rows, ids, hash or model differ)."""
    folder = index_dir / manifest.store
    try:
        rows = json.loads((folder / MATRIX_IDS).read_text(encoding="utf-8"))
        matrix = np.load(folder / MATRIX, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexUnavailableError(f"the vector matrix cannot be read: {exc}") from exc
    if (
        rows.get("content_hash") != manifest.content_hash
        or rows.get("model_id") != manifest.model_id
        or rows.get("ids") != [chunk.id for chunk in chunks]
        or matrix.dtype != np.float32
        or matrix.shape != (manifest.chunks, DIMENSIONS)
    ):
        raise IndexUnavailableError("the vector matrix is not of the manifest's build")
    return cast(Matrix, matrix)
