"""Rates and terms are read as before (httpx's MockTransport; a requests adapter stand-in)."""

import httpx
import requests
import requests.adapters

import partner


class Terms(requests.adapters.BaseAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response._content = b"be nice"
        response.request = request
        return response

    def close(self) -> None:
        return None


def check() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="eur: 1.0\nusd: 1.1\n"))
    assert partner.fetch_rates(transport) == {"eur": 1.0, "usd": 1.1}
    session = requests.Session()
    session.mount("https://", Terms())
    assert partner.fetch_terms(session) == "be nice"
    sent: list[dict[str, object]] = []

    def head(url: str, **kwargs: object) -> requests.Response:
        sent.append({"url": url, **kwargs})
        response = requests.Response()
        response.status_code = 204
        return response

    partner.requests.head = head  # type: ignore[assignment]
    assert partner.health("https://partner.example.test/health") == 204
    assert sent[0]["url"] == "https://partner.example.test/health"


if __name__ == "__main__":
    check()
