"""mozilla-django-oidc with OIDC_TIMEOUT set, and another library's OIDC settings (social-auth
reads its own names): nothing to report."""

import os

INSTALLED_APPS = ["django.contrib.auth", "mozilla_django_oidc", "social_django"]

OIDC_OP_TOKEN_ENDPOINT = os.environ["OIDC_OP_TOKEN_ENDPOINT"]
OIDC_TIMEOUT = 10

SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = os.environ["SOCIAL_AUTH_OIDC_OIDC_ENDPOINT"]
