"""With the deployment's variables set, the settings say what they said before."""

import os

os.environ.update(
    STRIPE_KEY="sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    DATABASE_URL="postgresql://payments:Tr0ub4dor-3@db.internal:5432/payments",
    DB_PASSWORD="Tr0ub4dor-3",
    WEBHOOK_SECRET="whsec-dev-only",
)

import settings  # noqa: E402 - after the environment is set, as a deployment does


def check() -> None:
    assert settings.stripe_headers() == {"Authorization": "Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc"}
    assert settings.dsn_host() == "db.internal:5432"
    assert settings.DB_PASSWORD == "Tr0ub4dor-3"
    assert settings.WEBHOOK_SECRET == "whsec-dev-only"
    assert settings.fee_table("{'eu': 1.4, 'us': 2.9}") == {"eu": 1.4, "us": 2.9}


if __name__ == "__main__":
    check()
