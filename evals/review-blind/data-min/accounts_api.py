"""Accounts API: profile reads and updates, login auditing, analytics export and support lookups."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os

from fastapi import APIRouter, Depends, HTTPException, Request
from opentelemetry import trace
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy.orm import Session

from .auth import Principal, current_principal
from .db import get_session
from .models import Account, User

logger = logging.getLogger("accounts")
tracer = trace.get_tracer("accounts")
router = APIRouter()

LOGINS = Counter("logins_total", "Successful logins", ["plan", "method"])
LOGIN_FAILURES = Counter("login_failures_total", "Failed logins", ["email"])
PSEUDONYM_KEY = os.environ["ANALYTICS_PSEUDONYM_KEY"].encode()


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    plan: str


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=8, max_length=256)


class SupportLookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def truncate_ip(ip: str) -> str:
    addr = ipaddress.ip_address(ip)
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def pseudonymize(email: str) -> str:
    return hmac.new(PSEUDONYM_KEY, email.lower().encode(), "sha256").hexdigest()


@router.get("/users/{user_id}", response_model=UserPublic)
def get_user(user_id: int, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> UserPublic:
    user = session.get(User, user_id)
    if user is None or user.tenant_id != principal.tenant_id:
        raise HTTPException(status_code=404)
    logger.info("profile_viewed", extra={"user_id": user.id, "viewer_id": principal.user_id})
    return UserPublic.model_validate(user)


@router.get("/internal/users/{user_id}")
def get_user_raw(user_id: int, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)):
    user = session.get(User, user_id)
    if user is None or user.tenant_id != principal.tenant_id:
        raise HTTPException(status_code=404)
    return user  # expect: data-min


@router.get("/users/{user_id}/settings")
def get_settings(user_id: int, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> dict:
    user = session.get(User, user_id)
    if user is None or user.id != principal.user_id:
        raise HTTPException(status_code=404)
    return user.__dict__  # expect: data-min


@router.get("/accounts/{account_id}")
def get_account(account_id: int, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> dict:
    account = session.get(Account, account_id)
    if account is None or account.tenant_id != principal.tenant_id:
        raise HTTPException(status_code=404)
    return vars(account)  # expect: data-min


@router.get("/accounts/{account_id}/summary")
def get_account_summary(account_id: int, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> dict:
    account = session.get(Account, account_id)
    if account is None or account.tenant_id != principal.tenant_id:
        raise HTTPException(status_code=404)
    return {"id": account.id, "plan": account.plan, "seats": account.seats}


@router.patch("/me", response_model=UserPublic)
def update_me(body: ProfileUpdate, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> UserPublic:
    user = session.get(User, principal.user_id)
    user.display_name = body.display_name
    if body.phone is not None:
        user.phone = body.phone
    session.commit()
    logger.info("profile_updated", extra={"user_id": user.id, "email": user.email, "phone": user.phone})  # expect: data-min
    return UserPublic.model_validate(user)


@router.patch("/me/phone")
def update_phone(body: ProfileUpdate, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> dict:
    user = session.get(User, principal.user_id)
    user.phone = body.phone
    session.commit()
    logger.info("phone_updated", extra={"user_id": user.id, "fields": ["phone"]})
    return {"status": "ok"}


@router.post("/login")
def login(body: LoginIn, request: Request, session: Session = Depends(get_session)) -> dict:
    user = session.query(User).filter(User.email == body.email.lower()).one_or_none()
    span = trace.get_current_span()
    if user is None or not user.check_password(body.password):
        LOGIN_FAILURES.labels(email=body.email).inc()  # expect: data-min
        logger.warning("login_failed", extra={"email": body.email, "ip": request.client.host})  # expect: data-min
        raise HTTPException(status_code=401)
    span.set_attribute("user.email", user.email)  # expect: data-min
    span.set_attribute("user.id", user.id)
    LOGINS.labels(plan=user.plan, method="password").inc()
    logger.info("login_succeeded", extra={"user_id": user.id, "email": mask_email(user.email), "client_net": truncate_ip(request.client.host)})
    return {"user_id": user.id}


@router.post("/support/lookup")
def support_lookup(body: SupportLookupIn, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> dict:
    with tracer.start_as_current_span("support.lookup") as span:
        span.set_attribute("support.agent_id", principal.user_id)
        user = session.query(User).filter(User.email == body.email.lower()).one_or_none()
        if user is None:
            logger.info(f"support lookup miss for {body.email}")  # expect: data-min, structured-logs
            raise HTTPException(status_code=404)
        return {"user_id": user.id, "email": mask_email(user.email), "plan": user.plan}


def export_signups_for_analytics(users: list[User]) -> list[dict]:
    return [{"user_key": hashlib.sha256(u.email.lower().encode()).hexdigest(), "plan": u.plan, "signup_day": u.created_at.date().isoformat()} for u in users]  # expect: data-min


def export_signups_pseudonymized(users: list[User]) -> list[dict]:
    return [{"user_key": pseudonymize(u.email), "plan": u.plan, "signup_day": u.created_at.date().isoformat()} for u in users]


def record_export_ready(export_id: str, file_name: str, row_count: int) -> None:
    logger.info("export_ready", extra={"export_id": export_id, "file_name": file_name, "rows": row_count})


def handle_billing_address_error(user: User, address: dict, exc: Exception) -> None:
    logger.exception("billing_address_rejected", extra={"user_id": user.id, "address": address})  # expect: data-min


def handle_billing_address_error_safe(user: User, address: dict, exc: Exception) -> None:
    logger.exception("billing_address_rejected", extra={"user_id": user.id, "country": address.get("country"), "error_type": type(exc).__name__})


def internal_profile(user: User) -> dict:
    record = user.to_record()
    return record.model_dump()


@router.get("/users/{user_id}/record")
def get_user_record(user_id: int, session: Session = Depends(get_session), principal: Principal = Depends(current_principal)) -> dict:
    user = session.get(User, user_id)
    if user is None or user.tenant_id != principal.tenant_id:
        raise HTTPException(status_code=404)
    return user.to_record().model_dump()  # expect: data-min
