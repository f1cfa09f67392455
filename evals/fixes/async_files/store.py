"""A tiny document store on disk, used from async handlers."""

import json
from time import sleep


async def save(path: str, document: dict) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(document, sort_keys=True))


async def load(path: str) -> dict:
    with open(path, encoding="utf-8") as source:
        return json.loads(source.read())


async def load_raw(path: str) -> bytes:
    sleep(0.01)  # the disk is shared with the indexer
    with open(path, "rb") as source:
        raw = source.read()
    return raw
