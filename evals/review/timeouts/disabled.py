"""Timeouts switched off with timeout=None on httpx clients and calls, and Popen.communicate()
without one, are flagged; bounded calls and an interactive child's wait() are not."""

import subprocess

import httpx

unbounded = httpx.Client(timeout=None)  # expect: timeouts
bounded = httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0))


def fetch_report(client: httpx.Client, report_id: str) -> bytes:
    return client.get(f"/reports/{report_id}", timeout=None).content  # expect: timeouts


async def push(payload: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:  # expect: pooling
        await client.post("https://hooks.internal/push", json=payload, timeout=None)  # expect: timeouts


def fetch_bounded(client: httpx.Client, report_id: str) -> bytes:
    return client.get(f"/reports/{report_id}", timeout=30.0).content


def render(path: str) -> bytes:
    process = subprocess.Popen(["wkhtmltopdf", path, "-"], stdout=subprocess.PIPE)
    out, _ = process.communicate()  # expect: timeouts
    return out


def checksum(path: str) -> str:
    out, _ = subprocess.Popen(["sha256sum", path], stdout=subprocess.PIPE).communicate()  # expect: timeouts
    return out.decode()


def render_bounded(path: str) -> bytes:
    process = subprocess.Popen(["wkhtmltopdf", path, "-"], stdout=subprocess.PIPE)
    out, _ = process.communicate(timeout=60)
    return out


def edit(path: str) -> int:
    editor = subprocess.Popen(["vi", path])
    return editor.wait()
