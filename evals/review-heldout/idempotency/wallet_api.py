"""Wallet top-ups, withdrawals, peer transfers, refunds and subscriptions for a consumer fintech wallet."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

import httpx
from celery import Celery
from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from wallet.auth import User, current_user
from wallet.db import SessionLocal, get_session
from wallet.mailer import Mailer
from wallet.models import (
    IdempotencyKey,
    InboxMessage,
    LedgerEntry,
    NotificationSent,
    PaymentMethod,
    Subscription,
    TopUp,
    Transfer,
    Wallet,
)
from wallet.psp import PspClient, PspDeclined, PspTimeout, get_psp
from wallet.settings import settings

logger = logging.getLogger("wallet.api")
router = APIRouter(prefix="/v1")
celery = Celery("wallet", broker=settings.broker_url)

IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key", min_length=8, max_length=64)]
Money = Annotated[int, Field(strict=True, ge=100, le=1_000_000)]


class TopUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_minor: Money
    currency: Literal["EUR", "GBP", "USD"]
    payment_method_id: Annotated[str, Field(max_length=64)]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_wallet_id: uuid.UUID
    amount_minor: Money
    note: Annotated[str, Field(max_length=140)] = ""


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    top_up_id: uuid.UUID
    amount_minor: Money


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: Literal["plus", "premium"]


class FxQuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sell: Literal["EUR", "GBP", "USD"]
    buy: Literal["EUR", "GBP", "USD"]
    amount_minor: Money


class PaymentMethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    psp_token: Annotated[str, Field(max_length=64)]
    label: Annotated[str, Field(max_length=40)]


def fingerprint(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _complete(session: Session, tenant: str, route: str, key: str, code: int, body: dict) -> None:
    with session.begin():
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.tenant == tenant, IdempotencyKey.route == route, IdempotencyKey.key == key)
            .values(status="completed", response_code=code, response_body=body, completed_at=datetime.now(UTC))
        )


@router.post("/wallets/{wallet_id}/top-ups", status_code=201)
def create_top_up(
    wallet_id: uuid.UUID,
    body: TopUpIn,
    idempotency_key: IdemHeader,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
    psp: Annotated[PspClient, Depends(get_psp)],
) -> JSONResponse:
    if not idempotency_key:
        raise HTTPException(status_code=400, detail="idempotency_key_required")
    user.require_wallet(wallet_id)
    route, req_hash = "POST /v1/wallets/{id}/top-ups", fingerprint(body)
    with session.begin():
        claimed = session.execute(
            pg_insert(IdempotencyKey)
            .values(tenant=user.tenant_id, route=route, key=idempotency_key, request_hash=req_hash, status="in_progress")
            .on_conflict_do_nothing()
        ).rowcount == 1
    if not claimed:
        with session.begin():
            record = session.get(IdempotencyKey, (user.tenant_id, route, idempotency_key))
        if record.request_hash != req_hash:
            return JSONResponse({"code": "idempotency_key_reused"}, status_code=422)
        if record.status == "in_progress":
            return JSONResponse({"code": "request_in_progress"}, status_code=409, headers={"Retry-After": "1"})
        return JSONResponse(record.response_body, status_code=record.response_code, headers={"Idempotent-Replayed": "true"})
    try:
        charge = psp.charge(
            amount=body.amount_minor, currency=body.currency, payment_method=body.payment_method_id,
            idempotency_key=f"{user.tenant_id}:{idempotency_key}",
        )
    except PspDeclined as exc:
        _complete(session, user.tenant_id, route, idempotency_key, 402, {"code": "declined", "reason": exc.code})
        return JSONResponse({"code": "declined", "reason": exc.code}, status_code=402)
    except PspTimeout:
        # Ambiguous: leave the key in_progress; the reconciler asks the PSP with the same key.
        raise HTTPException(status_code=503, detail="provider_timeout") from None
    top_up_id = uuid.uuid4()
    with session.begin():
        session.add(TopUp(id=top_up_id, wallet_id=wallet_id, amount_minor=body.amount_minor, charge_id=charge.id))
        session.add(LedgerEntry(wallet_id=wallet_id, amount_minor=body.amount_minor, ref=str(top_up_id)))
    response = {"id": str(top_up_id), "charge_id": charge.id}
    _complete(session, user.tenant_id, route, idempotency_key, 201, response)
    return JSONResponse(response, status_code=201)


@router.post("/wallets/{wallet_id}/top-ups/express", status_code=201)
def create_express_top_up(
    wallet_id: uuid.UUID,
    body: TopUpIn,
    idempotency_key: IdemHeader,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
    psp: Annotated[PspClient, Depends(get_psp)],
) -> dict[str, str]:
    if not idempotency_key:
        raise HTTPException(status_code=400, detail="idempotency_key_required")
    user.require_wallet(wallet_id)
    route = "POST /v1/wallets/{id}/top-ups/express"
    with session.begin():
        claimed = session.execute(
            pg_insert(IdempotencyKey)
            .values(tenant=user.tenant_id, route=route, key=idempotency_key, request_hash=fingerprint(body), status="in_progress")
            .on_conflict_do_nothing()
        ).rowcount == 1
    if not claimed:
        raise HTTPException(status_code=409, detail="request_in_progress_or_done", headers={"Retry-After": "1"})
    try:
        charge = psp.charge(
            amount=body.amount_minor, currency=body.currency, payment_method=body.payment_method_id,
            idempotency_key=f"{user.tenant_id}:{idempotency_key}",
        )
    except PspTimeout:
        with session.begin():
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.tenant == user.tenant_id, IdempotencyKey.route == route, IdempotencyKey.key == idempotency_key))  # expect: idempotency
        raise HTTPException(status_code=503, detail="provider_timeout") from None
    _complete(session, user.tenant_id, route, idempotency_key, 201, {"charge_id": charge.id})
    return {"charge_id": charge.id}


@router.post("/wallets/{wallet_id}/withdrawals", status_code=201)
def create_withdrawal(wallet_id: uuid.UUID, body: TopUpIn, user: Annotated[User, Depends(current_user)], session: Annotated[Session, Depends(get_session)], psp: Annotated[PspClient, Depends(get_psp)]) -> dict[str, str]:  # expect: idempotency
    user.require_wallet(wallet_id)
    with session.begin():
        wallet = session.get(Wallet, wallet_id, with_for_update=True)
        if wallet.balance_minor < body.amount_minor:
            raise HTTPException(status_code=409, detail="insufficient_funds")
        wallet.balance_minor -= body.amount_minor
    payout = psp.payout(amount=body.amount_minor, currency=body.currency, destination=body.payment_method_id)
    return {"payout_id": payout.id}


@router.post("/transfers", status_code=201)
def create_transfer(body: TransferIn, user: Annotated[User, Depends(current_user)], session: Annotated[Session, Depends(get_session)]) -> dict[str, str]:  # expect: idempotency
    transfer_id = uuid.uuid4()
    with session.begin():
        session.add(Transfer(id=transfer_id, from_wallet_id=user.wallet_id, to_wallet_id=body.to_wallet_id, amount_minor=body.amount_minor))
        session.add(LedgerEntry(wallet_id=user.wallet_id, amount_minor=-body.amount_minor, ref=str(transfer_id)))
        session.add(LedgerEntry(wallet_id=body.to_wallet_id, amount_minor=body.amount_minor, ref=str(transfer_id)))
    return {"id": str(transfer_id)}


@router.post("/transfers/scheduled", status_code=201)
def create_scheduled_transfer(
    body: TransferIn,
    idempotency_key: IdemHeader,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
) -> dict[str, str]:
    if idempotency_key is None:
        with session.begin():
            return _insert_scheduled(session, user, body)  # expect: idempotency
    route, req_hash = "POST /v1/transfers/scheduled", fingerprint(body)
    with session.begin():
        # Claim, effect and stored response commit atomically: no external side effect is involved.
        claimed = session.execute(
            pg_insert(IdempotencyKey)
            .values(tenant=user.tenant_id, route=route, key=idempotency_key, request_hash=req_hash, status="in_progress")
            .on_conflict_do_nothing()
        ).rowcount == 1
        if claimed:
            response = _insert_scheduled(session, user, body)
            session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.tenant == user.tenant_id, IdempotencyKey.route == route, IdempotencyKey.key == idempotency_key)
                .values(status="completed", response_code=201, response_body=response)
            )
            return response
        record = session.get(IdempotencyKey, (user.tenant_id, route, idempotency_key))
    if record.request_hash != req_hash:
        raise HTTPException(status_code=422, detail="idempotency_key_reused")
    return record.response_body


def _insert_scheduled(session: Session, user: User, body: TransferIn) -> dict[str, str]:
    transfer_id = uuid.uuid4()
    session.add(Transfer(id=transfer_id, from_wallet_id=user.wallet_id, to_wallet_id=body.to_wallet_id, amount_minor=body.amount_minor, status="scheduled"))
    return {"id": str(transfer_id)}


@router.post("/refunds", status_code=201)
def create_refund(
    body: RefundIn,
    idempotency_key: IdemHeader,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
    psp: Annotated[PspClient, Depends(get_psp)],
) -> dict[str, str]:
    if not idempotency_key:
        raise HTTPException(status_code=400, detail="idempotency_key_required")
    with session.begin():
        claimed = session.execute(
            pg_insert(IdempotencyKey).values(key=idempotency_key, request_hash=fingerprint(body), status="in_progress").on_conflict_do_nothing()  # expect: idempotency
        ).rowcount == 1
        top_up = session.scalar(select(TopUp).where(TopUp.id == body.top_up_id, TopUp.wallet_id == user.wallet_id))
    if not claimed:
        raise HTTPException(status_code=409, detail="duplicate_request")
    if top_up is None:
        raise HTTPException(status_code=404)
    refund = psp.refund(charge_id=top_up.charge_id, amount=body.amount_minor)  # expect: idempotency
    return {"refund_id": refund.id}


@router.post("/subscriptions", status_code=201)
def create_subscription(
    body: SubscriptionIn,
    idempotency_key: IdemHeader,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
    psp: Annotated[PspClient, Depends(get_psp)],
) -> dict[str, str]:
    if not idempotency_key:
        raise HTTPException(status_code=400, detail="idempotency_key_required")
    existing = session.scalar(select(Subscription).where(Subscription.user_id == user.id, Subscription.idempotency_key == idempotency_key))  # expect: idempotency
    if existing is not None:
        return {"id": str(existing.id)}
    psp_sub = psp.subscribe(customer=user.psp_customer_id, plan=body.plan, idempotency_key=f"{user.tenant_id}:{idempotency_key}")
    with session.begin():
        sub = Subscription(user_id=user.id, plan=body.plan, psp_subscription_id=psp_sub.id, idempotency_key=idempotency_key)
        session.add(sub)
    return {"id": str(sub.id)}


@router.put("/payment-methods/{payment_method_id}", status_code=200)
def upsert_payment_method(
    payment_method_id: uuid.UUID,
    body: PaymentMethodIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
) -> dict[str, str]:
    with session.begin():
        session.execute(
            pg_insert(PaymentMethod)
            .values(id=payment_method_id, user_id=user.id, psp_token=body.psp_token, label=body.label)
            .on_conflict_do_update(index_elements=["id"], set_={"label": body.label}, where=PaymentMethod.user_id == user.id)
        )
    return {"id": str(payment_method_id)}


@router.post("/quotes/fx")
def quote_fx(body: FxQuoteIn, user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
    rate = settings.fx_table[(body.sell, body.buy)]
    return {"buy_amount_minor": str((Decimal(body.amount_minor) * rate).quantize(Decimal(1)))}


@router.get("/wallets/{wallet_id}/balance")
def get_balance(
    wallet_id: uuid.UUID, user: Annotated[User, Depends(current_user)], session: Annotated[Session, Depends(get_session)]
) -> dict[str, int]:
    user.require_wallet(wallet_id)
    wallet = session.get(Wallet, wallet_id)
    return {"balance_minor": wallet.balance_minor}


class PayoutSettled(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    event_id: uuid.UUID
    payout_id: Annotated[str, Field(max_length=64)]
    wallet_id: uuid.UUID
    fee_minor: Annotated[int, Field(ge=0)]


class Chargeback(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    event_id: uuid.UUID
    wallet_id: uuid.UUID
    amount_minor: Annotated[int, Field(gt=0)]


def handle_payout_settled(session: Session, raw: bytes) -> None:  # expect: idempotency
    """Kafka consumer for psp.payout-settled.v1 (at-least-once)."""
    event = PayoutSettled.model_validate_json(raw)
    with session.begin():
        session.add(LedgerEntry(wallet_id=event.wallet_id, amount_minor=-event.fee_minor, ref=event.payout_id))


def handle_chargeback(session: Session, raw: bytes) -> None:
    """Kafka consumer for psp.chargeback.v1 (at-least-once), deduplicated by event id."""
    event = Chargeback.model_validate_json(raw)
    with session.begin():
        first = session.execute(
            pg_insert(InboxMessage).values(event_id=event.event_id).on_conflict_do_nothing()
        ).rowcount == 1
        if not first:
            return
        session.add(LedgerEntry(wallet_id=event.wallet_id, amount_minor=-event.amount_minor, ref=str(event.event_id)))


@celery.task(name="wallet.send_receipt", acks_late=True, autoretry_for=(ConnectionError,), max_retries=5, retry_backoff=True)
def send_receipt(top_up_id: str) -> None:  # expect: idempotency
    Mailer.from_settings().send_template("top_up_receipt", ref=top_up_id)


@celery.task(name="wallet.send_statement", acks_late=True, autoretry_for=(ConnectionError,), max_retries=5, retry_backoff=True)
def send_statement(wallet_id: str, month: str) -> None:
    with SessionLocal() as session, session.begin():
        first = session.execute(
            pg_insert(NotificationSent).values(kind="statement", ref=f"{wallet_id}:{month}").on_conflict_do_nothing()
        ).rowcount == 1
    if first:
        Mailer.from_settings().send_template("monthly_statement", ref=f"{wallet_id}:{month}", idempotency_key=f"statement-{wallet_id}-{month}")


class PartnerBankClient:
    def __init__(self) -> None:
        self.http = httpx.Client(base_url=settings.partner_bank_url, timeout=httpx.Timeout(5.0, connect=1.0, pool=1.0))

    def push_funds(self, iban: str, amount_minor: int) -> str:
        for attempt in range(3):
            headers = {"Idempotency-Key": str(uuid.uuid4())}  # expect: idempotency
            try:
                resp = self.http.post("/credit-transfers", json={"iban": iban, "amount": amount_minor}, headers=headers)
                resp.raise_for_status()
                return resp.json()["id"]
            except httpx.TransportError:
                if attempt == 2:
                    raise
                time.sleep(random.uniform(0, 0.2 * 2**attempt))
        raise RuntimeError("unreachable")

    def push_funds_safely(self, transfer_id: uuid.UUID, iban: str, amount_minor: int) -> str:
        headers = {"Idempotency-Key": f"push-{transfer_id}"}  # one key per intent, reused by every attempt
        for attempt in range(3):
            try:
                resp = self.http.post("/credit-transfers", json={"iban": iban, "amount": amount_minor}, headers=headers)
                resp.raise_for_status()
                return resp.json()["id"]
            except httpx.TransportError:
                if attempt == 2:
                    raise
                time.sleep(random.uniform(0, 0.2 * 2**attempt))
        raise RuntimeError("unreachable")
