"""LDAP search filters built, in a login module, from the name a user typed or a request's data
with no escaping: a name such as `*)(uid=*` rewrites the search. Escaped values, filter_format
and constants are not flagged."""

import ldap
import ldap.filter

BASE_DN = "ou=people,dc=example,dc=org"
USER_FILTER = "(&(objectClass=person)(uid=%s))"
GROUP = "cn=staff,ou=groups,dc=example,dc=org"


def has_user(conn: ldap.ldapobject.LDAPObject, username: str) -> bool:
    filterstr = USER_FILTER.replace("%s", username)
    return bool(conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, filterstr=filterstr))  # expect: input-validation


def find_dn(conn: ldap.ldapobject.LDAPObject, prefix: str, login: str) -> list:
    return conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, f"(&{prefix}(mail={login}))")  # expect: input-validation


class LoginForm:
    def __init__(self, data: object, conn: ldap.ldapobject.LDAPObject) -> None:
        self.data = data
        self.conn = conn

    def user_entry(self) -> list:
        query = "(|(uid={name})(mail={name}))".format(name=self.data.username)
        return self.conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, query)  # expect: input-validation


def has_user_safely(conn: ldap.ldapobject.LDAPObject, username: str) -> bool:
    filterstr = USER_FILTER % ldap.filter.escape_filter_chars(username)
    return bool(conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, filterstr))


def groups_of(conn: ldap.ldapobject.LDAPObject, username: str) -> list:
    query = ldap.filter.filter_format("(memberUid=%s)", [username])
    return conn.search_s(GROUP, ldap.SCOPE_BASE, query)


def staff(conn: ldap.ldapobject.LDAPObject) -> list:
    return conn.search_s(BASE_DN, ldap.SCOPE_SUBTREE, f"(memberOf={GROUP})")


def login_entry(conn: ldap.ldapobject.LDAPObject, username: str) -> int:
    """The scope in a name, the template from settings (graphite-web's LDAP login)."""
    scope = ldap.SCOPE_SUBTREE
    query = USER_FILTER % username
    return conn.search(BASE_DN, scope, query, ["dn", "mail"])  # expect: input-validation
