"""A client that reuses one requests.Session (pooled connections) but never sets a timeout."""

import requests


class Inventory:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def stock(self, sku: str) -> int:
        response = self.session.get(f"{self.base_url}/stock/{sku}")
        return int(response.json()["count"])

    def reserve(self, sku: str, count: int) -> bool:
        response = self.session.post(f"{self.base_url}/reserve", json={"sku": sku, "count": count})
        return response.status_code == 201
