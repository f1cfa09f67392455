"""False positives found by auditing `bepro review` on held-out applications (bench/audit/:
lnbits, paperless-ngx, saleor), each kept fixed by a minimal paraphrase of the shape that fired,
next to the real defect of the same shape that must still be reported."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import invoke_bepro


def _review(root: Path, files: dict[str, str], *args: str) -> list[tuple[str, int, str]]:
    """(path, line, code) of each finding `bepro review . --format json` reports on the files."""
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    result = invoke_bepro("review", ".", "--format", "json", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return sorted(
        (Path(f["path"]).as_posix(), f["line"], f["source"])
        for f in json.loads(result.stdout)["findings"]
    )


SQL_RUN_WITH_DIALECT_PIECES = """\
async def m007_set_expiries(db, now):
    await db.execute(
        f"UPDATE payments SET expiry = {db.timestamp_placeholder('expiry')} "
        f"WHERE expiry IS NULL AND time < {db.timestamp_now}",
        {"expiry": now},
    )
"""


def test_migration_modules_and_agent_tools_are_not_production(tmp_path: Path) -> None:
    tool = 'import urllib.request\n\nurllib.request.urlopen(input("plan url? "))\n'
    migration = (
        'async def m002_notes(db, note):\n    await db.execute(f"UPDATE w SET note = {note}")\n'
    )
    files = {
        "app/core/migrations.py": migration,
        ".claude/skills/bench/analyze.py": tool,
        ".github/scripts/release.py": tool,
        ".semgrep/security/requests/no-use-requests-lib.py": tool,
        "app/views.py": tool,
    }
    assert _review(tmp_path, files, "--select", "sql-from-parameters,S310") == [
        ("app/views.py", 3, "ruff:S310")
    ]
    every_role = _review(tmp_path, {}, "--select", "sql-from-parameters,S310", "--all-roles")
    assert ("app/core/migrations.py", 2, "bepro:sql-from-parameters") in every_role
    assert ("app/views.py", 3, "ruff:S310") in every_role


def test_sql_pieces_from_the_running_connection_or_a_query_builder_are_not_values(
    tmp_path: Path,
) -> None:
    builder = """\
class Database:
    async def fetch_page(self, query, values, filters):
        clause = filters.where()
        rows = await self.fetchall(f"{query} {clause}", values)
        await self.execute(f"SELECT COUNT(*) FROM ({query} {clause}) AS page", values)
        return rows

    async def count_notes(self, term):
        await self.execute(f"SELECT COUNT(*) FROM notes WHERE body LIKE '%{term}%'")


async def stamp(db, other, now):
    await db.execute(f"UPDATE wallets SET created_at = {other.render(now)} WHERE id = 1")
"""
    files = {"app/service.py": SQL_RUN_WITH_DIALECT_PIECES, "app/db.py": builder}
    assert _review(tmp_path, files, "--select", "sql-from-parameters") == [
        ("app/db.py", 9, "bepro:sql-from-parameters"),
        ("app/db.py", 13, "bepro:sql-from-parameters"),
    ]


def test_an_event_subscription_may_wait_forever_a_payment_may_not(tmp_path: Path) -> None:
    wallet = """\
import httpx


class Node:
    def __init__(self):
        self.client = httpx.AsyncClient(base_url="https://node.internal", timeout=30)

    async def paid_invoices_stream(self):
        while True:
            async with self.client.stream("GET", "/invoices/subscribe", timeout=None) as r:
                async for line in r.aiter_lines():
                    yield line

    async def payment_status(self, payment_id):
        async with self.client.stream("GET", f"/track/{payment_id}", timeout=None) as r:
            async for line in r.aiter_lines():
                return line

    async def pay_invoice(self, bolt11):
        return await self.client.post("/pay", json={"invoice": bolt11}, timeout=None)
"""
    assert _review(tmp_path, {"app/wallet.py": wallet}) == [
        ("app/wallet.py", 15, "bepro:timeout-disabled"),
        ("app/wallet.py", 20, "bepro:timeout-disabled"),
    ]


def test_a_queue_nothing_puts_into_cannot_grow(tmp_path: Path) -> None:
    queues = """\
import asyncio


class Provider:
    async def paid_invoices_stream(self):
        self.queue = asyncio.Queue(0)
        while True:
            yield await self.queue.get()


async def park_until_shutdown():
    waiter: asyncio.Queue[str] = asyncio.Queue()
    while True:
        yield await waiter.get()


def start_logger(sink):
    lines = asyncio.Queue()
    sink.add(lambda message: lines.put_nowait(message))
    return lines


class Bridge:
    def __init__(self):
        self.frames = asyncio.Queue()  # the reader thread elsewhere puts frames here
"""
    assert _review(tmp_path, {"app/queues.py": queues}, "--select", "unbounded-queue") == [
        ("app/queues.py", 18, "bepro:unbounded-queue"),
        ("app/queues.py", 25, "bepro:unbounded-queue"),
    ]


def test_a_helper_opening_a_small_file_does_not_stall_the_loop(tmp_path: Path) -> None:
    builder = """\
import json
import time


def export_manifest(data, folder):
    with open(f"{folder}/builder.json", "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def pause(seconds):
    time.sleep(seconds)


async def build(data, folder):
    export_manifest(data, folder)
    pause(1)
"""
    # a preview code: one small file on an idle loop was never worth a change on real code
    assert _review(tmp_path, {"app/builder.py": builder}, "--preview") == [
        ("app/builder.py", 16, "bepro:blocking-helper-in-async")
    ]


def test_unbounded_queues_and_file_opens_in_async_are_preview_codes(tmp_path: Path) -> None:
    service = """\
import asyncio

audit_entries = asyncio.Queue()


async def save_super_user(path, name):
    with open(path, "w") as handle:
        handle.write(name)
"""
    files = {"app/service.py": service}
    assert _review(tmp_path, files) == []
    assert _review(tmp_path, files, "--preview") == [
        ("app/service.py", 3, "bepro:unbounded-queue"),
        ("app/service.py", 7, "ruff:ASYNC230"),
    ]


WAIT_FOR_THE_DATABASE = """\
import time

from sqlalchemy import create_engine

engine = create_engine(DATABASE_URL)
while True:
    try:
        engine.raw_connection()
        break
    except Exception:
        time.sleep(1)
"""


def test_a_wait_for_the_database_script_is_a_script(tmp_path: Path) -> None:
    """CTFd's ping.py, run by its docker entrypoint: waiting until the database answers is its
    purpose. The same loop inside an imported function is still reported."""
    in_a_function = "def connect():\n" + "".join(
        f"    {line}\n" if line else "\n" for line in WAIT_FOR_THE_DATABASE.splitlines()
    )
    files = {"ping.py": WAIT_FOR_THE_DATABASE, "app/db.py": in_a_function}
    assert _review(tmp_path, files, "--select", "retry-unbounded") == [
        ("app/db.py", 7, "bepro:retry-unbounded")
    ]
