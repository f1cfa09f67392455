"""SMS, email and push delivery gateway (Flask) with provider credentials, webhooks and log scrubbing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import time
from typing import Annotated, Literal

import boto3
import httpx
import redis
from botocore.config import Config
from flask import Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import create_engine

logger = logging.getLogger("notify.gateway")

IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_HEADER = "X-Notify-Signature"
CACHE_KEY_PREFIX = "notify:v2:template"
TOKEN_TTL_SECONDS = 900
PASSWORD_MIN_LENGTH = 12
SENDGRID_SECRET_NAME = "prod/notify/sendgrid"
SECRET_CACHE_TTL_S = 600

TWILIO_AUTH_TOKEN = "9f2c1e7a5b3d4f6e8a0c2e4f6a8b0c1d"  # expect: secrets
SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "SG.kq2LrV8xT0mWc1Jd.f9Yb3nHs7Qe2Pa6Uz4Ko8Lw5Rt1Xy0")  # expect: secrets
ANALYTICS_DB_URL = "postgresql://notify:Winter2024!@analytics-db.notify.internal:5432/notify"  # expect: secrets
APNS_SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQgq2LrV8xT0mWc1JdXy\n-----END PRIVATE KEY-----\n"  # expect: secrets

SENSITIVE_KEYS = re.compile(r"(pass(word)?|secret|token|api[_-]?key|authorization|cookie)", re.I)
SENSITIVE_VALUES = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+|SG\.[A-Za-z0-9._-]+|sk_(live|test)_[A-Za-z0-9]+")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(secrets_dir="/run/secrets", env_prefix="NOTIFY_")

    twilio_account_sid: str
    twilio_auth_token: SecretStr
    pushover_app_token: SecretStr
    webhook_signing_secret: SecretStr
    smtp_host: str
    smtp_user: str
    smtp_password: str  # expect: secrets
    redis_host: str


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if SENSITIVE_KEYS.search(key):
                setattr(record, key, "[REDACTED]")
        record.msg = SENSITIVE_VALUES.sub(lambda m: (m.group(1) or "") + "[REDACTED]", str(record.msg))
        return True


settings = Settings()
app = Flask(__name__)
dedupe = redis.Redis(host=settings.redis_host, socket_timeout=0.3, socket_connect_timeout=1.0)

providers = httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0, pool=1.0))
secretsmanager = boto3.client("secretsmanager", config=Config(connect_timeout=2, read_timeout=3))
sns_legacy = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="AKIA2NOTIFYQ7XB4MZ5D", aws_secret_access_key="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")  # expect: secrets
sns = boto3.client("sns", config=Config(connect_timeout=2, read_timeout=5))  # workload identity (IRSA) supplies credentials
analytics_engine = create_engine(ANALYTICS_DB_URL, pool_size=2, max_overflow=0, pool_timeout=3, connect_args={"connect_timeout": 3})

_secret_cache: dict[str, tuple[float, SecretStr]] = {}


def managed_secret(name: str) -> SecretStr:
    """Fetched from Secrets Manager, cached in-process so rotation lands within SECRET_CACHE_TTL_S."""
    hit = _secret_cache.get(name)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    value = SecretStr(secretsmanager.get_secret_value(SecretId=name)["SecretString"])
    _secret_cache[name] = (time.monotonic() + SECRET_CACHE_TTL_S, value)
    return value


class SendSms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")]
    template: Literal["otp", "order_update", "reminder"]
    locale: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"


class SendEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    template: Literal["receipt", "welcome", "password_reset"]


class DeliveryReceipt(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message_id: Annotated[str, Field(max_length=64)]
    status: Literal["queued", "sent", "delivered", "failed", "undelivered"]


class ProviderAuthError(Exception):
    pass


def _idem_key(tenant: str, key: str) -> str:
    return f"idem:v1:{tenant}:sms:{key}"


def _claim(tenant: str, key: str) -> bool:
    return bool(dedupe.set(_idem_key(tenant, key), "in_progress", nx=True, ex=86_400))


def _twilio_signature_ok(url: str, params: dict[str, str], presented: str) -> bool:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(settings.twilio_auth_token.get_secret_value().encode(), payload.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, presented)


def send_via_twilio(to: str, body: str) -> str:
    resp = providers.post(
        f"https://api.twilio.example/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json",
        data={"To": to, "Body": body},
        auth=(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()),
    )
    logger.info("provider_response", extra={"provider": "twilio", "status": resp.status_code})
    resp.raise_for_status()
    return resp.json()["sid"]


def send_via_sendgrid(to: str, template: str) -> str:
    api_key = managed_secret(SENDGRID_SECRET_NAME).get_secret_value()
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    logger.debug("provider_request", extra={"provider": "sendgrid", "headers": headers})  # expect: secrets
    resp = providers.post(
        "https://api.sendgrid.example/v3/mail/send",
        json={"personalizations": [{"to": [{"email": to}]}], "template_id": template},
        headers=headers,
    )
    if resp.status_code == 401:
        raise ProviderAuthError(f"sendgrid rejected key {api_key}")  # expect: secrets
    resp.raise_for_status()
    return resp.headers["X-Message-Id"]


def send_push(user_key: str, message: str) -> None:
    token = settings.pushover_app_token.get_secret_value()
    resp = providers.post(f"https://api.pushover.example/1/messages.json?token={token}", data={"user": user_key, "message": message})  # expect: secrets
    resp.raise_for_status()


def send_push_v2(user_key: str, message: str) -> None:
    resp = providers.post(
        "https://api.pushover.example/1/messages.json",
        data={"token": settings.pushover_app_token.get_secret_value(), "user": user_key, "message": message},
    )
    logger.info("provider_response", extra={"provider": "pushover", "status": resp.status_code})
    resp.raise_for_status()


@app.post("/v1/sms")
def send_sms() -> tuple[Response, int]:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if not key or len(key) > 64:
        return jsonify({"code": "idempotency_key_required"}), 400
    try:
        cmd = SendSms.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify({"code": "invalid_request", "errors": exc.errors(include_input=False)}), 422
    if not _claim(g.tenant_id, key):
        stored = dedupe.get(_idem_key(g.tenant_id, key))
        if stored is not None and stored != b"in_progress":
            return jsonify(json.loads(stored)), 202
        return jsonify({"code": "request_in_progress"}), 409
    sid = send_via_twilio(cmd.to, cmd.template)
    dedupe.set(_idem_key(g.tenant_id, key), json.dumps({"id": sid}), ex=86_400)
    return jsonify({"id": sid}), 202


@app.post("/v1/webhooks/twilio")
def twilio_status_webhook() -> tuple[Response, int]:
    logger.info("webhook_received", extra={"authorization": request.headers.get("Authorization")})  # expect: secrets
    params = request.form.to_dict()
    if not _twilio_signature_ok(request.url, params, request.headers.get("X-Twilio-Signature", "")):
        return jsonify({"code": "bad_signature"}), 401
    receipt = DeliveryReceipt.model_validate(params)
    return jsonify({"ok": True, "status": receipt.status}), 200


@app.post("/v1/webhooks/sendgrid")
def sendgrid_event_webhook() -> tuple[Response, int]:
    raw = request.get_data(cache=False)
    expected = hmac.new(settings.webhook_signing_secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
    presented = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(expected, presented):
        logger.warning("webhook_signature_invalid", extra={"provider": "sendgrid"})
        return jsonify({"code": "bad_signature"}), 401
    receipt = DeliveryReceipt.model_validate_json(raw)
    logger.info("delivery_receipt", extra={"message_id": receipt.message_id, "status": receipt.status})
    return jsonify({"ok": True}), 200
