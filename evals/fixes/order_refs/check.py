"""References keep their printed format; ids parse as before."""

import re
import uuid

import refs


def check() -> None:
    for _ in range(100):
        assert re.fullmatch(r"ORD-\d{9}", refs.order_ref())
        assert re.fullmatch(r"P\d{6}", refs.parcel_ref())
    assert uuid.UUID(refs.shipment_id())
    assert re.fullmatch(r"[0-9a-f]{12,32}", refs.label_id())
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f-]+)?", refs.batch_id())


if __name__ == "__main__":
    check()
