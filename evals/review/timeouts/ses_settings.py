"""Django settings whose mail goes through an HTTP API backend (no SMTP from this process), and
settings that bound SMTP with EMAIL_TIMEOUT, are fine."""

import os

INSTALLED_APPS = ["django.contrib.auth", "accounts"]

EMAIL_BACKEND = "django_ses.SESBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")  # kept for a local SMTP relay nobody enables
AWS_SES_REGION_NAME = os.environ.get("AWS_SES_REGION_NAME", "eu-west-1")
