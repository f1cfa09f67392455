"""`verify=False` turns certificate checks off on an https URL; on a plain http URL there is no
certificate to check, and the flag does nothing."""

import requests

TIMEOUT_S = 10


def node_status(host: str) -> bool:
    response = requests.get(f"https://{host}/apiv2/", verify=False, timeout=TIMEOUT_S)  # expect: crypto
    return response.ok


def fog_status(host: str) -> str:
    return requests.get(f"http://{host}/fog/status", verify=False, timeout=TIMEOUT_S).text
