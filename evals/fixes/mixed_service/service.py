"""A sync job: fetch a page of orders, stamp them, and report how long it took."""

import time
from datetime import datetime

import requests

ORDERS_URL = "https://orders.example.test/orders"


def sync_orders(page: int) -> dict[str, object]:
    started = time.time()
    # Fetch one page; the orders service is sometimes slow.
    response = requests.get(ORDERS_URL, params={"page": page})
    orders = list(response.json())
    synced_at = datetime.now()
    return {
        "orders": orders,
        "synced_at": synced_at.isoformat(),
        "seconds": time.time() - started,
    }
