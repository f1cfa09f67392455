"""Session calls that pass `**self.<settings>`: a dict the class builds without a timeout cannot
carry one, so the call waits forever; a dict that has one, or that is filled from outside, may."""

import requests


class CardDavClient:
    def __init__(self, url: str, verify: bool, user: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._settings = {"verify": verify}
        if user:
            self._settings["auth"] = (user, password)

    def options(self) -> int:
        response = self.session.request("OPTIONS", self.url, **self._settings)  # expect: timeouts
        return response.status_code

    def card(self, href: str) -> str:
        return self.session.get(self.url + href, **self._settings).text  # expect: timeouts


class BoundedClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._request_options = {"timeout": (3.05, 10), "verify": True}

    def fetch(self) -> str:
        return self.session.get(self.url, **self._request_options).text


class ConfiguredClient:
    def __init__(self, url: str, extra: dict[str, object]) -> None:
        self.url = url
        self.session = requests.Session()
        self._options: dict[str, object] = {}
        self._options.update(extra)  # may hold a timeout

    def fetch(self) -> str:
        return self.session.get(self.url, **self._options).text


def snapshot(url: str, timeout_s: int, verify: bool) -> bytes:
    # the timeout rides in the dict this function builds (ruff's S113 cannot see it)
    params = {"timeout": timeout_s, "verify": verify}
    return requests.get(url, **params).content


def snapshot_unbounded(url: str, verify: bool) -> bytes:
    params = {"verify": verify}
    return requests.get(url, **params).content  # expect: timeouts


class MediaServer:
    """The request options come from a method that returns them with a timeout in (tubesync's
    Plex and Jellyfin clients): ruff's S113 cannot see it through the `**`."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def request_args(self, path: str) -> tuple[str, dict[str, object]]:
        return self.url + path, dict(params={"token": self.token}, timeout=5, verify=True)

    def libraries(self) -> bytes:
        url, kwargs = self.request_args("/library/sections")
        return requests.get(url, **kwargs).content


def search_index(url: str, auth: tuple[str, str], timeout_s: int, insecure: bool) -> object:
    """An annotated dict literal carries the timeout (tubearchivist's Elasticsearch client)."""
    kwargs: dict[str, object] = {"auth": auth, "timeout": timeout_s}
    if insecure:
        kwargs["verify"] = False
    return requests.get(url, **kwargs).json()


def index_document(url: str, auth: tuple[str, str], body: str) -> object:
    kwargs: dict[str, object] = {"auth": auth}
    kwargs["data"] = body
    return requests.post(url, **kwargs).json()  # expect: timeouts


def subtitles(url: str, cookies: dict[str, str]) -> str:
    """The timeout is stored in the dict before the call."""
    request_kwargs: dict[str, object] = {"cookies": cookies}
    request_kwargs["timeout"] = 30
    return requests.get(url, **request_kwargs).text
