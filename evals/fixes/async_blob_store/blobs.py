"""Stores uploaded blobs on local disk from async handlers."""

import os


async def put(folder: str, name: str, data: bytes) -> str:
    path = os.path.join(folder, name)
    with open(path, mode="wb") as out:
        out.write(data)
    return path


async def get(path: str) -> bytes:
    with open(path, "rb") as source:
        blob = source.read()
    return blob


async def get_text(path: str) -> str:
    with open(path, encoding="latin-1") as source:
        return source.read()
