"""``LuccaInbox``: the Lucca webhook events received, kept until they are applied.

Receiving and applying are two steps. The receiver stores each signed event here and
answers 202 at once (Lucca waits 3 s at most); a worker (or ``lucca-cards events
process`` from cron) takes the events that are due, in the order they happened
(``occurredAt``, not arrival), and marks each one applied, failed (retried later) or held
(waiting for a forced run). An event stored is never lost: a process that dies between
storing and applying finds it pending at the next start.

An event is stored once per ``source`` (the tenant) and ``id``, as Lucca documents:
a redelivery changes nothing.

Statuses: ``pending`` (stored, never tried), ``applied``, ``failed`` (tried; retried at
its ``next_attempt_at``), ``held`` (stopped by a rule, such as the offboarding
threshold: applied only by a forced run). Times are stored naive UTC and returned aware.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import attrs
from sqlalchemy import Row, and_, bindparam, delete, func, or_, select, update

from ._fold import naive_utc
from ._schema import lucca_events
from ._sql import insert_ignore
from ._store import Store
from .database import DEFAULT_DATABASE, Database

#: Stored, never tried yet.
PENDING = "pending"
#: Applied: done with.
APPLIED = "applied"
#: Tried and failed: tried again at its ``next_attempt_at``.
FAILED = "failed"
#: Stopped by a rule (the offboarding threshold): applied only by a forced run.
HELD = "held"
#: Every status, in the order of an event's life.
STATUSES = (PENDING, FAILED, HELD, APPLIED)

_STREAM_BATCH = 500  # rows fetched at a time by events()
_MAX_ERROR = 2000  # characters of an error kept: a reason, not a dump
_columns = lucca_events.c
_BY_KEY = and_(_columns.source == bindparam("key_source"),
               _columns.event_id == bindparam("key_event_id"))
_IN_ORDER = (_columns.occurred_at, _columns.received_at, _columns.source, _columns.event_id)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=timezone.utc)


@attrs.frozen(kw_only=True)
class InboxEvent:
    """One Lucca event in the inbox, and where it stands.

    Attributes:
        source, event_id: the event's key (:attr:`key`): the tenant's URL and its id.
        topic: ``employee.created``, ``job-position.updated``…
        occurred_at: when it happened in Lucca (aware, UTC): events apply in this order.
        received_at: when the receiver stored it (aware, UTC).
        employee_id: the employee it is about, when it names one.
        payload: the event's JSON body, as received (not in the repr: personal data).
        status: ``pending``, ``applied``, ``failed`` or ``held``.
        attempts: how many times applying it failed.
        last_error: why it last failed, or was held.
        next_attempt_at: when a failed event is due again (aware, UTC).
    """

    source: str
    event_id: str
    topic: str
    occurred_at: datetime
    received_at: datetime
    employee_id: str | None
    payload: str = attrs.field(repr=False)
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None

    @property
    def key(self) -> tuple[str, str]:
        """``(source, event_id)``: what identifies the event (to mark it)."""
        return self.source, self.event_id


class LuccaInbox(Store):
    """The durable inbox of Lucca events, in the state database.

    Args:
        database: an open :class:`Database` (shared: :meth:`close` leaves it open), or a
            path or URL to open one (owned: :meth:`close` closes it).
        clock: gives the current time (aware; a naive one is taken as UTC): when an event
            was received, what is due. The system's UTC clock by default.

    Safe from many threads and processes at once: receiver threads storing while a
    worker reads what is due and marks it (see :class:`Database`).

    Raises:
        ConfigurationError: the database cannot be opened (see :class:`Database`).

    >>> from datetime import datetime, timezone
    >>> inbox = LuccaInbox(":memory:")
    >>> inbox.store(source="https://acme.ilucca.net", event_id="e1",
    ...             topic="employee.created", employee_id="416", payload="{}",
    ...             occurred_at=datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc))
    True
    >>> [(event.event_id, event.status) for event in inbox.due()]
    [('e1', 'pending')]
    """

    def __init__(
        self,
        database: Database | str | os.PathLike[str] = DEFAULT_DATABASE,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(database)
        self._clock = clock or _utc_now

    def store(self, *, source: str, event_id: str, topic: str, occurred_at: datetime,
              employee_id: str | None, payload: str) -> bool:
        """Store one event as ``pending``; return ``False`` for a duplicate (nothing changes).

        ``occurred_at`` naive is taken as UTC. Storing is one transaction: the event is
        stored whole or not at all.

        Raises:
            TypeError: ``occurred_at`` is not a datetime, or ``payload`` not text.
        """
        if not isinstance(occurred_at, datetime):
            raise TypeError(f"occurred_at must be a datetime, not {type(occurred_at).__name__}")
        if not isinstance(payload, str):
            raise TypeError(f"payload must be the JSON text, not {type(payload).__name__}")
        row = {"source": source, "event_id": event_id, "topic": topic,
               "occurred_at": naive_utc(occurred_at), "received_at": naive_utc(self._now()),
               "employee_id": employee_id, "payload": payload, "status": PENDING,
               "attempts": 0, "next_attempt_at": None, "last_error": None,
               "applied_at": None}
        with self._database.writing() as connection:
            return insert_ignore(connection, lucca_events, row)

    def due(self, limit: int = 500, *, include_held: bool = False) -> list[InboxEvent]:
        """Return up to ``limit`` events to apply now, in the order they happened.

        Due: every ``pending`` event, and every ``failed`` one whose next attempt has come
        (``held`` ones too when ``include_held``, for a forced run). Ordered by
        ``occurred_at``, then by arrival.

        Raises:
            ValueError: ``limit`` is not a positive whole number.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive whole number, not {limit!r}")
        now = naive_utc(self._now())
        retry = and_(_columns.status == FAILED,
                     or_(_columns.next_attempt_at.is_(None), _columns.next_attempt_at <= now))
        wanted = [_columns.status == PENDING, retry]
        if include_held:
            wanted.append(_columns.status == HELD)
        query = select(lucca_events).where(or_(*wanted)).order_by(*_IN_ORDER).limit(limit)
        with self._database.reading() as connection:
            return [_event(row) for row in connection.execute(query)]

    def held_for(self, employee_ids: Iterable[str]) -> list[InboxEvent]:
        """Return the ``held`` events of these employees, in the order they happened.

        A run that looks at an employee again (a new event of theirs) settles their
        held events along with it.
        """
        wanted = sorted(set(employee_ids))
        found: list[InboxEvent] = []
        with self._database.reading() as connection:
            for start in range(0, len(wanted), _STREAM_BATCH):  # bounded IN lists
                query = select(lucca_events).where(
                    _columns.status == HELD,
                    _columns.employee_id.in_(wanted[start:start + _STREAM_BATCH]))
                found += [_event(row) for row in connection.execute(query)]
        return sorted(found, key=lambda e: (e.occurred_at, e.received_at, e.key))

    def applied(self, keys: Iterable[tuple[str, str]]) -> None:
        """Mark the events of ``keys`` (``(source, event_id)``) applied."""
        now = naive_utc(self._now())
        self._mark(keys, {"status": APPLIED, "applied_at": now, "next_attempt_at": None,
                          "last_error": None}, keep_applied=False)

    def failed(self, keys: Iterable[tuple[str, str]], error: str, *,
               retry_at: datetime) -> None:
        """Mark the events failed with ``error``, to try again at ``retry_at``.

        Each one's ``attempts`` grows by one. An event already applied stays applied
        (another run got there first). ``retry_at`` naive is taken as UTC.
        """
        if not isinstance(retry_at, datetime):
            raise TypeError(f"retry_at must be a datetime, not {type(retry_at).__name__}")
        self._mark(keys, {"status": FAILED, "attempts": _columns.attempts + 1,
                          "last_error": _cut(error), "next_attempt_at": naive_utc(retry_at)})

    def held(self, keys: Iterable[tuple[str, str]], reason: str) -> None:
        """Hold the events with ``reason``: only a forced run applies them (``include_held``).

        An event already applied stays applied.
        """
        self._mark(keys, {"status": HELD, "last_error": _cut(reason),
                          "next_attempt_at": None})

    def next_due(self) -> datetime | None:
        """Return when an event is next due: now if one is pending, else the earliest retry.

        ``None`` when nothing is waiting (held events wait for a forced run, not a time).
        A retry time already past is returned as it is: due now.
        """
        now = self._now()
        pending = select(_columns.event_id).where(_columns.status == PENDING).limit(1)
        failed = _columns.status == FAILED
        unscheduled = select(_columns.event_id).where(
            failed, _columns.next_attempt_at.is_(None)).limit(1)
        earliest = select(func.min(_columns.next_attempt_at)).where(failed)
        with self._database.reading() as connection:
            if connection.execute(pending).first() or connection.execute(unscheduled).first():
                return now
            found = connection.scalar(earliest)
        return _aware(found)

    def counts(self) -> dict[str, int]:
        """Return how many events each status holds (every status, ``0`` included)."""
        query = select(_columns.status, func.count()).group_by(_columns.status)
        found = dict.fromkeys(STATUSES, 0)
        with self._database.reading() as connection:
            for status, count in connection.execute(query):
                found[str(status)] = int(count)
        return found

    def events(self, status: str | None = None, *, newest: int | None = None,
               payloads: bool = True) -> Iterator[InboxEvent]:
        """Yield the events (of ``status`` only, if given) in the order they happened.

        The events come from one snapshot of the database, taken at the first ``next``.

        Args:
            status: only the events with this status.
            newest: only the ``newest`` last ones (still yielded oldest first).
            payloads: read the bodies too; without them (``payload`` is then ``""``) a
                listing of a long-lived inbox reads a fraction of the bytes.

        Raises:
            ValueError: ``status`` is not one of :data:`STATUSES`.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        columns = lucca_events.c if payloads else [
            c for c in lucca_events.c if c.name != "payload"]
        query = select(*columns)
        if status is not None:
            query = query.where(_columns.status == status)
        if newest is not None:
            latest = query.order_by(*(c.desc() for c in _IN_ORDER)).limit(newest).subquery()
            query = select(*latest.c).order_by(*(latest.c[c.name] for c in _IN_ORDER))
        else:
            query = query.order_by(*_IN_ORDER)
        if self._database.single_connection:
            # One connection for every thread: holding it while the caller iterates would
            # block the receiver's threads, so an in-memory database is read in one go.
            with self._database.reading() as connection:
                rows = connection.execute(query).all()
            yield from (_event(row) for row in rows)
            return
        with self._database.reading() as connection:
            for row in connection.execute(query.execution_options(yield_per=_STREAM_BATCH)):
                yield _event(row)

    def prune(self, applied_before: datetime) -> int:
        """Delete the events applied before ``applied_before`` (aware); return how many.

        Lucca keeps its events two months; the inbox keeps them until pruned, with the
        personal data of their bodies (``lucca-cards events prune`` from cron).
        """
        cutoff = applied_before.astimezone(timezone.utc).replace(tzinfo=None)
        statement = delete(lucca_events).where(
            _columns.status == APPLIED, _columns.applied_at < cutoff)
        with self._database.writing() as connection:
            return int(connection.execute(statement).rowcount or 0)

    def __repr__(self) -> str:
        return f"LuccaInbox({self._database.url!r})"

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now

    def _mark(self, keys: Iterable[tuple[str, str]], values: dict[str, Any], *,
              keep_applied: bool = True) -> None:
        """Set ``values`` on the events of ``keys``, in one write transaction."""
        parameters = [{"key_source": source, "key_event_id": event_id}
                      for source, event_id in dict.fromkeys(keys)]
        if not parameters:
            return  # an executemany with no rows is an error, and there is nothing to do
        where = and_(_BY_KEY, _columns.status != APPLIED) if keep_applied else _BY_KEY
        statement = update(lucca_events).where(where).values(values)
        with self._database.writing() as connection:
            connection.execute(statement, parameters)


def _cut(text: str) -> str:
    text = str(text)
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 1] + "…"


def _event(row: Row[Any]) -> InboxEvent:
    """Return the event a ``lucca_events`` row holds (times aware UTC)."""
    values = row._mapping
    return InboxEvent(
        source=values["source"], event_id=values["event_id"], topic=values["topic"],
        occurred_at=values["occurred_at"].replace(tzinfo=timezone.utc),  # NOT NULL columns
        received_at=values["received_at"].replace(tzinfo=timezone.utc),
        employee_id=values["employee_id"],
        payload=values.get("payload", ""), status=values["status"],
        attempts=int(values["attempts"]),
        last_error=values["last_error"], next_attempt_at=_aware(values["next_attempt_at"]))
