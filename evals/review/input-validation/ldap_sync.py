"""A nightly job that copies the application's users into a directory: its searches take the
application's own validated usernames and ids, not what a stranger typed, so they are not
flagged (escaping them is still tidy)."""

import ldap3

USERS = "ou=users,dc=example,dc=org"


def find_user(connection: ldap3.Connection, username: str) -> bool:
    return connection.search(USERS, f"(uid={username})", attributes=["uid"])


def find_group(connection: ldap3.Connection, gid: int) -> bool:
    return connection.search(USERS, "(gidNumber=%d)" % gid, attributes=["cn"])
