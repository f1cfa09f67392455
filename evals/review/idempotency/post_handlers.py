"""POST handlers that create, charge, transfer, send or enqueue without an idempotency key are
flagged on that call; keyed, upserting, read-only and PUT handlers are not."""

import stripe
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from flask import Blueprint, request
from sqlalchemy.orm import Session

from .db import Order, get_db
from .mail import send_email
from .schemas import OrderIn, PaymentIn, ReportSpec, SearchIn, TransferIn
from .tasks import generate_report

app = FastAPI()
router = APIRouter()
bp = Blueprint("invites", __name__)


@router.post("/orders", status_code=201)
async def create_order(order: OrderIn, db: Session = Depends(get_db)):
    row = Order(**order.model_dump())
    db.add(row)  # expect: idempotency
    db.commit()  # expect: async-io
    return {"id": row.id}


@app.post("/payments")
def charge_card(payment: PaymentIn):
    charge = stripe.Charge.create(amount=payment.amount, currency="usd", source=payment.source)  # expect: idempotency
    return {"id": charge.id}


@bp.route("/invites", methods=["POST"])
def send_invite():
    send_email(to=request.form["email"], template="invite")  # expect: idempotency
    return "", 202


@app.post("/transfers")
async def transfer_funds(body: TransferIn, ledger=Depends()):
    await ledger.transfer(body.source, body.target, body.amount)  # expect: idempotency
    return {"status": "done"}


@app.post("/reports")
def request_report(spec: ReportSpec):
    job = generate_report.delay(spec.model_dump())  # expect: idempotency
    return {"job": job.id}


@router.post("/orders/v2", status_code=201)
async def create_order_keyed(
    order: OrderIn,
    idempotency_key: str = Header(alias="Idempotency-Key"),
    db: Session = Depends(get_db),
):
    existing = db.query(Order).filter_by(idempotency_key=idempotency_key).one_or_none()  # expect: async-io
    if existing is not None:
        return {"id": existing.id}
    row = Order(**order.model_dump(), idempotency_key=idempotency_key)
    db.add(row)
    db.commit()  # expect: async-io
    return {"id": row.id}


@app.post("/payments/v2")
def charge_card_keyed(payment: PaymentIn, request: Request):
    key = request.headers["Idempotency-Key"]
    intent = stripe.PaymentIntent.create(amount=payment.amount, currency="usd", idempotency_key=key)
    return {"id": intent.id}


@app.put("/orders/{order_id}")
def replace_order(order_id: int, order: OrderIn, db: Session = Depends(get_db)):
    db.merge(Order(id=order_id, **order.model_dump()))
    db.commit()
    return {"id": order_id}


@app.post("/search")
def search(query: SearchIn, db: Session = Depends(get_db)):
    return db.query(Order).filter(Order.sku == query.text).all()


@app.post("/subscriptions")
def subscribe(body: SearchIn, db: Session = Depends(get_db)):
    subscription, created = get_or_create(db, email=body.text)
    return {"created": created}


def get_or_create(db: Session, **fields: str) -> tuple[object, bool]:
    row = Order(**fields)
    db.add(row)
    return row, True
