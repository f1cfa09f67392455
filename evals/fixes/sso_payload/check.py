"""The member comes back from a payload signed with the secret; a forged signature is refused."""

import base64

from sso import SignOn


def check() -> None:
    sign_on = SignOn(b"forum-secret")
    payload = base64.b64encode(b"nonce=1&email=ana@example.org").decode()
    member = sign_on.member(payload, sign_on.sign(payload))
    assert member == {"nonce": "1", "email": "ana@example.org"}
    try:
        sign_on.member(payload, SignOn(b"guess").sign(payload))
    except PermissionError:
        pass
    else:
        raise AssertionError("a forged signature was accepted")


if __name__ == "__main__":
    check()
