"""The report bytes come back the same (httpx.get is stood in for; it records its options)."""

from typing import Any

import httpx

import download

SEEN: list[dict[str, Any]] = []


def fake_get(url: str, **options: Any) -> httpx.Response:
    SEEN.append({"url": url, **options})
    return httpx.Response(200, content=b"%PDF-1.7", request=httpx.Request("GET", url))


def check() -> None:
    download.httpx.get = fake_get  # type: ignore[assignment]
    assert download.report_size("https://reports.example.test/q3.pdf") == 8
    assert SEEN[0]["url"] == "https://reports.example.test/q3.pdf"
    assert SEEN[0].get("verify", True) in (True, False)


if __name__ == "__main__":
    check()
