"""Issues and checks session tokens."""

import os

import jwt

SIGNING_KEY = "k7Qp-2mZ9-session-signing-key-for-hs256"
ADMIN_PASSWORD = "correct-horse-battery"
SESSION_SECRET = os.getenv("SESSION_SECRET", "insecure-session-secret")
GITHUB_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def issue(user: str) -> str:
    return jwt.encode({"sub": user}, SIGNING_KEY, algorithm="HS256")


def issue_service(name: str) -> str:
    return jwt.encode({"svc": name}, "svc-signing-key-2024-for-the-hs256-alg", algorithm="HS256")


def is_admin(password: str) -> bool:
    return password == ADMIN_PASSWORD
