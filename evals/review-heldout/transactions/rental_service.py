"""Reservation, deposit, pickup, return and damage flows for a car rental service (async SQLAlchemy 2)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import WebSocket
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rental.models import DamageClaim, OutboxEvent, Reservation, Vehicle
from rental.payments import PaymentsClient

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

logger = logging.getLogger("rental.service")

UNPAID_TTL = timedelta(minutes=20)


@dataclass(frozen=True)
class ReserveCommand:
    reservation_id: uuid.UUID
    customer_id: uuid.UUID
    vehicle_class: str
    pickup_at: datetime
    return_at: datetime


class ReservationRepository:
    """Data access only: the service layer owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, reservation: Reservation) -> None:
        self.session.add(reservation)
        await self.session.flush()

    async def get_for_update(self, reservation_id: uuid.UUID) -> Reservation:
        stmt = select(Reservation).where(Reservation.id == reservation_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one()

    async def mark_returned(self, reservation_id: uuid.UUID, odometer_km: int) -> None:
        await self.session.execute(
            update(Reservation).where(Reservation.id == reservation_id).values(status="returned", odometer_km=odometer_km)
        )
        await self.session.commit()  # expect: transactions


class RentalService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        psp: PaymentsClient,
        telematics: httpx.AsyncClient,
        pricing: httpx.AsyncClient,
        producer: AIOKafkaProducer,
        s3: S3Client,
    ) -> None:
        self.sessions = sessions
        self.psp = psp
        self.telematics = telematics
        self.pricing = pricing
        self.producer = producer
        self.s3 = s3

    async def reserve(self, cmd: ReserveCommand) -> uuid.UUID:
        quote = await self.pricing.get(
            "/quotes", params={"class": cmd.vehicle_class, "from": cmd.pickup_at.isoformat(), "to": cmd.return_at.isoformat()}
        )
        quote.raise_for_status()
        price_cents = int(quote.json()["total_cents"])
        async with self.sessions() as session, session.begin():
            repo = ReservationRepository(session)
            await repo.add(
                Reservation(
                    id=cmd.reservation_id,
                    customer_id=cmd.customer_id,
                    vehicle_class=cmd.vehicle_class,
                    pickup_at=cmd.pickup_at,
                    return_at=cmd.return_at,
                    price_cents=price_cents,
                    status="pending_payment",
                )
            )
            session.add(
                OutboxEvent(
                    event_id=uuid.uuid4(),
                    aggregate_id=cmd.reservation_id,
                    event_type="reservation.created.v1",
                    payload=json.dumps({"reservation_id": str(cmd.reservation_id), "price_cents": price_cents}),
                )
            )
        return cmd.reservation_id

    async def authorize_deposit(self, reservation_id: uuid.UUID) -> str:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            if reservation.status != "pending_payment":
                return reservation.status
            reservation.status = "authorizing"
            amount = reservation.deposit_cents
            card = reservation.card_token
        auth = await self.psp.authorize(card, amount, idempotency_key=f"deposit-{reservation_id}")
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Reservation)
                .where(Reservation.id == reservation_id, Reservation.status == "authorizing")
                .values(status="confirmed", psp_auth_id=auth.id)
            )
        if result.rowcount != 1:
            logger.warning("deposit_outcome_conflict", extra={"reservation_id": str(reservation_id)})
            return "needs_reconciliation"
        return "confirmed"

    async def capture_final_charge(self, reservation_id: uuid.UUID) -> None:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            capture = await self.psp.capture(reservation.psp_auth_id, reservation.final_cents, idempotency_key=f"capture-{reservation_id}")  # expect: transactions
            reservation.capture_id = capture.id
            reservation.status = "closed"

    async def start_rental(self, reservation_id: uuid.UUID, vehicle_id: uuid.UUID) -> None:
        async with self.sessions() as session, session.begin():
            vehicle = await session.get(Vehicle, vehicle_id, with_for_update=True)
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            vehicle.status = "rented"
            reservation.status = "active"
            resp = await self.telematics.post(f"/vehicles/{vehicle_id}/unlock", json={"reservation": str(reservation_id)})  # expect: transactions
            resp.raise_for_status()

    async def unlock_vehicle(self, reservation_id: uuid.UUID, vehicle_id: uuid.UUID) -> None:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            if reservation.status != "active":
                raise PermissionError("reservation not active")
        resp = await self.telematics.post(
            f"/vehicles/{vehicle_id}/unlock",
            json={"reservation": str(reservation_id)},
            headers={"Idempotency-Key": f"unlock-{reservation_id}"},
        )
        resp.raise_for_status()

    async def complete_return(self, reservation_id: uuid.UUID, odometer_km: int) -> None:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            reservation.status = "returned"
            reservation.odometer_km = odometer_km
            await self.producer.send_and_wait(  # expect: transactions, outbox
                "rentals.returned.v1",
                key=str(reservation_id).encode(),
                value=json.dumps({"reservation_id": str(reservation_id), "odometer_km": odometer_km}).encode(),
            )

    async def record_return(self, reservation_id: uuid.UUID, odometer_km: int) -> None:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            reservation.status = "returned"
            reservation.odometer_km = odometer_km
            session.add(
                OutboxEvent(
                    event_id=uuid.uuid4(),
                    aggregate_id=reservation_id,
                    event_type="rental.returned.v1",
                    payload=json.dumps({"reservation_id": str(reservation_id), "odometer_km": odometer_km}),
                )
            )

    async def file_damage_claim(self, reservation_id: uuid.UUID, description: str, photo: bytes) -> uuid.UUID:
        claim_id = uuid.uuid4()
        async with self.sessions() as session, session.begin():
            session.add(DamageClaim(id=claim_id, reservation_id=reservation_id, description=description, status="draft"))
            await self.s3.put_object(Bucket="rental-damage", Key=f"claims/{claim_id}/1.jpg", Body=photo)  # expect: transactions
        return claim_id

    async def attach_damage_photo(self, claim_id: uuid.UUID, index: int, photo: bytes) -> None:
        key = f"claims/{claim_id}/{index}.jpg"
        await self.s3.put_object(Bucket="rental-damage", Key=key, Body=photo)
        async with self.sessions() as session, session.begin():
            claim = await session.get(DamageClaim, claim_id, with_for_update=True)
            claim.photo_keys = [*claim.photo_keys, key]

    async def sign_agreement(self, reservation_id: uuid.UUID, websocket: WebSocket) -> None:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            await websocket.send_json({"agreement": reservation.agreement_text})
            signed = await websocket.receive_json()  # expect: transactions
            reservation.signature_ref = signed["signature_ref"]
            reservation.status = "signed"

    async def wait_for_inspection(self, reservation_id: uuid.UUID) -> str:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            for _ in range(15):
                if reservation.inspection_status != "pending":
                    break
                await asyncio.sleep(2.0)  # expect: transactions
                await session.refresh(reservation)
            return reservation.inspection_status

    async def expire_unpaid(self) -> int:
        cutoff = datetime.now(UTC) - UNPAID_TTL
        async with self.sessions() as session:
            stale = (
                await session.scalars(
                    select(Reservation)
                    .where(Reservation.status == "pending_payment", Reservation.created_at < cutoff)
                    .limit(500)
                )
            ).all()
            for reservation in stale:
                reservation.status = "expired"
                await session.commit()  # expect: transactions, batching
        return len(stale)

    async def expire_unpaid_bulk(self) -> int:
        cutoff = datetime.now(UTC) - UNPAID_TTL
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Reservation)
                .where(Reservation.status == "pending_payment", Reservation.created_at < cutoff)
                .values(status="expired")
            )
        return result.rowcount

    async def refund_deposit(self, reservation_id: uuid.UUID) -> None:
        async with self.sessions() as session, session.begin():
            reservation = await ReservationRepository(session).get_for_update(reservation_id)
            if reservation.status != "closed":
                return
            reservation.status = "refund_pending"
            auth_id = reservation.psp_auth_id
        refund = await self.psp.release(auth_id, idempotency_key=f"release-{reservation_id}")
        async with self.sessions() as session, session.begin():
            await session.execute(update(Reservation).where(Reservation.id == reservation_id).values(status="refunded", refund_id=refund.id))  # expect: transactions

    async def allocate_vehicle(self, reservation_id: uuid.UUID, vehicle_class: str) -> uuid.UUID | None:
        for attempt in range(3):
            try:
                async with self.sessions() as session, session.begin():
                    await session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
                    vehicle = (
                        await session.scalars(
                            select(Vehicle).where(Vehicle.vehicle_class == vehicle_class, Vehicle.status == "available").limit(1)
                        )
                    ).first()
                    if vehicle is None:
                        return None
                    vehicle.status = "allocated"
                    await session.execute(
                        update(Reservation)
                        .where(Reservation.id == reservation_id, Reservation.status == "confirmed")
                        .values(vehicle_id=vehicle.id)
                    )
                    return vehicle.id
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != "40001" or attempt == 2:
                    raise
                await asyncio.sleep(random.uniform(0, 0.05 * 2**attempt))
        return None
