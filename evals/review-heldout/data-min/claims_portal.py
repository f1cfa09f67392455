"""Policyholder claims portal API for an insurance company: claims, payouts, exports and telemetry."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import sentry_sdk
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from opentelemetry import trace
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from claims.auth import CurrentUser, current_user
from claims.db import get_session
from claims.models import Adjuster, Claim, Claimant, Policy
from claims.settings import settings
from claims.vault import CardVault, get_card_vault

logger = logging.getLogger("claims.portal")
tracer = trace.get_tracer("claims.portal")

sentry_sdk.init(dsn=settings.sentry_dsn.get_secret_value(), send_default_pii=True, traces_sample_rate=0.05)  # expect: data-min

CLAIMS_SUBMITTED = Counter("claims_submitted_total", "Claims submitted", ["line_of_business", "channel"])
CLAIMS_BY_ADJUSTER = Counter("claims_assigned_total", "Claims assigned", ["adjuster"])
REQUEST_LATENCY = Histogram("http_request_seconds", "Request latency", ["route", "status"])

EMAIL_RE = re.compile(r"^([^@]{1})[^@]*(@.+)$")

app = FastAPI()


def pseudonymize(value: str) -> str:
    key = settings.pseudonym_key.get_secret_value().encode()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:20]


def mask_email(email: str) -> str:
    return EMAIL_RE.sub(r"\1***\2", email)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    policy_id: UUID
    incident_date: date
    line_of_business: Literal["motor", "home", "travel"]
    description: Annotated[str, Field(min_length=10, max_length=5000)]
    estimated_amount: Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)]


class PayoutCardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_number: Annotated[str, Field(pattern=r"^\d{13,19}$")]
    expiry_month: Annotated[int, Field(ge=1, le=12)]
    expiry_year: Annotated[int, Field(ge=2024, le=2045)]


class ClaimPublic(BaseModel):
    id: UUID
    status: str
    incident_date: date
    line_of_business: str
    submitted_at: datetime


class ClaimantPublic(BaseModel):
    id: UUID
    display_name: str
    email_masked: str


class ClaimantRecord(BaseModel):
    """Internal view used by underwriting: full record including risk fields."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    full_name: str
    email: str
    phone: str
    date_of_birth: date
    national_id: str
    fraud_score: float


@app.middleware("http")
async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    elapsed = time.perf_counter() - started
    route = request.scope.get("route")
    REQUEST_LATENCY.labels(route=getattr(route, "path", "unmatched"), status=str(response.status_code)).observe(elapsed)
    if response.status_code == 401:
        logger.warning("auth_rejected", extra={"path": request.url.path, "client_ip": request.client.host if request.client else None})  # expect: data-min
    return response


