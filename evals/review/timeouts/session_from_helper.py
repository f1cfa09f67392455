"""A module's requests.Session handed out by a helper that sets its auth header first: each call
through the helper is a call on that session. A helper returning something else is left alone."""

import base64
import os

import requests

session = requests.Session()
TIMEOUT_S = (3.05, 10)


def _init_session() -> requests.Session:
    if "Authorization" not in session.headers:
        secret = f"{os.environ['PAYPAL_ID']}:{os.environ['PAYPAL_SECRET']}"
        session.headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    return session


def _settings() -> dict[str, str]:
    return {"domain": os.environ.get("PAYPAL_DOMAIN", "paypal.com")}


def create_order(data: dict[str, object]) -> dict[str, object]:
    url = f"https://api.{_settings().get('domain')}/v2/checkout/orders"
    response = _init_session().post(url, json=data)  # expect: timeouts
    return response.json()


def capture_order(order_id: str) -> dict[str, object]:
    url = f"https://api.paypal.com/v2/checkout/orders/{order_id}/capture"
    return _init_session().post(url, timeout=TIMEOUT_S).json()


def search_activity(prepared: requests.PreparedRequest) -> requests.Response:
    # a signed request sent on a session made in place (a new pool each call, too)
    return requests.Session().send(prepared)  # expect: timeouts, pooling


def search_activity_bounded(prepared: requests.PreparedRequest) -> requests.Response:
    return session.send(prepared, timeout=TIMEOUT_S)
