"""Django settings for django-auth-ldap: with no network timeout in the connection options, a
directory server that stops answering holds every login."""

import os

AUTHENTICATION_BACKENDS = [
    "django_auth_ldap.backend.LDAPBackend",
    "django.contrib.auth.backends.ModelBackend",
]

if os.environ.get("ENABLE_LDAP"):
    AUTH_LDAP_SERVER_URI = os.environ["LDAP_URI"]  # expect: timeouts
    AUTH_LDAP_BIND_DN = os.environ.get("LDAP_BIND_DN", "")
