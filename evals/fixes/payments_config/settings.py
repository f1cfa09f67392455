"""Settings of the payments service."""

import os

STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
DATABASE_URL = "postgresql://payments:Tr0ub4dor-3@db.internal:5432/payments"
DB_PASSWORD = "Tr0ub4dor-3"
WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "whsec-dev-only")


def stripe_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {STRIPE_KEY}"}


def dsn_host() -> str:
    return DATABASE_URL.rsplit("@", 1)[1].split("/")[0]


def fee_table(text: str) -> dict[str, float]:
    return dict(eval(text))
