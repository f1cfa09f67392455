"""A text log format in a service's basicConfig is flagged; JSON formats and handler-based
setups are not (nor CLIs: this module is a Celery worker's entry point)."""

import logging

from celery import Celery
from pythonjsonlogger.json import JsonFormatter

app = Celery("reports")


def configure_plain() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")  # expect: structured-logs


def configure_worker() -> None:
    logging.basicConfig(format="[%(process)d] %(name)s: %(message)s")  # expect: structured-logs


def configure_json() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def configure_json_template() -> None:
    logging.basicConfig(format='{"time": "%(asctime)s", "message": "%(message)s"}')


def configure_level_only() -> None:
    logging.basicConfig(level=logging.WARNING)
