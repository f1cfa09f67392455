"""Ids for uploaded files and share links."""

import uuid
from uuid import uuid4


def upload_id() -> str:
    return uuid.uuid4().hex[:10]


def share_token() -> str:
    return str(uuid4())[:8]
