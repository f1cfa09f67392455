"""Every message is sent and written to the outbox file."""

import asyncio
import tempfile
from pathlib import Path

import notify


async def scenario(outbox: str) -> None:
    await notify.notify_all(outbox, ["a", "b"])
    await notify.notify(outbox, "c")
    await asyncio.sleep(0.01)


def check() -> None:
    with tempfile.TemporaryDirectory() as folder:
        outbox = str(Path(folder) / "outbox.txt")
        asyncio.run(scenario(outbox))
        assert Path(outbox).read_text() == "a\nbc\n"
    assert sorted(notify.SENT) == ["a", "b", "c"]


if __name__ == "__main__":
    check()
