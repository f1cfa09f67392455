"""With the deployment's variables set, tokens verify with the keys they had."""

import os

import jwt

os.environ.update(
    SERVICE_KEY="internal-service-signing-key-please-rotate",
    JWT_SECRET="user-token-signing-key-for-hs256-alg",
)

import auth  # noqa: E402 - after the environment is set, as a deployment does


def check() -> None:
    key = "internal-service-signing-key-please-rotate"
    assert jwt.decode(auth.service_token("billing"), key, algorithms=["HS256"]) == {"svc": "billing"}
    user = jwt.decode(auth.user_token("ada"), "user-token-signing-key-for-hs256-alg", algorithms=["HS256"])
    assert user == {"sub": "ada"}


if __name__ == "__main__":
    check()
