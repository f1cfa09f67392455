"""Crash reports' web app: every user signs in through mozilla-django-oidc."""

import os

INSTALLED_APPS = ["django.contrib.auth", "mozilla_django_oidc", "reports"]
MIDDLEWARE = ["mozilla_django_oidc.middleware.SessionRefresh"]
AUTHENTICATION_BACKENDS = ["mozilla_django_oidc.auth.OIDCAuthenticationBackend"]

OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = 15 * 60
