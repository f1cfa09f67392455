"""LDAP logins with no network timeout: a directory server that stops answering holds every
login. ldap3 bounds the connect with connect_timeout; python-ldap with its network timeout option."""

import ldap
import ldap3


def bind_user(uri: str, user_dn: str, password: str) -> bool:
    server = ldap3.Server(uri, use_ssl=True)  # expect: timeouts
    connection = ldap3.Connection(server, user=user_dn, password=password, receive_timeout=5)
    return bool(connection.bind())


def bounded_bind(uri: str, user_dn: str, password: str) -> bool:
    server = ldap3.Server(uri, use_ssl=True, connect_timeout=5)
    connection = ldap3.Connection(server, user=user_dn, password=password, receive_timeout=5)
    return bool(connection.bind())


def directory_search(uri: str, base: str) -> list[tuple[str, dict[str, list[bytes]]]]:
    connection = ldap.initialize(uri)  # expect: timeouts
    return connection.search_s(base, ldap.SCOPE_SUBTREE, "(objectClass=person)")
