"""In a module with an ORM, `session` is the database session: `.get(Model, id)` and
`.delete(row)` are no HTTP calls. A client under an http name still is one."""

from __future__ import annotations

import requests
from sqlalchemy.orm import Session

from .models import Account


class Accounts:
    def __init__(self, session: Session, http: requests.Session) -> None:
        self.session = session
        self._http = http

    def close(self, account_id: int) -> None:
        account = self.session.get(Account, account_id)
        if account is not None:
            self.session.delete(account)
        self._http.post(f"https://billing.internal/accounts/{account_id}/close")  # expect: timeouts
