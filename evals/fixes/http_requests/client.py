"""A small API client built on requests' module-level helpers, with no timeouts."""

import requests

BASE_URL = "https://api.example.test"


def get_user(user_id: int) -> dict[str, object]:
    response = requests.get(f"{BASE_URL}/users/{user_id}")
    response.raise_for_status()
    return dict(response.json())


def create_note(text: str) -> int:
    response = requests.post(
        f"{BASE_URL}/notes",
        json={"text": text},
    )
    response.raise_for_status()
    return int(response.json()["id"])
