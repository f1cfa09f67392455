"""Booking references printed on tickets: exactly eight characters, by contract with the printer."""

import uuid


def booking_ref() -> str:
    return uuid.uuid4().hex[:8].upper()
