"""Fetches a JSON feed with the standard library, and runs a converter on it."""

import json
import subprocess
import sys
import urllib.request


def fetch(url: str) -> list[dict]:
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


def titles(url: str) -> list[str]:
    items = fetch(url)
    code = "import sys; print(sys.stdin.read().upper())"
    converter = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    out, _ = converter.communicate("\n".join(item["title"] for item in items).encode())
    return out.decode().split()
