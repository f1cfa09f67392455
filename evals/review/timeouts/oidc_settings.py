"""Django settings that turn on mozilla-django-oidc from the environment and set no OIDC_TIMEOUT:
the library's token and userinfo requests then wait forever on an identity provider that stops
answering, and every sign-in callback hangs with them."""

import os

INSTALLED_APPS = ["django.contrib.auth", "mozilla_django_oidc", "bookmarks"]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

if os.getenv("ENABLE_OIDC") == "1":
    AUTHENTICATION_BACKENDS.append("mozilla_django_oidc.auth.OIDCAuthenticationBackend")
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.getenv("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = os.getenv("OIDC_OP_TOKEN_ENDPOINT")  # expect: timeouts
    OIDC_OP_USER_ENDPOINT = os.getenv("OIDC_OP_USER_ENDPOINT")
    OIDC_RP_CLIENT_ID = os.getenv("OIDC_RP_CLIENT_ID")
