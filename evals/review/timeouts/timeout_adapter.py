"""A session whose adapter sets a default timeout needs none per call."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter


class TimeoutHTTPAdapter(HTTPAdapter):
    def __init__(self, *args: object, timeout: float = 5.0, **kwargs: object) -> None:
        self.timeout = timeout
        super().__init__(*args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().send(request, **kwargs)


http = requests.Session()
http.mount("https://", TimeoutHTTPAdapter(timeout=3.0))


def user(user_id: int) -> dict[str, object]:
    return dict(http.get(f"https://users.internal/{user_id}").json())
