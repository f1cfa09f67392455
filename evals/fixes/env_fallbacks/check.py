"""With the deployment's variables set, the configuration is the same."""

import os

os.environ.update(API_TOKEN="tok-prod-1", WEBHOOK_SIGNING_SECRET="whsec-prod-1")

import config  # noqa: E402 - after the environment is set, as a deployment does


def check() -> None:
    assert config.API_TOKEN == "tok-prod-1"
    assert config.DEBUG is False
    assert config.webhook_secret() == "whsec-prod-1"


if __name__ == "__main__":
    check()
