"""Billing service settings and credentialed clients: PSP, ledger DB, Slack alerts, GitHub releases, partner API."""

from __future__ import annotations

import hmac
import logging
import os
from functools import cached_property

import boto3
import httpx
from botocore.config import Config
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger("billing")

STRIPE_SECRET_KEY = "sk_live_51HcQ2vKpW8f3Tz9mXa7bYc2dEe4F"  # expect: secrets
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLEQ"  # expect: secrets
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # expect: secrets
SLACK_BOT_TOKEN = "xoxb-2148-97263815-Qk3vZy8wTnLp"  # expect: secrets
LEDGER_DATABASE_URL = "postgresql://ledger_app:Ledg3r-Pr0d-2024@ledger-db.internal:5432/ledger"  # expect: secrets
JWT_SIGNING_KEY = os.environ.get("JWT_SIGNING_KEY", "change-me-in-prod")  # expect: secrets
WEBHOOK_SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]
RELEASES_GITHUB_TOKEN = "ghp_4fQ9zR2mXb7LkP1sT8vW3yN6cH0jD5eA2uK9"  # expect: secrets
RECEIPT_SIGNING_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"  # expect: secrets

API_KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
PRICE_CACHE_KEY = "v3:price:{tenant}:{sku}"
PARTITION_KEY = "account_id"
PASSWORD_MIN_LENGTH = 12
PSP_SECRET_ID = "prod/billing/psp-api-key"
LEDGER_DATABASE_URL_TEMPLATE = "postgresql://{user}@ledger-db.internal:5432/ledger"
STRIPE_PUBLISHABLE_KEY_ENV = "STRIPE_PUBLISHABLE_KEY"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(secrets_dir="/run/secrets", env_prefix="BILLING_")

    psp_api_key: SecretStr
    ledger_db_password: SecretStr
    partner_base_url: str = "https://api.partner.example.com"
    partner_api_token: str  # expect: secrets
    smtp_password: str = ""  # expect: secrets
    smtp_username: str = "billing-notifications"
    request_timeout_s: float = 5.0


class PartnerClient:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._http = httpx.Client(base_url=settings.partner_base_url, timeout=httpx.Timeout(5.0, connect=2.0))

    def fetch_statement(self, account_id: str) -> dict:
        url = f"/v1/statements/{account_id}?api_key={self._settings.partner_api_token}"  # expect: secrets
        resp = self._http.get(url)
        resp.raise_for_status()
        return resp.json()

    def fetch_invoice(self, invoice_id: str) -> dict:
        headers = {"Authorization": f"Bearer {self._settings.partner_api_token}"}
        logger.debug("partner_request", extra={"path": f"/v1/invoices/{invoice_id}", "headers": headers})  # expect: secrets
        resp = self._http.get(f"/v1/invoices/{invoice_id}", headers=headers)
        resp.raise_for_status()
        return resp.json()

    def fetch_balance(self, account_id: str) -> dict:
        headers = {"Authorization": f"Bearer {self._settings.partner_api_token}"}
        resp = self._http.get(f"/v1/accounts/{account_id}/balance", headers=headers)
        logger.info("partner_response", extra={"path": "/v1/accounts/balance", "status": resp.status_code, "request_id": resp.headers.get("x-request-id")})
        resp.raise_for_status()
        return resp.json()


class PspClient:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.psp_api_key
        self._http = httpx.Client(base_url="https://api.psp.example.com", timeout=httpx.Timeout(10.0, connect=2.0))

    def charge(self, customer_id: str, amount_cents: int, card_token: str, idempotency_key: str) -> dict:
        logger.info("psp_charge", extra={"customer_id": customer_id, "amount_cents": amount_cents, "token": card_token})  # expect: secrets
        resp = self._http.post(
            "/v1/charges",
            data={"amount": amount_cents, "source": card_token, "customer": customer_id},
            headers={"Authorization": f"Bearer {self._key.get_secret_value()}", IDEMPOTENCY_KEY_HEADER: idempotency_key},
        )
        resp.raise_for_status()
        return resp.json()

    def rotate_key(self, new_key: SecretStr, key_id: str) -> None:
        self._key = new_key
        logger.info("psp_key_rotated", extra={"key_id": key_id, "key": str(new_key)})

    def debug_config(self) -> dict:
        return {"base_url": str(self._http.base_url), "api_key": repr(self._key)}


def verify_webhook_auth(authorization: str | None) -> bool:
    if authorization is None:
        return False
    logger.warning("webhook_auth_attempt", extra={"authorization": authorization})  # expect: secrets
    return hmac.compare_digest(authorization, f"Bearer {WEBHOOK_SECRET}")


class SecretsProvider:
    """Fetches secrets from AWS Secrets Manager with the pod's IRSA role; cached per process."""

    def __init__(self) -> None:
        self._client = boto3.client("secretsmanager", config=Config(connect_timeout=2, read_timeout=5))

    @cached_property
    def psp_api_key(self) -> SecretStr:
        value = self._client.get_secret_value(SecretId=PSP_SECRET_ID)["SecretString"]
        return SecretStr(value)


def ledger_dsn(settings: Settings, user: str = "ledger_app") -> str:
    return LEDGER_DATABASE_URL_TEMPLATE.format(user=user)


def require_secrets_present(settings: Settings) -> None:
    missing = [name for name in ("psp_api_key", "ledger_db_password") if not getattr(settings, name).get_secret_value()]
    if missing:
        logger.error("missing_required_secrets", extra={"names": missing})
        raise SystemExit(1)
