"""Single sign-on payloads a forum sends back, signed with a shared secret."""

import base64
import hashlib
import hmac


class SignOn:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()

    def member(self, payload: str, sig: str) -> dict[str, str]:
        this_signature = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
        if this_signature != sig:
            raise PermissionError("invalid payload")
        fields = base64.b64decode(payload).decode().split("&")
        return dict(field.split("=", 1) for field in fields)
