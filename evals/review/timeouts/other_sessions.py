"""A client held under an http name in a module that imports another package's session class may
be that class: google-auth's AuthorizedSession defaults to a 120 s timeout."""

from __future__ import annotations

from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from requests.exceptions import HTTPError

API = "https://walletobjects.googleapis.com/walletobjects/v1/genericClass"


class WalletClient:
    def __init__(self, credentials: Credentials) -> None:
        self.http_client = self._authorized(credentials)

    @staticmethod
    def _authorized(credentials: Credentials) -> AuthorizedSession:
        return AuthorizedSession(credentials)

    def ticket_class(self, class_id: str) -> dict[str, object] | None:
        response = self.http_client.get(f"{API}/{class_id}")
        try:
            response.raise_for_status()
        except HTTPError:
            return None
        return dict(response.json())
