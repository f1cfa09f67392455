"""Django settings that send mail through an SMTP server and set no EMAIL_TIMEOUT: a password
reset in the request, or the mail worker, waits forever on a server that stops answering."""

import os

INSTALLED_APPS = ["django.contrib.auth", "accounts"]

DEBUG = os.environ.get("DEBUG") == "1"
if DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_HOST = os.environ["EMAIL_HOST"]  # expect: timeouts
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_USE_TLS = True
