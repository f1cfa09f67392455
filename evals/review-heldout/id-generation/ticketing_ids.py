"""Ticket issuance, transfers, promo codes and partner keys for an event ticketing platform (Django)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
import string
import time
import uuid
from datetime import timedelta

from django.db import connection, models, transaction
from django.utils import timezone
from ulid import ULID
from uuid6 import uuid7

logger = logging.getLogger("ticketing.ids")

ALPHABET = string.ascii_uppercase + string.digits
SEAT_MAP_THEMES = ("classic", "contrast", "compact")
TRANSFER_TTL = timedelta(minutes=30)


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField()


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid1, editable=False)  # expect: id-generation
    number = models.BigIntegerField(unique=True)
    customer_id = models.UUIDField()
    confirmation_code = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)


class Ticket(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT)
    event = models.ForeignKey(Event, on_delete=models.PROTECT)
    owner_id = models.UUIDField()
    barcode = models.CharField(max_length=64, unique=True)
    transfer_token_hash = models.CharField(max_length=64, null=True)
    transfer_token = models.CharField(max_length=64, null=True)  # expect: id-generation
    transfer_expires_at = models.DateTimeField(null=True)


class ShareLink(models.Model):
    # Public "join my group" links: v4 so the link does not reveal when the group was created.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


class PartnerKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    partner_id = models.UUIDField()
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)


def new_ulid() -> str:
    return str(ULID())


class ScanEvent(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_ulid)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    gate = models.CharField(max_length=16)


class TransferError(Exception):
    pass


def public_order_ref(order: Order) -> str:
    return f"ord_{order.id.hex}"


def parse_ticket_ref(raw: str) -> uuid.UUID:
    prefix, _, body = raw.partition("_")
    if prefix != "tkt" or len(body) != 32:
        raise ValueError("not a ticket reference")
    value = uuid.UUID(hex=body)
    if value.version != 7:
        raise ValueError("not a ticket reference")
    return value


def new_barcode() -> str:
    """Printed on the ticket and scanned at the gate; whoever knows it gets in."""
    return "".join(random.choices(ALPHABET, k=12))  # expect: id-generation


def new_gate_pass() -> str:
    return secrets.token_urlsafe(24)


def next_order_number() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM ticketing_order")  # expect: id-generation
        return cur.fetchone()[0]


def confirmation_code_for(number: int) -> str:
    return hashlib.sha256(str(number).encode()).hexdigest()[:8].upper()  # expect: id-generation


def issue_tickets(event: Event, customer_id: uuid.UUID, quantity: int) -> Order:
    with transaction.atomic():
        number = next_order_number()
        order = Order.objects.create(
            number=number, customer_id=customer_id, confirmation_code=confirmation_code_for(number)
        )
        Ticket.objects.bulk_create(
            [Ticket(order=order, event=event, owner_id=customer_id, barcode=new_gate_pass()) for _ in range(quantity)]
        )
    logger.info("tickets_issued", extra={"order_id": str(order.id), "quantity": quantity})
    return order


def hold_seats(event_id: uuid.UUID, seat_ids: list[str]) -> str:
    hold_id = f"hold_{random.random():.12f}"[-12:]  # expect: id-generation
    logger.info("seats_held", extra={"event_id": str(event_id), "hold_id": hold_id, "seats": len(seat_ids)})
    return hold_id


def new_print_batch_id() -> int:
    return int(time.time())  # expect: id-generation


def start_transfer(ticket: Ticket) -> str:
    token = secrets.token_urlsafe(32)
    ticket.transfer_token_hash = hashlib.sha256(token.encode()).hexdigest()
    ticket.transfer_expires_at = timezone.now() + TRANSFER_TTL
    ticket.save(update_fields=["transfer_token_hash", "transfer_expires_at"])
    return token


def accept_transfer(ticket: Ticket, presented: str, new_owner_id: uuid.UUID) -> None:
    if ticket.transfer_expires_at is None or ticket.transfer_expires_at < timezone.now():
        raise TransferError("expired")
    digest = hashlib.sha256(presented.encode()).hexdigest()
    if not hmac.compare_digest(digest, ticket.transfer_token_hash or ""):
        raise TransferError("invalid")
    ticket.owner_id = new_owner_id
    ticket.transfer_token_hash = None
    ticket.save(update_fields=["owner_id", "transfer_token_hash"])


def accept_legacy_transfer(ticket: Ticket, presented: str, new_owner_id: uuid.UUID) -> None:
    """Transfers created before the hashed-token migration."""
    if ticket.transfer_token == presented:  # expect: id-generation
        ticket.owner_id = new_owner_id
        ticket.transfer_token = None
        ticket.save(update_fields=["owner_id", "transfer_token"])
        return
    raise TransferError("invalid")


def issue_partner_key(partner_id: uuid.UUID) -> str:
    raw = f"tk_live_{secrets.token_urlsafe(32)}"
    PartnerKey.objects.create(
        partner_id=partner_id, key_hash=hashlib.sha256(raw.encode()).hexdigest(), prefix=raw[:12]
    )
    return raw


def issue_sandbox_key(partner_id: uuid.UUID) -> str:
    raw = f"tk_test_{secrets.token_hex(4)}"  # expect: id-generation
    PartnerKey.objects.create(
        partner_id=partner_id, key_hash=hashlib.sha256(raw.encode()).hexdigest(), prefix=raw[:12]
    )
    return raw


def new_promo_code() -> str:
    """Single-use 20%-off codes mailed to subscribers."""
    return "".join(random.sample(ALPHABET, 8))  # expect: id-generation


def new_staff_reset_token() -> str:
    return str(random.getrandbits(64))  # expect: id-generation


def new_device_pairing_code() -> str:
    return secrets.token_hex(16)


def pick_seat_map_theme() -> str:
    """Purely cosmetic A/B choice for the seat map, not an identifier."""
    return random.choice(SEAT_MAP_THEMES)


def scan_backoff_s(attempt: int) -> float:
    return random.uniform(0.0, min(2.0, 0.1 * 2**attempt))


def record_scan(ticket: Ticket, gate: str) -> ScanEvent:
    return ScanEvent.objects.create(ticket=ticket, gate=gate)


def epoch_now_ms() -> int:
    """Timestamp carried in the scan payload, next to the scan's own ULID."""
    return time.time_ns() // 1_000_000
