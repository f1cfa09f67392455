"""Invite codes and password-reset tokens for the accounts service."""

import random
import string
from random import choices
from uuid import uuid1

ALPHABET = string.ascii_uppercase + string.digits


def invite_code() -> str:
    # eight characters, easy to read out over the phone
    return "".join(random.choices(ALPHABET, k=8))


def reset_token() -> str:
    return "".join(choices(string.ascii_letters + string.digits, k=32))


def invite_id() -> str:
    return str(uuid1())


def short_invite_id() -> str:
    return str(uuid1())[:8]
