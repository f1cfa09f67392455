"""A requests function or Session method picked by its name, the way one helper sends every
outbound call; the same helper passing timeout=, or taking it from its caller, is fine."""

import requests

HTTP_TIMEOUT_S = 10
session = requests.Session()


def send(method: str, url: str, payload: dict[str, str]) -> requests.Response:
    request = getattr(requests, method.lower())
    return request(url, json=payload)  # expect: timeouts


def send_on_session(verb: str, url: str) -> requests.Response:
    return getattr(session, verb)(url)  # expect: timeouts


def bounded_send(method: str, url: str) -> requests.Response:
    request = getattr(requests, method.lower())
    return request(url, timeout=HTTP_TIMEOUT_S)


def forwarded_send(method: str, url: str, **options: object) -> requests.Response:
    return getattr(session, method)(url, **options)


def setting(name: str) -> object:
    return getattr(requests.adapters, name)


def publish(action: str, url: str, payload: dict[str, str]) -> None:
    """An event sent with the verb its action names (udata's resource analyser)."""
    if action == "created":
        send_event = requests.post
    elif action == "deleted":
        send_event = requests.delete
    else:
        send_event = session.put
    send_event(url, json=payload).raise_for_status()  # expect: timeouts


def bounded_publish(url: str, payload: dict[str, str]) -> None:
    send_event = requests.post
    send_event(url, json=payload, timeout=HTTP_TIMEOUT_S).raise_for_status()


def send_sms(url: str, body: dict[str, str], as_json: bool) -> None:
    if as_json:
        send = requests.post
        options = {"json": body}
    else:
        send = requests.get
        options = {"params": body}
    send(url, **options)  # expect: timeouts
