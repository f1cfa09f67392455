"""SQL text built from a function's parameters and then executed, directly or through a variable;
bound parameters, constant SQL and identifiers chosen from a fixed list are not flagged."""

import sqlite3
from typing import Literal

SORTABLE = {"created": "created_at", "name": "name"}


def find_customer(conn: sqlite3.Connection, email: str) -> list[tuple]:
    query = f"SELECT id, name FROM customers WHERE email = '{email}'"  # expect: input-validation
    return conn.execute(query).fetchall()  # expect: input-validation


def search_orders(conn: sqlite3.Connection, status: str, limit: int) -> list[tuple]:
    sql = "SELECT id FROM orders WHERE 1 = 1"
    sql += " AND status = '" + status + "'"
    sql += f" LIMIT {limit}"
    return conn.execute(sql).fetchall()  # expect: input-validation


def rename(conn: sqlite3.Connection, customer_id: int, name: str) -> None:
    conn.execute("UPDATE customers SET name = '%s' WHERE id = %d" % (name, customer_id))  # expect: input-validation


def find_customer_safely(conn: sqlite3.Connection, email: str) -> list[tuple]:
    return conn.execute("SELECT id, name FROM customers WHERE email = ?", (email,)).fetchall()


def list_customers(conn: sqlite3.Connection, order: str) -> list[tuple]:
    column = SORTABLE.get(order, "created_at")
    return conn.execute(f"SELECT id FROM customers ORDER BY {column}").fetchall()


def call_report_function(conn: sqlite3.Connection, func_name: str, *args: object) -> list[tuple]:
    # a database function's name is an identifier, not a value: callers pass literals
    placeholders = ", ".join("?" * len(args))
    return conn.execute(f"SELECT * FROM reports.{func_name}({placeholders})", args).fetchall()


def purge_linked_rows(conn: sqlite3.Connection, target: dict[str, str], ids: list[int]) -> None:
    # quoted identifiers read from the catalog; the values are bound
    conn.execute(f'DELETE FROM "{target["table"]}" WHERE "{target["key"]}" = ANY(?)', (ids,))


def move_rows(conn: sqlite3.Connection, source: str, target: str, conditions: str) -> None:
    # `conditions` is a where clause the caller composed from bound values
    conn.execute(f'INSERT INTO "{target}" SELECT * FROM "{source}" WHERE {conditions}')


def find_by_label(conn: sqlite3.Connection, label: str) -> list[tuple]:
    # MySQL reads a double-quoted text after `=` as a string
    return conn.execute(f'SELECT id FROM tags WHERE label = "{label}"').fetchall()  # expect: input-validation


def delete_orders(conn: sqlite3.Connection, order_ids: list[int]) -> None:
    # only the number of ids reaches the text: one placeholder each
    conn.execute(f"DELETE FROM orders WHERE id IN ({','.join('?' * len(order_ids))})", order_ids)
    conn.execute(f"DELETE FROM order_lines WHERE order_id IN ({','.join('?' for _ in order_ids)})", order_ids)


def find_by_tags(conn: sqlite3.Connection, tags: list[str]) -> list[tuple]:
    return conn.execute(f"SELECT id FROM posts WHERE tag IN ({','.join(repr(t) for t in tags)})").fetchall()  # expect: input-validation


def purge_kind(conn: sqlite3.Connection, kind: Literal["draft", "trash"], before: int) -> None:
    # the annotation admits two constant names only
    conn.execute(f"DELETE FROM posts_{kind} WHERE created < ?", (before,))


def mark_spam(conn: sqlite3.Connection, token: "Token") -> None:
    # the token's class names its table
    conn.execute(f"UPDATE {token.db_table} SET protocol = 'spam' WHERE id = ?", (token.id,))


def totals(conn: sqlite3.Connection, query_filters: str, group_by: str, bindings: list[str]) -> list[tuple]:
    # a query builder's fragments: what reaches them is judged at its callers
    return conn.execute(f"SELECT kind, SUM(amount) FROM events {query_filters} GROUP BY {group_by}", bindings).fetchall()


def rename_token(conn: sqlite3.Connection, token: "Token") -> None:
    conn.execute(f"UPDATE tokens SET name = '{token.name}' WHERE id = ?", (token.id,))  # expect: input-validation


def link_resources(conn: sqlite3.Connection, tile: "Tile") -> None:
    # a row's primary key: read from the database or checked by its model
    conn.execute(f"SELECT * FROM link_resources('{tile.pk}')")


def batch_rows(conn: sqlite3.Connection, tblname: str, pkfield: str, start: int) -> int:
    # identifiers under short names (awx's json migration); the value is bound
    return conn.execute(f"SELECT count(1) FROM {tblname} WHERE {pkfield} >= ?", (start,)).fetchone()[0]


def load_collection(conn: sqlite3.Connection, collection_type: str) -> list[tuple]:
    # a table's name right after FROM (cobbler's serializer): an identifier, not a value
    return conn.execute(f"SELECT item FROM {collection_type}").fetchall()
