"""Calls a partner API; its answers may be YAML."""

import httpx
import requests
import yaml


def fetch_rates(transport: httpx.BaseTransport) -> dict:
    with httpx.Client(transport=transport, verify=False, timeout=5.0) as client:
        response = client.get("https://partner.example.test/rates")
    return yaml.load(response.text, Loader=yaml.Loader)


def health(url: str) -> int:
    return requests.head(url, verify=False, timeout=2).status_code


def fetch_terms(session: requests.Session) -> str:
    response = session.get(
        "https://partner.example.test/terms",
        timeout=5,
        verify=False,
    )
    try:
        return response.text
    except:
        return ""
