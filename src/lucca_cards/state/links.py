"""``LinkStore``: which Cards account each Lucca employee was linked to.

Cards keeps no external id, so the email is the only key the APIs share. The store
remembers the links an import made, so that a later preview tells an account already
linked from an existing account about to be linked. It is a convenience, not the truth:
a lost or stale store never causes a duplicate, because every import matches by email
against a fresh sweep of Cards users first.

The links live in the ``links`` table of the state database (:class:`Database`); a
link-store file of the first release is that same table, and is migrated when opened.
"""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import select

from ._schema import links
from ._sql import upsert
from ._store import Store
from .database import Database


class LinkStore(Store):
    """Employee id → Cards user id, in the state database (``":memory:"`` by default).

    Args:
        database: an open :class:`Database` (shared: :meth:`close` leaves it open), or a
            path or URL to open one (owned: :meth:`close` closes it).

    Every write is committed at once, so a crash loses no link that was made.

    Attributes:
        path: the path or URL given, password masked (the database's URL when given a
            :class:`Database`); kept from the first release.

    Raises:
        ConfigurationError: the database cannot be opened (see :class:`Database`).

    >>> store = LinkStore()
    >>> store.record("416", "9c44-…", "jdoe@acme.fr")
    >>> store.get("416")
    '9c44-…'
    """

    def __init__(self, database: Database | str | os.PathLike[str] = ":memory:") -> None:
        super().__init__(database)
        given = database.url if isinstance(database, Database) else os.fspath(database)
        # A URL's password never shows: the database's URL has it masked.
        self.path = self._database.url if "://" in given else given

    def get(self, employee_id: str) -> str | None:
        """Return the Cards user id linked to ``employee_id``, if any."""
        with self._database.reading() as connection:
            found = connection.scalar(
                select(links.c.cards_user_id).where(links.c.employee_id == employee_id))
        return None if found is None else str(found)

    def record(self, employee_id: str, cards_user_id: str, email: str) -> None:
        """Remember (or replace) the link of ``employee_id``."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        row = {"employee_id": employee_id, "cards_user_id": cards_user_id, "email": email,
               "linked_at": now}
        with self._database.writing() as connection:
            upsert(connection, links, row, keys=["employee_id"])

    def all(self) -> dict[str, str]:
        """Return every link: employee id → Cards user id."""
        with self._database.reading() as connection:
            rows = connection.execute(select(links.c.employee_id, links.c.cards_user_id))
            return {str(employee): str(user) for employee, user in rows}

    def __repr__(self) -> str:
        return f"LinkStore({self.path!r})"
