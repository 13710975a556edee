"""``TrainingLedger``: every learner's progress in every training, folded from webhooks.

The Cards public API has no per-learner statistics: its webhooks are the only source.
The ledger keeps every event it is given (once per event id) and, in the same
transaction, folds each training activity into the state of that learner in that
training (see :mod:`lucca_cards.state._fold` for the rules). The statistics publisher
reads the states back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select

from ..cards.webhooks import TrainingActivityEvent, WebhookEvent
from ._fold import Activity, event_row, fold, naive_utc
from ._keys import email_key
from ._schema import cards_events, training_states
from ._sql import insert_ignore, update_by
from ._store import Store
from .database import DEFAULT_DATABASE, Database
from .records import LearnerTraining

_log = logging.getLogger("lucca_cards.state")
_STREAM_BATCH = 500  # rows fetched at a time by states()
_KEY = ("email", "training_id")
# Built once: SQLAlchemy then compiles it once (SELECT … FOR UPDATE on PostgreSQL; SQLite
# has no such clause and needs none, BEGIN IMMEDIATE already holds the only write lock).
_CURRENT = (select(training_states)
            .where(training_states.c.email == bindparam("email"),
                   training_states.c.training_id == bindparam("training_id"))
            .with_for_update())


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TrainingLedger(Store):
    """The training ledger: Cards webhook events in, one state per learner and training out.

    Args:
        url_or_path: an open :class:`Database` (shared: :meth:`close` leaves it open), or
            a path or URL to open one (owned: :meth:`close` closes it).
        clock: gives the current time (aware; a naive one is taken as UTC), stamped as
            when an event was received and when a state changed. The system's UTC clock
            by default.

    Statistics start with the first webhook recorded: Cards offers no history.
    Recording is safe from many threads and processes at once (see :class:`Database`).

    Raises:
        ConfigurationError: the database cannot be opened (see :class:`Database`).

    >>> from lucca_cards.cards import webhooks
    >>> ledger = TrainingLedger(":memory:")
    >>> ledger.record(webhooks.parse(
    ...     '{"id": "e1", "type": "chapter-complete", "created_at": "2024-01-20 09:10:00",'
    ...     ' "data": {"user": {"id": "u1", "email": "Ana@Acme.fr"},'
    ...     ' "training": {"id": "t1", "title": "Safety"}, "score": {"progress": 0.5}}}'))
    True
    >>> [(state.email, state.title, state.progress) for state in ledger.states()]
    [('ana@acme.fr', 'Safety', 0.5)]
    """

    def __init__(
        self,
        url_or_path: Database | str | os.PathLike[str] = DEFAULT_DATABASE,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(url_or_path)
        self._clock = clock or _utc_now

    def record(self, event: WebhookEvent) -> bool:
        """Record one Cards event; return ``True`` when a learner's state changed.

        The event is stored once per id: a redelivery changes nothing (``False``). An
        event of another type than a training activity is stored as received and
        counts for nothing; so is an activity without a learner email, a training id or
        a progress (logged at WARNING). Storing the event and folding it into the state
        are one transaction: a crash leaves both or neither.

        Events are ordered by the learner's action time: ``data.created_at``, else the
        envelope's ``created_at``, else this ledger's clock (UTC). An older event does
        not move the state back, but a completion (progress 1) always counts for
        :attr:`LearnerTraining.last_completed_at`.

        Raises:
            TypeError: ``event`` is not a :class:`~lucca_cards.cards.webhooks.WebhookEvent`.
        """
        if not isinstance(event, WebhookEvent):
            raise TypeError("record() takes a webhook event (lucca_cards.cards.webhooks."
                            f"parse(body)), not {type(event).__name__}")
        now = self._now()
        row, activity = event_row(event, naive_utc(now))
        with self._database.writing() as connection:
            if not insert_ignore(connection, cards_events, row):
                _log.debug("Cards event %r is already recorded; ignored", event.id)
                return False
            if activity is None:
                if isinstance(event, TrainingActivityEvent):
                    # Ids and type only: the email or names must not reach the logs.
                    _log.warning("Cards event %r (%r) names no learner email, training id "
                                 "or progress: stored, not counted", event.id, event.type)
                return False
            return self._fold(connection, activity, now, event.id)

    def records_for(self, email: str) -> list[LearnerTraining]:
        """Return the learner's states, by training title (case-insensitive), then id.

        ``email`` is matched trimmed and case-insensitively; trainings without a title
        come last.
        """
        key = email_key(email)
        if key is None:
            return []
        with self._database.reading() as connection:
            rows = connection.execute(
                select(training_states).where(training_states.c.email == key)).all()
        found = [_state(row) for row in rows]
        return sorted(found, key=lambda s: (s.title is None, (s.title or "").casefold(),
                                            s.title or "", s.training_id))

    def learners(self) -> list[str]:
        """Return the (trimmed, lower-cased) email of every learner with a state, sorted."""
        email = training_states.c.email
        query = select(email).distinct().order_by(email)
        with self._database.reading() as connection:
            return [str(email) for email in connection.scalars(query)]

    def changed_since(self, when: datetime) -> list[LearnerTraining]:
        """Return the states the ledger changed at ``when`` or later, oldest change first.

        ``when`` is compared with :attr:`LearnerTraining.updated_at` (the ledger's clock);
        a naive ``when`` is taken as UTC.
        """
        columns = training_states.c
        query = (select(training_states).where(columns.updated_at >= naive_utc(when))
                 .order_by(columns.updated_at, columns.email, columns.training_id))
        with self._database.reading() as connection:
            return [_state(row) for row in connection.execute(query)]

    def states(self) -> Iterator[LearnerTraining]:
        """Yield every state, by email then training id, a batch of rows at a time.

        The states come from one snapshot of the database, taken at the first ``next``;
        events recorded meanwhile (from other threads) do not show up half-way.
        """
        columns = training_states.c
        query = select(training_states).order_by(columns.email, columns.training_id)
        if self._database.single_connection:
            # One connection for every thread: holding it while the caller iterates would
            # block every other thread, so an in-memory database is read in one go.
            with self._database.reading() as connection:
                rows = connection.execute(query).all()
            yield from (_state(row) for row in rows)
            return
        with self._database.reading() as connection:
            streamed = connection.execute(query.execution_options(yield_per=_STREAM_BATCH))
            for row in streamed:
                yield _state(row)

    def event_counts(self) -> dict[str, int]:
        """Return, for every learner with a state, how many events the ledger recorded.

        Every change of a learner's states comes with a new event, and events are never
        removed: a learner whose count is the same as before has the same states.
        """
        learners = select(training_states.c.email).distinct().subquery()
        events = (select(func.count()).select_from(cards_events)
                  .where(cards_events.c.email == learners.c.email).scalar_subquery())
        with self._database.reading() as connection:
            return {str(email): int(count)
                    for email, count in connection.execute(select(learners.c.email, events))}

    def states_of(self, emails: Iterable[str]) -> dict[str, list[LearnerTraining]]:
        """Return the states of these learners (by their keys), by email then training id.

        Learners without a state are left out.
        """
        wanted = sorted(set(emails))
        found: dict[str, list[LearnerTraining]] = {}
        columns = training_states.c
        with self._database.reading() as connection:
            for start in range(0, len(wanted), _STREAM_BATCH):
                query = (select(training_states)
                         .where(columns.email.in_(wanted[start:start + _STREAM_BATCH]))
                         .order_by(columns.email, columns.training_id))
                for row in connection.execute(query):
                    state = _state(row)
                    found.setdefault(state.email, []).append(state)
        return found

    def export(self) -> list[dict[str, Any]]:
        """Return every state as a plain row, ready for ``pandas.DataFrame(rows)``.

        Values are texts, numbers and ``None``; dates are ISO 8601 texts (``updated_at``
        with its ``+00:00``; the action times naive, as Cards sent them).
        """
        return [state.to_row() for state in self.states()]

    def event_count(self) -> int:
        """Return how many events are stored (every type; a redelivery counts once)."""
        with self._database.reading() as connection:
            return int(connection.scalar(select(func.count()).select_from(cards_events)) or 0)

    def __repr__(self) -> str:
        return f"TrainingLedger({self._database.url!r})"

    def _now(self) -> datetime:
        now = self._clock()
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now

    def _fold(self, connection: Connection, activity: Activity, now: datetime,
              event_id: str) -> bool:
        """Fold ``activity`` into its state, inside the caller's write transaction."""
        key = {"email": activity.email, "training_id": activity.training_id}
        # A second round happens only on PostgreSQL, when another writer created the
        # state between our read and our insert.
        for _ in range(2):
            found = connection.execute(_CURRENT, key).first()
            current = None if found is None else _state(found)
            outcome = fold(current, activity, now)
            if outcome.stale:
                _log.info("Cards event %r is older than the learner's state in its "
                          "training (or as old, with less progress): state kept", event_id)
            if outcome.state is None:
                return False
            values = _values(outcome.state)
            if current is not None:
                update_by(connection, training_states, values, _KEY)
                return True
            if insert_ignore(connection, training_states, values):
                return True
        raise RuntimeError("the training state vanished while it was being updated")


def _values(state: LearnerTraining) -> dict[str, Any]:
    """Return the ``training_states`` row of ``state`` (times naive UTC, as stored)."""
    values = {column.name: getattr(state, column.name) for column in training_states.columns}
    values["updated_at"] = naive_utc(state.updated_at)
    return values


#: The columns of a ``training_states`` row, in order (a row is read by position: a
#: mapping per row costs more than the rest of the read).
_NAMES = tuple(column.name for column in training_states.columns)


def _state(row: Row[Any]) -> LearnerTraining:
    """Return the state a ``training_states`` row holds."""
    values = dict(zip(_NAMES, row, strict=True))
    values["progress"] = float(values["progress"])
    values["updated_at"] = values["updated_at"].replace(tzinfo=timezone.utc)
    return LearnerTraining(**values)
