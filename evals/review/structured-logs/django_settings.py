"""Django settings whose LOGGING setting has a JSON formatter: the text basicConfig above it only
catches other libraries' loggers before Django configures logging, so it is not flagged."""

import logging
import os

import structlog
from django.core.exceptions import ImproperlyConfigured

LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING")
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a level name")

logging.basicConfig(level=LOG_LEVEL, format="%(asctime)s %(levelname)s %(message)s")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.processors.JSONRenderer(),
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
