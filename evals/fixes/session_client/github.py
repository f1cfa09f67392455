"""A small GitHub client on one requests.Session."""

import requests


class GitHub:
    def __init__(self, token: str) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def repo(self, name: str) -> dict:
        response = self.session.get(f"https://api.github.test/repos/{name}")
        response.raise_for_status()
        return response.json()

    def star(self, name: str) -> int:
        return self.session.put(f"https://api.github.test/user/starred/{name}").status_code