@app.put("/v1/claims/{claim_id}", response_model=ClaimPublic, status_code=201)
def submit_claim(
    claim_id: UUID,
    body: ClaimIn,
    user: Annotated[CurrentUser, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
) -> ClaimPublic:
    with session.begin():
        policy = session.scalar(select(Policy).where(Policy.id == body.policy_id, Policy.holder_id == user.claimant_id))
        if policy is None:
            raise HTTPException(status_code=404, detail="policy_not_found")
        session.execute(
            pg_insert(Claim)
            .values(id=claim_id, policy_id=policy.id, claimant_id=user.claimant_id, status="submitted",
                    incident_date=body.incident_date, line_of_business=body.line_of_business,
                    description=body.description, estimated_amount=body.estimated_amount,
                    submitted_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["id"])
        )
        claim = session.get(Claim, claim_id)
        claimant = session.get(Claimant, user.claimant_id)
    CLAIMS_SUBMITTED.labels(line_of_business=body.line_of_business, channel="portal").inc()
    logger.info("claim_submitted", extra={"claim_id": str(claim_id), "email": claimant.email})  # expect: data-min
    return ClaimPublic.model_validate(claim, from_attributes=True)


@app.get("/v1/claims/{claim_id}", response_model=ClaimPublic)
def get_claim(
    claim_id: UUID,
    user: Annotated[CurrentUser, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
) -> ClaimPublic:
    with tracer.start_as_current_span("claims.get") as span:
        claim = session.scalar(select(Claim).where(Claim.id == claim_id, Claim.claimant_id == user.claimant_id))
        if claim is None:
            raise HTTPException(status_code=404)
        span.set_attribute("claim.id", str(claim.id))
        span.set_attribute("claim.status", claim.status)
        return ClaimPublic.model_validate(claim, from_attributes=True)


@app.get("/v1/me", response_model=None)
def get_me(
    user: Annotated[CurrentUser, Depends(current_user)], session: Annotated[Session, Depends(get_session)]
) -> Claimant:
    claimant = session.get(Claimant, user.claimant_id)
    with tracer.start_as_current_span("claimant.profile") as span:
        span.set_attribute("claimant.id", str(claimant.id))
        span.set_attribute("claimant.phone", claimant.phone)  # expect: data-min
    return claimant  # expect: data-min


@app.get("/v1/me/summary", response_model=ClaimantPublic)
def get_me_summary(
    user: Annotated[CurrentUser, Depends(current_user)], session: Annotated[Session, Depends(get_session)]
) -> ClaimantPublic:
    claimant = session.get(Claimant, user.claimant_id)
    return ClaimantPublic(id=claimant.id, display_name=claimant.first_name, email_masked=mask_email(claimant.email))


@app.get("/v1/policies/{policy_id}")
def get_policy(
    policy_id: UUID, user: Annotated[CurrentUser, Depends(current_user)], session: Annotated[Session, Depends(get_session)]
) -> dict:
    policy = session.scalar(select(Policy).where(Policy.id == policy_id, Policy.holder_id == user.claimant_id))
    if policy is None:
        raise HTTPException(status_code=404)
    return policy.__dict__  # expect: data-min


@app.get("/internal/v1/claimants/{claimant_id}")
def underwriting_view(
    claimant_id: UUID, user: Annotated[CurrentUser, Depends(current_user)], session: Annotated[Session, Depends(get_session)]
) -> dict:
    user.require_role("adjuster")
    claimant = session.get(Claimant, claimant_id)
    return ClaimantRecord.model_validate(claimant).model_dump()  # expect: data-min


@app.put("/v1/claims/{claim_id}/payout-card", status_code=204)
def set_payout_card(
    claim_id: UUID,
    body: PayoutCardIn,
    user: Annotated[CurrentUser, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
    vault: Annotated[CardVault, Depends(get_card_vault)],
) -> None:
    token = vault.tokenize(body.card_number, body.expiry_month, body.expiry_year)
    with session.begin():
        claim = session.scalar(select(Claim).where(Claim.id == claim_id, Claim.claimant_id == user.claimant_id))
        if claim is None:
            raise HTTPException(status_code=404)
        claim.payout_token = token
        claim.card_last4 = body.card_number[-4:]


@app.put("/v1/claims/{claim_id}/legacy-payout-card", status_code=204)
def set_payout_card_legacy(
    claim_id: UUID,
    body: PayoutCardIn,
    user: Annotated[CurrentUser, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
) -> None:
    with session.begin():
        claim = session.scalar(select(Claim).where(Claim.id == claim_id, Claim.claimant_id == user.claimant_id))
        if claim is None:
            raise HTTPException(status_code=404)
        claim.payout_card_number = body.card_number  # expect: data-min
        claim.card_last4 = body.card_number[-4:]


def assign_adjuster(session: Session, claim: Claim, adjuster: Adjuster) -> None:
    claim.adjuster_id = adjuster.id
    CLAIMS_BY_ADJUSTER.labels(adjuster=adjuster.email).inc()  # expect: data-min
    logger.info("claim_assigned", extra={"claim_id": str(claim.id), "adjuster_id": str(adjuster.id)})


def analytics_row(claim: Claim, claimant: Claimant) -> dict:
    return {
        "claim_id": str(claim.id),
        "claimant_key": pseudonymize(claimant.email),
        "line_of_business": claim.line_of_business,
        "amount_band": int(claim.estimated_amount // 1000),
    }


def legacy_analytics_row(claim: Claim, claimant: Claimant) -> dict:
    return {
        "claim_id": str(claim.id),
        "claimant_key": hashlib.sha256(claimant.email.lower().encode()).hexdigest(),  # expect: data-min
        "line_of_business": claim.line_of_business,
    }


def export_claim_to_reinsurer(claim: Claim, body: ClaimIn, send: Callable[[dict], None]) -> None:
    try:
        send({"claim_id": str(claim.id), "amount": str(body.estimated_amount), "lob": body.line_of_business})
    except ConnectionError:
        logger.exception("reinsurer_export_failed", extra={"claim_id": str(claim.id), "body": body.model_dump(mode="json")})  # expect: data-min
        raise


def export_claim_to_broker(claim: Claim, send: Callable[[dict], None]) -> None:
    try:
        send({"claim_id": str(claim.id), "status": claim.status})
    except ConnectionError:
        logger.exception("broker_export_failed", extra={"claim_id": str(claim.id), "status": claim.status})
        raise
