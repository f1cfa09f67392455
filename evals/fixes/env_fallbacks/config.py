"""Service configuration from the environment."""

import os

API_TOKEN = os.getenv("API_TOKEN", "tok-local-development")
DEBUG = os.getenv("DEBUG", "false") == "true"


def webhook_secret() -> str:
    return os.environ.get("WEBHOOK_SIGNING_SECRET", "local-webhook-secret")
