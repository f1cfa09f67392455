"""Personal data in logs: raw emails, phone numbers, card numbers and IPs are flagged; ids, counts,
masked or hashed values and network addresses are not."""

import hashlib
import logging

import structlog

logger = logging.getLogger(__name__)
log = structlog.get_logger()


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def hash_email(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()


def register(user, form, request) -> None:
    logger.info("registered user %s", user.email)  # expect: data-min
    logger.info("verification sms sent to %s", user.phone_number)  # expect: data-min
    log.info("signup.completed", email=form["email"], plan=form["plan"])  # expect: data-min
    logger.info("signup from %s", request.client_ip)  # expect: data-min
    logger.info(f"welcome mail queued for {user.email}")  # expect: data-min, structured-logs


def charge_failed(customer, payment) -> None:
    logger.warning("card declined: %s", payment["card_number"])  # expect: data-min
    logger.error("sepa debit failed for %s", customer.iban)  # expect: data-min
    contact = {"email": customer.email, "plan": payment["plan"]}
    logger.warning("dunning mail bounced", extra=contact)  # expect: data-min
    logger.debug("retrying charge for %s", customer.email)  # DEBUG: production does not emit it
    logger.info("refund issued to %s", customer.full_name)  # expect: data-min
    log.info(
        "shipping.updated",
        order_id=payment["order_id"],
        shipping_address=customer.shipping_address,  # expect: data-min
    )


def clean_logging(user, emails_sent: int, has_email: bool, address: str) -> None:
    logger.info("registered user %s", user.id)
    logger.info("sent %d emails, email_count=%d", emails_sent, user.email_count)
    logger.info("user %s has_email=%s", user.id, has_email)
    log.info("signup.completed", email=mask_email(user.email))
    logger.info("lookup by email hash %s", hash_email(user.email))
    logger.info("listening on %s", address)
    log.info("profile.updated", user_id=user.id, email_verified=user.email_verified)


def build_extension(ext) -> None:
    logger.info("writing stub loader for %s", ext._full_name)
