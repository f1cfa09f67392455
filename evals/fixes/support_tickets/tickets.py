"""Ticket ids for the support desk, and the ids of the replies posted on them."""

import random


def ticket_id() -> str:
    return "T-%08d" % random.randint(0, 10**8 - 1)


def reply_id(ticket: str) -> str:
    reply_uid = random.randrange(10**6)
    return f"{ticket}/{reply_uid:06d}"
