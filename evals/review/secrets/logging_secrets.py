"""Credentials in logs: tokens, passwords, API keys, auth headers and cookies are flagged; their
lengths, expiry times, redacted forms, policies and tokenizer/pagination tokens are not."""

import logging

import structlog

logger = logging.getLogger(__name__)
log = structlog.get_logger()


def redact(value: str) -> str:
    return value[:4] + "..."


def authenticate(request, username: str, password: str, settings) -> None:
    logger.debug("auth header: %s", request.headers["Authorization"])  # expect: secrets
    log.warning("login.failed", username=username, password=password)  # expect: secrets
    logger.error(f"db login failed with {settings.DATABASE_PASSWORD}")  # expect: secrets, structured-logs
    logging.info("cookies: %s", request.cookies)  # expect: secrets, structured-logs
    logger.debug("forwarding %s", request.headers.get("X-Api-Key"))  # expect: secrets


class TokenClient:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.log = logging.getLogger("tokens")

    def refresh(self, access_token: str) -> None:
        self.log.info("refreshed token %s", access_token)  # expect: secrets
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        self.log.warning("userinfo failed", extra={"headers": headers})  # expect: secrets
        public = {"Accept": "application/json", "Authorization": "<redacted>"}
        self.log.warning("userinfo failed", extra={"headers": public})
        self.log.debug("calling api with key %s" % self.api_key)  # expect: secrets, structured-logs


def clean_logging(user_id: int, token: str, token_expiry: float, has_password: bool, usage, page) -> None:
    logger.info("token for %s expires at %s", user_id, token_expiry)
    logger.info("user %s has_password=%s", user_id, has_password)
    logger.debug("token length %d", len(token))
    log.info("session.refreshed", user_id=user_id, token=redact(token))
    logger.info("next page %s", page.next_page_token)
    logger.info("completion used %d tokens", usage.total_tokens)
    logger.info("password policy: %s", user_id)


def parse_features(value: str) -> None:
    for token in value.split(","):
        logger.warning("unknown feature flag %r", token.strip())
