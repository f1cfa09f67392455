"""The client sends the same requests through its session (a transport adapter stand-in)."""

import json

import requests
import requests.adapters

import github

SENT: list[tuple[str, str, object]] = []


class Fake(requests.adapters.BaseAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        SENT.append((str(request.method), str(request.url), kwargs.get("timeout")))
        response = requests.Response()
        response.status_code = 200 if request.method == "GET" else 204
        response._content = json.dumps({"name": "bepro"}).encode()
        response.request = request
        return response

    def close(self) -> None:
        return None


def check() -> None:
    client = github.GitHub("t0ken")
    client.session.mount("https://", Fake())
    assert client.repo("acme/bepro") == {"name": "bepro"}
    assert client.star("acme/bepro") == 204
    assert [(m, u) for m, u, _ in SENT] == [
        ("GET", "https://api.github.test/repos/acme/bepro"),
        ("PUT", "https://api.github.test/user/starred/acme/bepro"),
    ]


if __name__ == "__main__":
    check()
