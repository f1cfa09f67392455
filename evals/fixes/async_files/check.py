"""Documents round-trip through real files, with the same encoding and bytes."""

import asyncio
import tempfile
from pathlib import Path

import store


async def scenario(folder: Path) -> None:
    path = str(folder / "doc.json")
    await store.save(path, {"b": 2, "a": "é"})
    assert await store.load(path) == {"a": "é", "b": 2}
    assert await store.load_raw(path) == b'{"a": "\\u00e9", "b": 2}'
    try:
        await store.load(str(folder / "missing.json"))
    except FileNotFoundError:
        pass
    else:
        raise AssertionError("a missing file must still raise FileNotFoundError")


def check() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder)))


if __name__ == "__main__":
    check()
