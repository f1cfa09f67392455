"""Django settings: staff sign in through mozilla-django-oidc when the environment turns it on."""

import os

INSTALLED_APPS = ["django.contrib.auth", "mozilla_django_oidc", "staff"]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

if os.environ.get("ENABLE_OIDC") == "1":
    AUTHENTICATION_BACKENDS.append("mozilla_django_oidc.auth.OIDCAuthenticationBackend")
    OIDC_OP_TOKEN_ENDPOINT = os.environ["OIDC_OP_TOKEN_ENDPOINT"]
    OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "staff")
