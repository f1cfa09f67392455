"""Writes an audit trail for account changes."""

import logging

logger = logging.getLogger("audit")


def changed(account: str, field: str, old: object, new: object, by: str) -> None:
    logger.info(f"account {account!r}: {field} {old!r} -> {new!r} by {by}")


def balance(account: str, cents: int) -> None:
    logger.info("balance of %(account)s is %(cents)d" % {"account": account, "cents": cents})
    logger.debug("ratio %.1f%% of limit" % (cents / 1000))
