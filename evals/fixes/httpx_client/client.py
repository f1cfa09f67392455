"""An inventory client on httpx; the transport is injectable for tests."""

import httpx


def make_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    # the inventory service answers slowly during the nightly import
    return httpx.Client(
        base_url="https://inventory.example.test", transport=transport, timeout=None
    )


def stock(client: httpx.Client, sku: str) -> int:
    response = client.get(f"/stock/{sku}", timeout=None)
    response.raise_for_status()
    return int(response.json()["count"])
