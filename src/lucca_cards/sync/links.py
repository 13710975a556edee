"""``LinkStore``: which Cards account each Lucca employee was linked to, in SQLite.

Cards keeps no external id, so the email is the only key the APIs share. The store
remembers the links an import made, so that a later preview tells an account already
linked from an existing account about to be linked. It is a convenience, not the truth:
a lost or stale store never causes a duplicate, because every import matches by email
against a fresh sweep of Cards users first.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from types import TracebackType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    employee_id   TEXT PRIMARY KEY,
    cards_user_id TEXT NOT NULL,
    email         TEXT NOT NULL,
    linked_at     TEXT NOT NULL
)
"""


class LinkStore:
    """Employee id → Cards user id, in a SQLite file (``":memory:"`` by default).

    Every write is committed at once, so a crash loses no link that was made.

    >>> store = LinkStore()
    >>> store.record("416", "9c44-…", "jdoe@acme.fr")
    >>> store.get("416")
    '9c44-…'
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute(_SCHEMA)

    def get(self, employee_id: str) -> str | None:
        """Return the Cards user id linked to ``employee_id``, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT cards_user_id FROM links WHERE employee_id = ?", (employee_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def record(self, employee_id: str, cards_user_id: str, email: str) -> None:
        """Remember (or replace) the link of ``employee_id``."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?)",
                (employee_id, cards_user_id, email, now),
            )

    def all(self) -> dict[str, str]:
        """Return every link: employee id → Cards user id."""
        with self._lock:
            rows = self._db.execute("SELECT employee_id, cards_user_id FROM links").fetchall()
        return {str(employee): str(user) for employee, user in rows}

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> LinkStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LinkStore({self.path!r})"
