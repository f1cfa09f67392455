"""Django settings: mail goes over SMTP to the server the environment names."""

import os

INSTALLED_APPS = ["django.contrib.auth", "accounts"]

DEBUG = os.environ.get("DEBUG") == "1"
if DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_USE_TLS = False
