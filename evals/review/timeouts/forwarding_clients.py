"""A client method that passes its own **kwargs to a requests.Session: the timeout is up to its
callers, and when none of them here passes one, every call waits as long as the peer does."""

import requests


class RemoteAPI:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url, self.api_key = base_url, api_key
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        url = f"{self.base_url}/api/{path}"
        return self.session.request(method, url, **kwargs)  # expect: timeouts

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)


def pull(base_url: str, api_key: str, path: str) -> bytes:
    remote = RemoteAPI(base_url, api_key)
    return remote.request("GET", path, stream=True).content


class BoundedAPI:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return self.session.request(method, f"{self.base_url}/{path}", **kwargs)

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path, timeout=10)
