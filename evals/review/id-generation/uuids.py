"""uuid1 and uuid4 cut short as identifiers are flagged; whole uuid4s, short display prefixes
of existing ids and non-id uses are not."""

import uuid
from uuid import uuid1


def new_order_id() -> str:
    return str(uuid.uuid1())  # expect: id-generation


def new_device_id() -> str:
    device_id = uuid1().hex  # expect: id-generation
    return device_id


def new_invite_code() -> str:
    invite_code = uuid.uuid4().hex[:8]  # expect: id-generation
    return invite_code


def new_ticket_ref() -> str:
    ticket_ref = str(uuid.uuid4())[:6]  # expect: id-generation
    return ticket_ref


def new_payment_id() -> str:
    payment_id = str(uuid.uuid4())
    return payment_id


def short_label(order_id: str) -> str:
    return order_id[:8]


def scratch_dir_name() -> str:
    suffix = uuid.uuid4().hex[:8]
    return f"/tmp/build-{suffix}"


def whole_hex() -> str:
    request_id = uuid.uuid4().hex[:32]
    return request_id
