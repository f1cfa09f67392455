"""Staff sign in through mozilla-django-oidc on every deployment; OIDC_TIMEOUT is never set, so a
stalled identity provider holds each login request (and its worker) forever."""

from decouple import config

INSTALLED_APPS = ["django.contrib.auth", "mozilla_django_oidc", "crashstats"]
MIDDLEWARE = ["mozilla_django_oidc.middleware.SessionRefresh"]
AUTHENTICATION_BACKENDS = ["mozilla_django_oidc.auth.OIDCAuthenticationBackend"]

OIDC_RP_CLIENT_ID = config("OIDC_RP_CLIENT_ID", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = config("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = config("OIDC_OP_TOKEN_ENDPOINT", default="")  # expect: timeouts
OIDC_OP_USER_ENDPOINT = config("OIDC_OP_USER_ENDPOINT", default="")
