"""``LinkStore``: which Cards account each Lucca employee was linked to.

Cards keeps no external id, so the email is the only key the APIs share. The store
remembers the links an import made, so that a later preview tells an account already
linked from an existing account about to be linked. It never decides a match: every
import matches by email against a fresh sweep of Cards users first, so a lost or stale
store makes no second account for an email that has one. What only the links know is
lost with them: the account of an employee whose email changed since, and the leavers
the life-cycle rules would offboard.

The links live in the ``links`` table of the state database (:class:`Database`); a
link-store file of the first release is that same table, and is migrated when opened.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, func, select, update

from ._schema import links
from ._sql import upsert_many
from ._store import Store
from .database import Database


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@attrs.frozen(kw_only=True)
class Link:
    """One employee's link to a Cards account, with what the life-cycle rules remember.

    Attributes:
        employee_id: the Lucca employee.
        cards_user_id: the Cards account.
        email: the matching key the account was linked (or last changed) with.
        created: whether the integration is known to have created the account (only such
            an account may be deleted when a leaver is offboarded); ``False`` when it was
            linked, or made before lucca-cards recorded it (migration 0003).
        department_id: the employee's department when the link was made or last moved.
        group_name: the department group the integration put the account in, if any:
            the only group a move ever leaves.
        offboarded: the leaver rule applied (``report``, ``remove-from-groups``,
            ``delete``), or ``held`` (by the safety threshold, until a forced run).
    """

    employee_id: str
    cards_user_id: str
    email: str
    created: bool = False
    department_id: str | None = None
    group_name: str | None = None
    offboarded: str | None = None


def _link(row: Sequence[Any]) -> Link:
    employee, user, email, created, department, group, offboarded = row
    return Link(employee_id=str(employee), cards_user_id=str(user), email=str(email),
                created=bool(created), department_id=department, group_name=group,
                offboarded=offboarded)


_COLUMNS = (links.c.employee_id, links.c.cards_user_id, links.c.email, links.c.created,
            links.c.department_id, links.c.group_name, links.c.offboarded)
#: Links read per query (well under SQLite's 32 766 bound parameters).
_CHUNK = 500
#: The leaver rules that write to Cards (what the safety threshold counts).
WRITING_RULES = ("remove-from-groups", "delete")
#: What a link's ``offboarded`` says of a leaver the safety threshold held.
HELD = "held"


def changes(before: Link | None, wanted: Link) -> bool:
    """Return whether recording ``wanted`` (:meth:`LinkStore.record_many`) changes ``before``."""
    return _merged(before, wanted) is not None


def _merged(before: Link | None, record: Link) -> dict[str, Any] | None:
    """Return the row to write for ``record`` given the stored link; ``None``: unchanged."""
    created, department_id, group_name = (
        record.created, record.department_id, record.group_name)
    if before is not None and before.cards_user_id == record.cards_user_id:
        created = created or before.created
        if before.department_id and before.department_id != department_id:
            # A move not applied yet: its department and group stay, so that the move,
            # when applied, leaves the right group.
            department_id, group_name = before.department_id, before.group_name
        group_name = group_name or before.group_name
        if (before.email, before.created, before.department_id, before.group_name,
                before.offboarded) == (record.email, created, department_id, group_name,
                                       None):
            return None  # (compared field by field: a rerun asks for every link)
    return {"employee_id": record.employee_id, "cards_user_id": record.cards_user_id,
            "email": record.email, "created": created, "department_id": department_id,
            "group_name": group_name, "offboarded": None, "offboarded_at": None}


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

    def __init__(self, database: Database | str | os.PathLike[str] = ":memory:", *,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        super().__init__(database)
        self._clock = clock
        given = database.url if isinstance(database, Database) else os.fspath(database)
        # A URL's password never shows: the database's URL has it masked.
        self.path = self._database.url if "://" in given else given

    def get(self, employee_id: str) -> str | None:
        """Return the Cards user id linked to ``employee_id``, if any."""
        with self._database.reading() as connection:
            found = connection.scalar(
                select(links.c.cards_user_id).where(links.c.employee_id == employee_id))
        return None if found is None else str(found)

    def record(self, employee_id: str, cards_user_id: str, email: str, *,
               created: bool = False, department_id: str | None = None,
               group_name: str | None = None) -> None:
        """Remember (or replace) the link of ``employee_id``; an offboarding is forgotten.

        Args:
            employee_id: the Lucca employee.
            cards_user_id: the Cards account linked to them.
            email: the matching key the account was linked with.
            created: the integration has just created the account.
            department_id: the employee's department. An existing link to the same
                account keeps the department it has: only a move (:meth:`moved`)
                changes it, so that a move not yet applied is not forgotten.
            group_name: the department group the account was just put in (or found in);
                ``None`` keeps the one recorded for the same account, and so does a move
                not applied yet.
        """
        self.record_many([Link(
            employee_id=employee_id, cards_user_id=cards_user_id, email=email,
            created=created, department_id=department_id, group_name=group_name)])

    def record_many(self, records: Iterable[Link]) -> int:
        """Remember many links (as :meth:`record` does) in one transaction.

        Each is recorded as :meth:`record` would (its ``offboarded`` is ignored: a link
        recorded is in use). A link that would not change is not written (its
        ``linked_at`` stays): a rerun over unchanged data writes nothing. Returns how
        many links were written.
        """
        wanted = {record.employee_id: record for record in records}
        if not wanted:
            return 0
        with self._database.writing() as connection:
            before = self._many(connection, list(wanted))
            merged = (_merged(before.get(record.employee_id), record)
                      for record in wanted.values())
            rows = [{**row, "linked_at": self._now()} for row in merged if row is not None]
            upsert_many(connection, links, rows, keys=["employee_id"])
        return len(rows)

    def link(self, employee_id: str) -> Link | None:
        """Return the whole link of ``employee_id``, if any."""
        with self._database.reading() as connection:
            return self._get(connection, employee_id)

    def links(self) -> dict[str, Link]:
        """Return every link, by employee id."""
        with self._database.reading() as connection:
            return {link.employee_id: link
                    for link in map(_link, connection.execute(select(*_COLUMNS)))}

    def moved(self, employee_id: str, department_id: str | None,
              group_name: str | None) -> None:
        """Remember the department and department group after a move (or a return).

        An offboarding is forgotten: the employee is at work again.
        """
        self._update(employee_id, department_id=department_id, group_name=group_name,
                     offboarded=None, offboarded_at=None)

    def changed_email(self, employee_id: str, email: str) -> None:
        """Remember the account's new email after an email change was applied."""
        self._update(employee_id, email=email)

    def offboard(self, employee_id: str, action: str, *, counted: bool = True) -> None:
        """Remember that the leaver rule ``action`` was applied (it is not applied again).

        The link stays (a deleted account's too): a returning employee is matched again
        by email. A ``counted`` offboarding is stamped with its time: the safety threshold
        counts those of the last 24 hours. A forced one (a human looked) or one that
        wrote nothing is not, so as not to hold the day's ordinary leavers.
        """
        values: dict[str, str | None] = {
            "offboarded": action, "offboarded_at": self._now() if counted else None}
        if action in WRITING_RULES:  # the account left its groups, or is gone
            values["group_name"] = None
        self._update(employee_id, **values)

    def hold(self, employee_id: str) -> None:
        """Remember that the safety threshold held this leaver: only a forced run goes on."""
        self._update(employee_id, offboarded=HELD, offboarded_at=None)

    def offboarded_since(self, since: dt.datetime) -> int:
        """Count the accounts offboarded by a writing rule, unforced, since ``since``."""
        stamp = since.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        with self._database.reading() as connection:
            return int(connection.scalar(
                select(func.count()).select_from(links).where(
                    links.c.offboarded.in_(WRITING_RULES), links.c.offboarded_at >= stamp))
                or 0)

    def _update(self, employee_id: str, **values: str | None) -> None:
        with self._database.writing() as connection:
            connection.execute(update(links).where(links.c.employee_id == employee_id)
                               .values(**values))

    @staticmethod
    def _get(connection: Connection, employee_id: str) -> Link | None:
        row = connection.execute(
            select(*_COLUMNS).where(links.c.employee_id == employee_id)).first()
        return None if row is None else _link(row)

    @staticmethod
    def _many(connection: Connection, employee_ids: Sequence[str]) -> dict[str, Link]:
        found: dict[str, Link] = {}
        for chunk in range(0, len(employee_ids), _CHUNK):
            wanted = employee_ids[chunk:chunk + _CHUNK]
            rows = connection.execute(select(*_COLUMNS).where(links.c.employee_id.in_(wanted)))
            found.update((link.employee_id, link) for link in map(_link, rows))
        return found

    def _now(self) -> str:
        return self._clock().astimezone(dt.timezone.utc).isoformat(timespec="seconds")

    def all(self) -> dict[str, str]:
        """Return every link: employee id → Cards user id."""
        with self._database.reading() as connection:
            rows = connection.execute(select(links.c.employee_id, links.c.cards_user_id))
            return {str(employee): str(user) for employee, user in rows}

    def __repr__(self) -> str:
        return f"LinkStore({self.path!r})"
