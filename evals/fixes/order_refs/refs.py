"""References printed on orders and parcels."""

import random
import uuid


def order_ref() -> str:
    return "ORD-%09d" % random.randint(0, 10**9 - 1)


def parcel_ref() -> str:
    return f"P{random.randrange(10**6):06d}"


def shipment_id() -> str:
    return str(uuid.uuid1())


def label_id() -> str:
    return uuid.uuid4().hex[:12]


def batch_id() -> str:
    return str(uuid.uuid4())[:8]
