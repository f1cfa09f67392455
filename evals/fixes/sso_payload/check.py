"""The member comes back from a payload signed with the secret; forged signatures are refused."""

import base64

from sso import SignOn

PAYLOAD = base64.b64encode(b"nonce=1&email=ana@example.org").decode()


def refused(sign_on: SignOn, sig: str) -> bool:
    try:
        sign_on.member(PAYLOAD, sig)
    except PermissionError:
        return True
    return False


def check() -> None:
    sign_on = SignOn(b"forum-secret")
    genuine = sign_on.sign(PAYLOAD)
    assert sign_on.member(PAYLOAD, genuine) == {"nonce": "1", "email": "ana@example.org"}
    forged = [SignOn(b"guess").sign(PAYLOAD), genuine[:-1] + "x", ""]
    assert all(refused(sign_on, sig) for sig in forged)


if __name__ == "__main__":
    check()
