"""Blobs round-trip byte for byte, and text decodes with the same encoding."""

import asyncio
import tempfile

import blobs


async def scenario(folder: str) -> None:
    path = await blobs.put(folder, "a.bin", b"\x00\xffdata")
    assert await blobs.get(path) == b"\x00\xffdata"
    assert await blobs.get_text(path) == "\x00\xffdata"


def check() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(folder))


if __name__ == "__main__":
    check()
