"""Payments API and its consumers: charges, refunds, transfers, receipts and ledger postings."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Header, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from .db import get_session
from .models import IdempotencyRecord, LedgerEntry, Payment, ProcessedMessage, Subscription, Transfer
from .providers import mailer, psp

logger = logging.getLogger(__name__)
router = APIRouter()

IdemKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=64)]


class ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(max_length=64)
    amount_minor: int = Field(strict=True, gt=0, le=10_000_000)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(max_length=64)
    amount_minor: int = Field(strict=True, gt=0)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_account: str = Field(max_length=64)
    to_account: str = Field(max_length=64)
    amount_minor: int = Field(strict=True, gt=0)


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: int = Field(strict=True, gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(max_length=32)


def fingerprint(body: BaseModel) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


@router.post("/v1/charges")
def create_charge(body: ChargeIn, session: Session = Depends(get_session)) -> dict:
    charge = psp.charge(amount=body.amount_minor, currency=body.currency, reference=body.order_id)  # expect: idempotency
    with session.begin():
        session.add(Payment(order_id=body.order_id, charge_id=charge.id, amount_minor=body.amount_minor))
    return {"charge_id": charge.id}


@router.post("/v1/charges/retry-safe")
def create_charge_per_attempt_key(body: ChargeIn, session: Session = Depends(get_session)) -> dict:
    charge = psp.charge(amount=body.amount_minor, currency=body.currency, reference=body.order_id, idempotency_key=str(uuid.uuid4()))  # expect: idempotency
    with session.begin():
        session.add(Payment(order_id=body.order_id, charge_id=charge.id, amount_minor=body.amount_minor))
    return {"charge_id": charge.id}


@router.post("/v2/charges")
def create_charge_v2(body: ChargeIn, response: Response, idempotency_key: IdemKey, tenant_id: Annotated[str, Header(alias="X-Tenant-Id", max_length=64)], session: Session = Depends(get_session)) -> dict:
    fp = fingerprint(body)
    with session.begin():
        claimed = session.execute(
            pg_insert(IdempotencyRecord)
            .values(tenant_id=tenant_id, route="POST /v2/charges", key=idempotency_key, fingerprint=fp, status="in_progress")
            .on_conflict_do_nothing()
        ).rowcount
    if not claimed:
        record = session.get(IdempotencyRecord, (tenant_id, "POST /v2/charges", idempotency_key))
        if record.fingerprint != fp:
            raise HTTPException(status_code=422, detail="idempotency_key_reused")
        if record.status == "in_progress":
            raise HTTPException(status_code=409, headers={"Retry-After": "1"})
        response.headers["Idempotent-Replayed"] = "true"
        return record.response_body
    charge = psp.charge(amount=body.amount_minor, currency=body.currency, reference=body.order_id, idempotency_key=f"{tenant_id}:{idempotency_key}")
    result = {"charge_id": charge.id}
    with session.begin():
        session.add(Payment(order_id=body.order_id, charge_id=charge.id, amount_minor=body.amount_minor))
        session.execute(
            text("UPDATE idempotency_records SET status = 'completed', response_body = :b WHERE tenant_id = :t AND route = :r AND key = :k"),
            {"b": json.dumps(result), "t": tenant_id, "r": "POST /v2/charges", "k": idempotency_key},
        )
    return result


@router.post("/v1/refunds")
def create_refund(body: RefundIn, session: Session = Depends(get_session)) -> dict:
    refund = psp.refund(payment_id=body.payment_id, amount=body.amount_minor)  # expect: idempotency
    return {"refund_id": refund.id}


@router.post("/v1/transfers")
def create_transfer(body: TransferIn, session: Session = Depends(get_session)) -> dict:
    transfer = Transfer(id=f"tr_{uuid.uuid4().hex}", from_account=body.from_account, to_account=body.to_account, amount_minor=body.amount_minor)
    with session.begin():
        session.add(transfer)  # expect: idempotency
    return {"transfer_id": transfer.id}


@router.post("/v2/transfers")
def create_transfer_v2(body: TransferIn, idempotency_key: IdemKey, session: Session = Depends(get_session)) -> dict:
    with session.begin():
        row = session.execute(
            pg_insert(Transfer)
            .values(id=f"tr_{uuid.uuid4().hex}", idempotency_key=idempotency_key, from_account=body.from_account, to_account=body.to_account, amount_minor=body.amount_minor)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Transfer.id)
        ).scalar_one_or_none()
        if row is None:
            row = session.execute(text("SELECT id FROM transfers WHERE idempotency_key = :k"), {"k": idempotency_key}).scalar_one()
    return {"transfer_id": row}


@router.post("/v1/payments/{payment_id}/receipt")
def send_receipt(payment_id: str, session: Session = Depends(get_session)) -> dict:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise HTTPException(status_code=404)
    mailer.send(template="receipt", to_user_id=payment.user_id, context={"payment_id": payment_id})  # expect: idempotency
    return {"status": "sent"}


@router.post("/v1/quotes")
def quote_fee(body: QuoteIn) -> dict:
    fee = max(30, body.amount_minor * 29 // 1000)
    return {"fee_minor": fee, "currency": body.currency}


@router.post("/v1/payments/search")
def search_payments(body: QuoteIn, session: Session = Depends(get_session)) -> list[dict]:
    rows = session.execute(text("SELECT id, amount_minor FROM payments WHERE amount_minor = :a AND currency = :c LIMIT 50"), {"a": body.amount_minor, "c": body.currency}).mappings().all()
    return [dict(r) for r in rows]


@router.put("/v1/subscriptions/{subscription_id}")
def upsert_subscription(subscription_id: str, body: SubscriptionIn, session: Session = Depends(get_session)) -> dict:
    with session.begin():
        session.execute(
            pg_insert(Subscription).values(id=subscription_id, plan=body.plan).on_conflict_do_update(index_elements=["id"], set_={"plan": body.plan})
        )
    return {"id": subscription_id, "plan": body.plan}


@router.post("/v1/subscriptions")
def create_subscription(body: SubscriptionIn, session: Session = Depends(get_session)) -> dict:
    sub_id = f"sub_{uuid.uuid4().hex}"
    with session.begin():
        session.execute(insert(Subscription).values(id=sub_id, plan=body.plan))  # expect: idempotency
    return {"id": sub_id}


@router.patch("/v1/payments/{payment_id}")
def update_payment_note(payment_id: str, note: Annotated[str, Header(alias="X-Note", max_length=200)], session: Session = Depends(get_session)) -> dict:
    with session.begin():
        session.execute(text("UPDATE payments SET note = :n WHERE id = :id"), {"n": note, "id": payment_id})
    return {"id": payment_id}


def handle_ledger_message(session: Session, message: dict) -> None:
    with session.begin():
        session.execute(insert(LedgerEntry).values(account_id=message["account_id"], amount_minor=message["amount_minor"], reference=message["reference"]))  # expect: idempotency


def handle_ledger_message_deduped(session: Session, message: dict) -> None:
    with session.begin():
        fresh = session.execute(pg_insert(ProcessedMessage).values(message_id=message["message_id"], consumer="ledger").on_conflict_do_nothing()).rowcount
        if not fresh:
            return
        session.execute(insert(LedgerEntry).values(account_id=message["account_id"], amount_minor=message["amount_minor"], reference=message["reference"]))


def handle_payout_requested(http: httpx.Client, message: dict) -> None:
    resp = http.post("/payouts", json={"account_id": message["account_id"], "amount_minor": message["amount_minor"]})  # expect: idempotency
    resp.raise_for_status()


def handle_payout_requested_keyed(http: httpx.Client, message: dict) -> None:
    resp = http.post("/payouts", json={"account_id": message["account_id"], "amount_minor": message["amount_minor"]}, headers={"Idempotency-Key": f"payout-{message['message_id']}"})
    resp.raise_for_status()
