"""Signs API tokens for internal services."""

import jwt

SERVICE_KEY = "internal-service-signing-key-please-rotate"


def service_token(name: str) -> str:
    return jwt.encode({"svc": name}, SERVICE_KEY, algorithm="HS256")


def user_token(user: str) -> str:
    return jwt.encode({"sub": user}, key="user-token-signing-key-for-hs256-alg", algorithm="HS256")
