"""With the deployment's variables set, tokens verify with the same keys as before."""

import os

import jwt

os.environ.update(
    SIGNING_KEY="k7Qp-2mZ9-session-signing-key-for-hs256",
    ADMIN_PASSWORD="correct-horse-battery",
    SESSION_SECRET="insecure-session-secret",
    GITHUB_TOKEN="ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    JWT_SECRET="svc-signing-key-2024-for-the-hs256-alg",
)

import tokens  # noqa: E402 - after the environment is set, as a deployment does


def check() -> None:
    claims = jwt.decode(tokens.issue("ada"), "k7Qp-2mZ9-session-signing-key-for-hs256", algorithms=["HS256"])
    assert claims == {"sub": "ada"}
    service = jwt.decode(tokens.issue_service("b"), "svc-signing-key-2024-for-the-hs256-alg", algorithms=["HS256"])
    assert service == {"svc": "b"}
    assert tokens.is_admin("correct-horse-battery") and not tokens.is_admin("guess")
    assert tokens.SESSION_SECRET == "insecure-session-secret"
    assert tokens.GITHUB_TOKEN.startswith("ghp_")


if __name__ == "__main__":
    check()
