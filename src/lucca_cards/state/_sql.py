"""Two writes every store needs, portable across SQLite and PostgreSQL.

Both dialects have an ``ON CONFLICT`` clause, reached through their own ``insert``
constructs; any other database gets the portable pattern (a savepoint around a plain
insert, or an update then an insert).

Each statement is built once per table and executed with the row as parameters: a
statement built with the values inside would be compiled again for every row, which
costs more than the write itself.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Executable, Table, and_, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

_ON_CONFLICT = ("sqlite", "postgresql")


def insert_ignore(connection: Connection, table: Table, row: Mapping[str, Any]) -> bool:
    """Insert ``row`` unless its primary key is taken; tell whether it was inserted."""
    dialect = connection.dialect.name
    if dialect in _ON_CONFLICT:
        return connection.execute(_insert_or_ignore(dialect, table), dict(row)).rowcount == 1
    try:
        with connection.begin_nested():
            connection.execute(insert(table), dict(row))
    except IntegrityError:
        return False
    return True


def upsert(connection: Connection, table: Table, row: Mapping[str, Any],
           keys: Sequence[str]) -> None:
    """Insert ``row``, or replace the other columns of the row with the same ``keys``."""
    dialect = connection.dialect.name
    if dialect in _ON_CONFLICT:
        connection.execute(_insert_or_update(dialect, table, tuple(keys), tuple(row)),
                           dict(row))
        return
    if connection.execute(_update_by(table, tuple(keys), tuple(row)),
                          _keyed(row, keys)).rowcount == 0:
        connection.execute(insert(table), dict(row))


def upsert_many(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]],
                keys: Sequence[str]) -> None:
    """:func:`upsert` every row (all with the same columns), in one ``executemany``."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect not in _ON_CONFLICT:
        for row in rows:
            upsert(connection, table, row, keys)
        return
    statement = _insert_or_update(dialect, table, tuple(keys), tuple(rows[0]))
    connection.execute(statement, [dict(row) for row in rows])


def update_by(connection: Connection, table: Table, row: Mapping[str, Any],
              keys: Sequence[str]) -> int:
    """Update the row whose ``keys`` columns equal ``row``'s; return how many rows changed."""
    statement = _update_by(table, tuple(keys), tuple(row))
    return connection.execute(statement, _keyed(row, keys)).rowcount


def _keyed(row: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {**row, **{f"key_{name}": row[name] for name in keys}}


def _dialect_insert(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


@functools.cache
def _insert_or_ignore(dialect: str, table: Table) -> Executable:
    # preserve_rowcount: without it, psycopg's INSERT reports a rowcount of -1, and every
    # new event would be taken for a redelivery on PostgreSQL.
    statement = _dialect_insert(dialect, table).on_conflict_do_nothing()
    return statement.execution_options(preserve_rowcount=True)


@functools.cache
def _insert_or_update(dialect: str, table: Table, keys: tuple[str, ...],
                      columns: tuple[str, ...]) -> Executable:
    statement = _dialect_insert(dialect, table)
    changes = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)


@functools.cache
def _update_by(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Executable:
    # The keys' bound parameters get their own names: a column's name is taken by SET.
    where = and_(*(table.c[name] == bindparam(f"key_{name}") for name in keys))
    changes: dict[str, Any] = {name: bindparam(name) for name in columns if name not in keys}
    return update(table).where(where).values(changes)
