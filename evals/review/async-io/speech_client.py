"""Sync helpers of a text-to-speech and media service: fine in a worker thread, a stall on an
event loop (speech_routes.py calls some of them from async views)."""

import hashlib
import socket
import time

import requests

SPEECH_URL = "https://speech.internal/v1/synthesize"


def synthesize(text: str) -> bytes:
    response = requests.post(SPEECH_URL, json={"text": text}, timeout=30)
    response.raise_for_status()
    return response.content


def assert_public_host(host: str) -> None:
    for *_, address in socket.getaddrinfo(host, 443):
        if str(address[0]).startswith(("10.", "127.", "192.168.")):
            raise ValueError(f"{host} resolves to a private address")


def checked_url(url: str) -> str:
    assert_public_host(url.split("/")[2])
    return url


def poll_render(job_id: str) -> None:
    for _ in range(20):
        time.sleep(2)


def cache_key(text: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", text.encode(), b"speech", 1000).hex()


def word_count(text: str) -> int:
    return len(text.split())
