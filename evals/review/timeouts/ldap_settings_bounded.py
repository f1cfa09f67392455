"""Django settings for django-auth-ldap that bound every LDAP call: nothing to report."""

import os

import ldap

AUTH_LDAP_SERVER_URI = os.environ["LDAP_URI"]
AUTH_LDAP_CONNECTION_OPTIONS = {ldap.OPT_NETWORK_TIMEOUT: 5, ldap.OPT_TIMEOUT: 10}
