"""Charges customers and logs what happened."""

import logging

log = logging.getLogger("billing")


def charge(customer: str, cents: int, attempts: list[str]) -> bool:
    log.info(f"charging {customer} {cents / 100:.2f} EUR")
    if cents <= 0:
        log.warning("refusing %s for %s: not positive" % (customer, cents))
        return False
    attempts.append(customer)
    log.info("attempt {} for {!r}".format(len(attempts), customer))
    log.debug("charged " + customer)
    log.info(
        f"done: {customer} at 100% of {cents}",  # the fee is waived
    )
    return True
