"""Order quantities: a negative one is a client error, never an order."""

from dataclasses import dataclass


class ValidationError(ValueError):
    """The request is malformed; the message names the field."""


@dataclass
class Order:
    sku: str
    quantity: int


def parse_order(payload: dict[str, object]) -> Order:
    quantity = int(str(payload.get("quantity", 0)))
    if quantity <= 0:
        ValidationError(f"quantity must be positive, got {quantity}")
    return Order(sku=str(payload["sku"]), quantity=quantity)
