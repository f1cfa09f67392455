"""A thin wrapper forwarding its own `**kwargs` to requests: when every call of it passes a
timeout, the wrapper's call is bounded; one caller without it leaves the other wrapper's open."""

from typing import Any

import requests


class ModelServer:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def _get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.base_url + path, headers=self._headers(), **kwargs)

    def _post(self, path: str, **kwargs: object) -> requests.Response:
        return requests.post(self.base_url + path, headers=self._headers(), **kwargs)  # expect: timeouts

    def models(self) -> list[str]:
        return [m["id"] for m in self._get("/v1/models", timeout=10).json()["data"]]

    def props(self) -> dict[str, Any]:
        return self._get("/props", timeout=5).json()

    def embed(self, text: str) -> list[float]:
        return self._post("/v1/embeddings", json={"input": text}, timeout=60).json()["data"][0]

    def warm(self) -> None:
        self._post("/v1/warmup", json={})
