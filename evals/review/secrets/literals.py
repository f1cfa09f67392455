"""Credentials written into the source, recognised by their shape or as an env fallback; the
look-alikes (documentation, placeholders, names of secrets, empty defaults) are not flagged."""

import os

import boto3
import psycopg

AWS_KEY_ID = "AKIAZ7QWERTY12345678"  # expect: secrets
SIGNING_KEY_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----"  # expect: secrets
ANALYTICS_DSN = "postgresql://analytics:Wint3r-Sun-42@db.internal:5432/analytics"  # expect: secrets
JWT_SECRET = os.environ.get("JWT_SIGNING_SECRET", "dev-only-secret")  # expect: secrets
STRIPE_KEY = os.getenv("STRIPE_API_KEY", "sk_test_placeholder")  # expect: secrets
SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "mailer-pass-2024")  # expect: secrets

DOCS_EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"
DSN_TEMPLATE = "postgresql://{user}:{password}@{host}/app"
LOCAL_DSN = "postgresql://app:app@localhost/app"
PEM_MARKER = "-----BEGIN PRIVATE KEY-----"  # compared with, not a key
LINK_PATTERN = r"\b(?:https?://(?:(?:\w+:)?\w+@)?)(?:[\w-]+\.)+[\w-]+"  # finds links in posts
COMPOSE_DSN = "postgres://postgres:mozilla1234@127.0.0.1:5432/treeherder"  # docker-compose default
SECRET_KEY_ID = os.environ.get("SIGNING_KEY_ID", "primary")
TOKEN_URL = os.getenv("OAUTH_TOKEN_URL", "https://auth.internal/token")
API_KEY = os.environ.get("PARTNER_API_KEY", "")
DB_PASSWORD = os.environ["DB_PASSWORD"]


def connect_reporting() -> psycopg.Connection:
    """Connect with a DSN such as postgresql://reporter:s3cret-pass@db/reports (from the env)."""
    return psycopg.connect(os.environ["REPORTING_DSN"], connect_timeout=3)


def s3_client() -> object:
    return boto3.client(
        "s3",
        aws_access_key_id="AKIAQ1W2E3R4T5Y6U7I8",  # expect: secrets
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
