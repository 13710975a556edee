"""The Lucca events inbox: stored once, due in the order they happened, marked, counted.

Every time comes from a clock the test moves: nothing waits.
"""

from __future__ import annotations

import doctest
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from lucca_cards.state import Database, InboxEvent, LinkStore, LuccaInbox, TrainingLedger
from lucca_cards.state import inbox as inbox_module
from lucca_cards.state.inbox import APPLIED, FAILED, HELD, PENDING, STATUSES

UTC = timezone.utc
SOURCE = "https://acme.ilucca.net"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Clock:
    """The inbox's clock: aware UTC, moved by the test only."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def inbox(tmp_path: Path, clock: Clock) -> Iterator[LuccaInbox]:
    with LuccaInbox(tmp_path / "state.sqlite", clock=clock) as opened:
        yield opened


def store(inbox: LuccaInbox, event_id: str, *, minutes: float = 0, source: str = SOURCE,
          topic: str = "employee.created", employee_id: str | None = "416") -> bool:
    return inbox.store(source=source, event_id=event_id, topic=topic,
                       occurred_at=T0 + timedelta(minutes=minutes), employee_id=employee_id,
                       payload=f'{{"id": "{event_id}", "email": "ana@acme.fr"}}')


def ids(events: list[InboxEvent]) -> list[str]:
    return [event.event_id for event in events]


# -- store ----------------------------------------------------------------------------------


def test_an_event_is_stored_pending_with_its_fields(inbox: LuccaInbox, clock: Clock) -> None:
    assert store(inbox, "e1", minutes=5) is True
    (event,) = inbox.due()
    assert event == InboxEvent(
        source=SOURCE, event_id="e1", topic="employee.created",
        occurred_at=T0 + timedelta(minutes=5), received_at=clock.now, employee_id="416",
        payload='{"id": "e1", "email": "ana@acme.fr"}', status=PENDING, attempts=0,
        last_error=None, next_attempt_at=None)
    assert event.key == (SOURCE, "e1")
    assert event.occurred_at.tzinfo is UTC and event.received_at.tzinfo is UTC


def test_a_duplicate_is_refused_and_changes_nothing(inbox: LuccaInbox, clock: Clock) -> None:
    assert store(inbox, "e1") is True
    inbox.applied([(SOURCE, "e1")])
    clock.advance(minutes=1)
    assert store(inbox, "e1", minutes=30, topic="employee.deleted") is False
    (event,) = inbox.events()
    assert (event.status, event.topic, event.occurred_at) == (APPLIED, "employee.created", T0)


def test_the_same_id_from_another_source_is_another_event(inbox: LuccaInbox) -> None:
    assert store(inbox, "e1") is True
    assert store(inbox, "e1", source="https://other.ilucca.net") is True
    assert inbox.counts()[PENDING] == 2


def test_a_naive_occurred_at_is_utc_and_an_offset_is_converted(inbox: LuccaInbox) -> None:
    paris = timezone(timedelta(hours=1))
    inbox.store(source=SOURCE, event_id="naive", topic="employee.updated",
                occurred_at=datetime(2026, 3, 2, 8, 0), employee_id=None, payload="{}")
    inbox.store(source=SOURCE, event_id="paris", topic="employee.updated",
                occurred_at=datetime(2026, 3, 2, 8, 30, tzinfo=paris), employee_id=None,
                payload="{}")
    assert [(e.event_id, e.occurred_at) for e in inbox.events()] == [
        ("paris", datetime(2026, 3, 2, 7, 30, tzinfo=UTC)), ("naive", T0)]


def test_times_are_stored_naive_utc(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    with LuccaInbox(path, clock=clock) as inbox:
        store(inbox, "e1")
    raw = sqlite3.connect(path)
    try:
        row = raw.execute("SELECT occurred_at, received_at FROM lucca_events").fetchone()
    finally:
        raw.close()
    assert row == ("2026-03-02 08:00:00.000000", "2026-03-02 09:00:00.000000")


def test_store_refuses_what_is_not_a_datetime_or_text(inbox: LuccaInbox) -> None:
    with pytest.raises(TypeError, match="occurred_at"):
        inbox.store(source=SOURCE, event_id="e", topic="t", occurred_at="2026-03-02",  # type: ignore[arg-type]
                    employee_id=None, payload="{}")
    with pytest.raises(TypeError, match="payload"):
        inbox.store(source=SOURCE, event_id="e", topic="t", occurred_at=T0,
                    employee_id=None, payload=b"{}")  # type: ignore[arg-type]
    assert inbox.counts()[PENDING] == 0


def test_the_payload_stays_out_of_the_repr(inbox: LuccaInbox) -> None:
    store(inbox, "e1")
    (event,) = inbox.due()
    assert "ana@acme.fr" not in repr(event)
    assert "e1" in repr(event)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.status = APPLIED  # type: ignore[misc]


# -- due ------------------------------------------------------------------------------------


def test_due_follows_occurred_at_not_arrival(inbox: LuccaInbox, clock: Clock) -> None:
    for event_id, minutes in [("late", 30), ("early", 1), ("middle", 10)]:
        store(inbox, event_id, minutes=minutes)
        clock.advance(seconds=1)
    store(inbox, "same-time-second", minutes=10)  # same time: then by arrival
    assert ids(inbox.due()) == ["early", "middle", "same-time-second", "late"]
    assert ids(inbox.due(limit=2)) == ["early", "middle"]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
def test_due_wants_a_positive_limit(inbox: LuccaInbox, limit: object) -> None:
    with pytest.raises(ValueError, match="limit"):
        inbox.due(limit)  # type: ignore[arg-type]


def test_a_failed_event_is_due_again_at_its_retry_time(inbox: LuccaInbox, clock: Clock) -> None:
    store(inbox, "e1")
    store(inbox, "e2", minutes=1)
    retry_at = clock.now + timedelta(minutes=5)
    inbox.failed([(SOURCE, "e1")], "Cards answered 503", retry_at=retry_at)
    assert ids(inbox.due()) == ["e2"]
    (failed,) = inbox.events(FAILED)
    assert (failed.attempts, failed.last_error, failed.next_attempt_at) == (
        1, "Cards answered 503", retry_at)

    clock.advance(minutes=5)  # exactly the retry time: due
    assert ids(inbox.due()) == ["e1", "e2"]
    inbox.failed([(SOURCE, "e1")], "again", retry_at=clock.now + timedelta(minutes=10))
    (failed,) = inbox.events(FAILED)
    assert (failed.attempts, failed.last_error) == (2, "again")


def test_applied_clears_the_error_and_is_never_due(inbox: LuccaInbox, clock: Clock) -> None:
    store(inbox, "e1")
    inbox.failed([(SOURCE, "e1")], "boom", retry_at=clock.now)
    inbox.applied([(SOURCE, "e1")])
    assert inbox.due(include_held=True) == []
    (event,) = inbox.events(APPLIED)
    assert (event.attempts, event.last_error, event.next_attempt_at) == (1, None, None)


def test_an_applied_event_stays_applied_when_another_run_fails_or_holds_it(
        inbox: LuccaInbox, clock: Clock) -> None:
    store(inbox, "e1")
    inbox.applied([(SOURCE, "e1")])
    inbox.failed([(SOURCE, "e1")], "late failure", retry_at=clock.now)
    inbox.held([(SOURCE, "e1")], "late hold")
    (event,) = inbox.events()
    assert (event.status, event.attempts, event.last_error) == (APPLIED, 0, None)


def test_held_events_wait_for_a_forced_run(inbox: LuccaInbox) -> None:
    store(inbox, "e1")
    store(inbox, "e2", minutes=1)
    inbox.held([(SOURCE, "e1")], "over the offboarding threshold")
    assert ids(inbox.due()) == ["e2"]
    assert ids(inbox.due(include_held=True)) == ["e1", "e2"]
    (held,) = inbox.events(HELD)
    assert (held.last_error, held.attempts) == ("over the offboarding threshold", 0)


def test_marking_takes_any_iterable_of_keys_and_nothing_at_all(inbox: LuccaInbox) -> None:
    for number in range(5):
        store(inbox, f"e{number}", minutes=number)
    inbox.applied(event.key for event in inbox.due(limit=3))  # a generator
    inbox.applied([])
    inbox.held(iter(()), "nothing")
    inbox.applied([(SOURCE, "e4"), (SOURCE, "e4"), (SOURCE, "unknown")])
    assert ids(inbox.due()) == ["e3"]


def test_a_long_error_is_cut(inbox: LuccaInbox, clock: Clock) -> None:
    store(inbox, "e1")
    inbox.failed([(SOURCE, "e1")], "x" * 10_000, retry_at=clock.now)
    (event,) = inbox.events()
    assert event.last_error is not None
    assert len(event.last_error) == 2000 and event.last_error.endswith("…")


# -- next_due, counts, events ---------------------------------------------------------------


def test_next_due_is_now_when_pending_else_the_earliest_retry(inbox: LuccaInbox,
                                                              clock: Clock) -> None:
    assert inbox.next_due() is None
    store(inbox, "e1")
    store(inbox, "e2")
    store(inbox, "e3")
    assert inbox.next_due() == clock.now
    inbox.failed([(SOURCE, "e1")], "x", retry_at=clock.now + timedelta(minutes=7))
    inbox.failed([(SOURCE, "e2")], "x", retry_at=clock.now + timedelta(minutes=3))
    inbox.held([(SOURCE, "e3")], "threshold")
    assert inbox.next_due() == clock.now + timedelta(minutes=3)
    inbox.applied([(SOURCE, "e1"), (SOURCE, "e2")])
    assert inbox.next_due() is None  # a held event waits for a forced run, not a time


def test_counts_name_every_status(inbox: LuccaInbox, clock: Clock) -> None:
    assert inbox.counts() == {PENDING: 0, FAILED: 0, HELD: 0, APPLIED: 0}
    for number in range(4):
        store(inbox, f"e{number}")
    inbox.applied([(SOURCE, "e0")])
    inbox.failed([(SOURCE, "e1")], "x", retry_at=clock.now)
    inbox.held([(SOURCE, "e2")], "y")
    assert inbox.counts() == {PENDING: 1, FAILED: 1, HELD: 1, APPLIED: 1}
    assert tuple(inbox.counts()) == STATUSES


def test_events_filter_by_status_and_refuse_an_unknown_one(inbox: LuccaInbox) -> None:
    store(inbox, "b", minutes=2)
    store(inbox, "a", minutes=1)
    inbox.applied([(SOURCE, "b")])
    assert ids(list(inbox.events())) == ["a", "b"]
    assert ids(list(inbox.events(APPLIED))) == ["b"]
    with pytest.raises(ValueError, match="pending"):
        list(inbox.events("done"))


def test_a_memory_inbox_reads_events_in_one_go(clock: Clock) -> None:
    with LuccaInbox(":memory:", clock=clock) as inbox:
        store(inbox, "e1")
        iterator = inbox.events()
        assert next(iterator).event_id == "e1"
        assert store(inbox, "e2")  # not blocked by the iteration under way


def test_a_naive_clock_is_taken_as_utc() -> None:
    with LuccaInbox(":memory:", clock=lambda: datetime(2026, 3, 2, 9, 0)) as inbox:
        store(inbox, "e1")
        assert inbox.next_due() == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        assert inbox.due()[0].received_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_repr_and_the_doctest(tmp_path: Path) -> None:
    with LuccaInbox(tmp_path / "x.sqlite") as inbox:
        assert repr(inbox) == f"LuccaInbox('sqlite:///{tmp_path / 'x.sqlite'}')"
    result = doctest.testmod(inbox_module)
    assert (result.failed, result.attempted > 0) == (0, True)


# -- sharing and migration ------------------------------------------------------------------


def test_the_inbox_shares_a_database_with_the_other_stores(tmp_path: Path) -> None:
    with Database(tmp_path / "state.sqlite") as db:
        with LuccaInbox(db) as inbox, LinkStore(db) as links, TrainingLedger(db) as ledger:
            store(inbox, "e1")
            links.record("416", "u1", "ana@acme.fr")
            assert ledger.event_count() == 0
        assert LuccaInbox(db).counts()[PENDING] == 1  # still open after the stores closed


REVISION_0002 = [
    """CREATE TABLE links (employee_id TEXT NOT NULL, cards_user_id TEXT NOT NULL,
       email TEXT NOT NULL, linked_at TEXT NOT NULL, PRIMARY KEY (employee_id))""",
    """CREATE TABLE cards_events (event_id TEXT NOT NULL, type TEXT NOT NULL,
       received_at DATETIME NOT NULL, email TEXT, training_id TEXT, action_at DATETIME,
       payload TEXT NOT NULL, PRIMARY KEY (event_id))""",
    "CREATE INDEX ix_cards_events_learner ON cards_events (email, training_id)",
    """CREATE TABLE training_states (email TEXT NOT NULL, training_id TEXT NOT NULL,
       title TEXT, chapters_count INTEGER, progress FLOAT NOT NULL, points INTEGER,
       max_points INTEGER, last_action_at DATETIME NOT NULL, last_completed_at DATETIME,
       updated_at DATETIME NOT NULL, cards_user_id TEXT, PRIMARY KEY (email, training_id))""",
    "CREATE INDEX ix_training_states_updated_at ON training_states (updated_at)",
    """CREATE TABLE lucca_cards_version (version_num VARCHAR(32) NOT NULL,
       CONSTRAINT lucca_cards_version_pkc PRIMARY KEY (version_num))""",
    "INSERT INTO lucca_cards_version VALUES ('0002')",
    "INSERT INTO links VALUES ('416', 'u-416', 'ana@acme.fr', '2026-03-01T08:00:00+00:00')",
    """INSERT INTO cards_events VALUES ('c1', 'chapter-complete', '2026-03-01 08:00:00.000000',
       'ana@acme.fr', 't1', '2026-03-01 07:59:00.000000', '{}')""",
    """INSERT INTO training_states VALUES ('ana@acme.fr', 't1', 'Safety', 4, 0.5, 2, 4,
       '2026-03-01 07:59:00.000000', NULL, '2026-03-01 08:00:00.000000', 'u-416')""",
]


def test_a_0002_database_is_migrated_keeping_its_links_and_ledger(tmp_path: Path,
                                                                  clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in REVISION_0002:
        raw.execute(statement)
    raw.close()

    with Database(path) as db, LinkStore(db) as links, TrainingLedger(db) as ledger, \
            LuccaInbox(db, clock=clock) as inbox:
        assert links.all() == {"416": "u-416"}
        assert ledger.event_count() == 1
        (state,) = ledger.records_for("ana@acme.fr")
        assert (state.title, state.progress, state.cards_user_id) == ("Safety", 0.5, "u-416")
        assert store(inbox, "e1")
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version_num FROM lucca_cards_version").fetchall() == [
            ("0004",)]
        row = raw.execute("SELECT * FROM links").fetchone()
        assert row == ("416", "u-416", "ana@acme.fr", "2026-03-01T08:00:00+00:00",
                       None, None, None, None, None)
        indexes = {name for (name,) in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lucca_events'"
            " AND name NOT LIKE 'sqlite_%'")}
        assert indexes == {"ix_lucca_events_due"}
    finally:
        raw.close()


def test_an_event_stored_before_a_crash_is_pending_when_reopened(tmp_path: Path,
                                                                 clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    first = LuccaInbox(path, clock=clock)
    store(first, "e1")
    # No close: the write was committed when store() returned.
    with LuccaInbox(path, clock=clock) as second:
        assert ids(second.due()) == ["e1"]
    first.close()
