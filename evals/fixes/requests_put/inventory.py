"""Updates and deletes stock entries over HTTP."""

import requests

BASE = "https://stock.example.test"


def set_stock(sku: str, count: int) -> int:
    return requests.put(f"{BASE}/stock/{sku}", json={"count": count}).status_code


def remove(sku: str) -> bool:
    return requests.delete(f"{BASE}/stock/{sku}").ok
