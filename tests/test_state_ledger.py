"""The training ledger: how Cards webhook events fold into learner states, and its queries."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lucca_cards.cards.webhooks import WebhookEvent, parse
from lucca_cards.state import Database, LearnerTraining, TrainingLedger
from lucca_cards.state import ledger as ledger_module

T0 = datetime(2024, 1, 20, 9, 10, 0)  # naive: Cards' wall-clock dates
UTC = timezone.utc
EMAIL = "Jerome.Doe@Example.com"
KEY = "jerome.doe@example.com"


class Clock:
    """The ledger's clock: aware UTC, moved by the test only."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int = 1) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


def text_of(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def activity(event_id: str, *, progress: float | None = 0.2, at: datetime | None = T0,
             email: str | None = EMAIL, training: str | None = "trn_1",
             title: str | None = "Titre de ma formation", points: int | None = 1,
             max_points: int | None = 5, chapters_count: int | None = 5,
             envelope_at: datetime | None = T0 + timedelta(minutes=1),
             kind: str = "chapter-complete") -> WebhookEvent:
    """Return an event parsed from a body shaped like the documented sample (§10.2)."""
    data: dict[str, Any] = {"points": 1,
                            "user": {"id": "usr_1", "firstname": "Jérôme", "lastname": "Doe",
                                     "company": "X", "lang": "fr"}}
    if at is not None:
        data["created_at"] = text_of(at)
    if email is not None:
        data["user"]["email"] = email
    if training is not None:
        data["training"] = {"id": training, "title": title, "chapters_count": chapters_count,
                            "chapter": {"id": "chp_1", "title": "Chapitre", "position": 1}}
    score: dict[str, Any] = {"points": points, "max_points": max_points}
    if progress is not None:
        score["progress"] = progress
    data["score"] = score
    body = {"id": event_id, "type": kind, "created_at": text_of(envelope_at), "data": data}
    return parse(json.dumps(body).encode())


@pytest.fixture
def clock() -> Clock:  # shadows conftest's monotonic FakeClock: the ledger wants datetimes
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[TrainingLedger]:
    with TrainingLedger(tmp_path / "ledger.sqlite", clock=clock) as opened:
        yield opened


def only(ledger: TrainingLedger) -> LearnerTraining:
    states = list(ledger.states())
    assert len(states) == 1
    return states[0]


# --- recording --------------------------------------------------------------------------


def test_a_first_activity_makes_the_state(ledger: TrainingLedger, clock: Clock) -> None:
    assert ledger.record(activity("e1", progress=0.4, points=2)) is True
    assert only(ledger) == LearnerTraining(
        email=KEY, training_id="trn_1", title="Titre de ma formation", chapters_count=5,
        progress=0.4, points=2, max_points=5, last_action_at=T0, last_completed_at=None,
        updated_at=clock.now, cards_user_id="usr_1")
    assert ledger.event_count() == 1


def test_a_redelivered_event_changes_nothing(ledger: TrainingLedger, clock: Clock) -> None:
    ledger.record(activity("e1", progress=0.2))
    before = only(ledger)
    clock.advance()

    # Same id, even with other content: Cards delivered it again, it is the same event.
    assert ledger.record(activity("e1", progress=1.0, at=T0 + timedelta(hours=1))) is False

    assert only(ledger) == before
    assert ledger.event_count() == 1


def test_a_later_event_moves_the_state(ledger: TrainingLedger, clock: Clock) -> None:
    ledger.record(activity("e1", progress=0.2, points=1))
    later = clock.advance()
    assert ledger.record(activity("e2", progress=0.4, points=2, at=T0 + timedelta(minutes=5)))
    state = only(ledger)
    assert (state.progress, state.points) == (0.4, 2)
    assert state.last_action_at == T0 + timedelta(minutes=5)
    assert state.updated_at == later


def test_an_older_event_does_not_move_the_state_back(
        ledger: TrainingLedger, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    ledger.record(activity("new", progress=0.6, at=T0 + timedelta(hours=1)))
    before = only(ledger)
    clock.advance()
    caplog.set_level(logging.INFO, logger="lucca_cards.state")

    assert ledger.record(activity("old", progress=0.4, at=T0)) is False

    assert only(ledger) == before
    assert ledger.event_count() == 2  # stored all the same
    [said] = [r for r in caplog.records if r.name == "lucca_cards.state"]
    assert said.levelno == logging.INFO
    assert "'old'" in said.getMessage()


def test_an_older_completion_still_counts(ledger: TrainingLedger, clock: Clock) -> None:
    # The learner finished at T0, restarted; Cards delivered the restart first.
    ledger.record(activity("restart", progress=0.2, at=T0 + timedelta(hours=2)))
    changed_at = clock.advance()

    assert ledger.record(activity("done", progress=1.0, at=T0)) is True

    state = only(ledger)
    assert state.progress == 0.2  # the state stays the latest action's
    assert state.last_action_at == T0 + timedelta(hours=2)
    assert state.last_completed_at == T0
    assert state.updated_at == changed_at


def test_the_latest_completion_wins_whatever_the_order(tmp_path: Path, clock: Clock) -> None:
    events = [activity("first", progress=1.0, at=T0),
              activity("second", progress=1.0, at=T0 + timedelta(days=3)),
              activity("between", progress=0.4, at=T0 + timedelta(days=1))]
    seen = []
    for name, order in (("forward", events), ("backward", events[::-1])):
        with TrainingLedger(tmp_path / f"{name}.sqlite", clock=clock) as ledger:
            for event in order:
                ledger.record(event)
            state = only(ledger)
            seen.append((state.progress, state.last_action_at, state.last_completed_at))
    assert seen[0] == seen[1] == (1.0, T0 + timedelta(days=3), T0 + timedelta(days=3))


def test_at_the_same_time_the_furthest_wins_whatever_the_order(tmp_path: Path) -> None:
    # A chapter and its quiz may share a second: the arrival order must not decide.
    events = [activity("a", progress=0.4, points=2), activity("b", progress=0.6, points=6),
              activity("c", progress=0.6, points=8), activity("d", progress=0.6, points=None)]
    finals = set()
    for order, events_in_order in enumerate((events, events[::-1], events[1:] + events[:1])):
        with TrainingLedger(tmp_path / f"order-{order}.sqlite") as ledger:
            for event in events_in_order:
                ledger.record(event)
            finals.add((only(ledger).progress, only(ledger).points))
    assert finals == {(0.6, 8)}


def test_a_full_tie_keeps_the_state(ledger: TrainingLedger) -> None:
    ledger.record(activity("a", progress=0.4, points=2, title="Sécurité"))
    assert ledger.record(activity("b", progress=0.4, points=2, title="Sécurité v2")) is False
    assert only(ledger).title == "Sécurité"


def test_points_missing_from_a_later_event_are_kept(ledger: TrainingLedger) -> None:
    ledger.record(activity("a", progress=0.4, points=3, max_points=9))
    assert ledger.record(activity("b", progress=0.6, points=None, max_points=None,
                                  at=T0 + timedelta(minutes=2))) is True
    assert (only(ledger).progress, only(ledger).points, only(ledger).max_points) == (0.6, 3, 9)


def test_at_the_same_time_a_lower_progress_is_ignored(ledger: TrainingLedger) -> None:
    ledger.record(activity("a", progress=0.6, points=4))
    before = only(ledger)
    assert ledger.record(activity("b", progress=0.4, points=9)) is False
    assert only(ledger) == before


def test_an_event_that_changes_nothing_returns_false(ledger: TrainingLedger,
                                                     clock: Clock) -> None:
    ledger.record(activity("a", progress=0.4))
    before = only(ledger)
    clock.advance()
    assert ledger.record(activity("b", progress=0.4)) is False  # same values, new id
    assert only(ledger).updated_at == before.updated_at
    assert ledger.event_count() == 2


def test_a_title_missing_from_a_later_event_is_kept(ledger: TrainingLedger) -> None:
    ledger.record(activity("a", progress=0.2, title="Sécurité", chapters_count=5))
    ledger.record(activity("b", progress=0.4, title=None, chapters_count=None,
                           at=T0 + timedelta(minutes=3)))
    state = only(ledger)
    assert (state.title, state.chapters_count, state.progress) == ("Sécurité", 5, 0.4)


def test_without_data_created_at_the_envelope_time_is_the_action_time(
        ledger: TrainingLedger) -> None:
    ledger.record(activity("a", at=None, envelope_at=T0 + timedelta(minutes=7)))
    assert only(ledger).last_action_at == T0 + timedelta(minutes=7)


def test_without_any_time_the_ledger_clock_is_the_action_time(
        ledger: TrainingLedger, clock: Clock) -> None:
    ledger.record(activity("a", at=None, envelope_at=None))
    assert only(ledger).last_action_at == clock.now.replace(tzinfo=None)  # naive UTC


def test_quiz_complete_counts_like_a_chapter(ledger: TrainingLedger) -> None:
    assert ledger.record(activity("q", kind="quiz-complete", progress=1.0)) is True
    assert only(ledger).last_completed_at == T0


# --- events that count for nothing ------------------------------------------------------


def test_an_unknown_event_type_is_stored_raw_and_ignored(tmp_path: Path, clock: Clock) -> None:
    data = {"user": {"email": "ana@acme.fr"}, "badge": {"id": 7, "name": "Curious"},
            "created_at": "2024-01-20 09:10:00"}
    body = {"id": "b1", "type": "badge-unlocked", "created_at": "2024-01-20 09:11:00",
            "data": data}
    path = tmp_path / "ledger.sqlite"
    with TrainingLedger(path, clock=clock) as ledger:
        assert ledger.record(parse(json.dumps(body).encode())) is False
        assert list(ledger.states()) == []
        assert ledger.event_count() == 1
    raw = sqlite3.connect(path)
    [(kind, payload, email, training)] = raw.execute(
        "SELECT type, payload, email, training_id FROM cards_events").fetchall()
    raw.close()
    assert (kind, email, training) == ("badge-unlocked", None, None)
    assert json.loads(payload) == data


@pytest.mark.parametrize("missing", ["email", "training", "progress"])
def test_an_activity_without_what_it_needs_is_stored_and_warned_about(
        ledger: TrainingLedger, caplog: pytest.LogCaptureFixture, missing: str) -> None:
    caplog.set_level(logging.DEBUG, logger="lucca_cards.state")
    event = activity("incomplete", **{missing: None})  # type: ignore[arg-type]

    assert ledger.record(event) is False
    assert ledger.record(event) is False  # a redelivery is not warned about twice

    assert list(ledger.states()) == []
    assert ledger.event_count() == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'incomplete'" in warnings[0].getMessage()
    assert "'chapter-complete'" in warnings[0].getMessage()


def test_logs_never_name_a_learner(ledger: TrainingLedger,
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="lucca_cards.state")
    ledger.record(activity("new", progress=0.6, at=T0 + timedelta(hours=1)))
    ledger.record(activity("old", progress=0.4))
    ledger.record(activity("new", progress=0.6))
    ledger.record(activity("no-progress", progress=None))
    said = " ".join(r.getMessage() for r in caplog.records)
    assert said  # something was logged, or the test proves nothing
    for private in ("jerome", "Jérôme", "Doe", "example.com"):
        assert private.lower() not in said.lower()


def test_the_event_and_its_state_are_one_transaction(ledger: TrainingLedger,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: Any) -> Any:
        raise RuntimeError("crash between the event and its state")

    with monkeypatch.context() as patch:
        patch.setattr(ledger_module, "fold", crash)
        with pytest.raises(RuntimeError, match="crash"):
            ledger.record(activity("e1", progress=0.4))
    assert ledger.event_count() == 0  # the event went with its state: redelivery counts it

    assert ledger.record(activity("e1", progress=0.4)) is True
    assert only(ledger).progress == 0.4


def test_only_webhook_events_are_recorded(ledger: TrainingLedger) -> None:
    with pytest.raises(TypeError, match=r"webhooks\.parse"):
        ledger.record({"id": "e1"})  # type: ignore[arg-type]


# --- queries ----------------------------------------------------------------------------


def fill(ledger: TrainingLedger) -> None:
    ledger.record(activity("1", email="Zoe@Acme.fr", training="t9", title="beta"))
    ledger.record(activity("2", email="ana@acme.fr", training="t3", title="Beta"))
    ledger.record(activity("3", email=" ANA@acme.fr", training="t1", title="alpha"))
    ledger.record(activity("4", email="ana@acme.fr", training="t0", title=None))
    ledger.record(activity("5", email="ana@acme.fr", training="t2", title="alpha"))


def test_records_for_matches_the_email_loosely_and_sorts_by_title(
        ledger: TrainingLedger) -> None:
    fill(ledger)
    found = ledger.records_for("  Ana@ACME.fr ")
    assert [(s.title, s.training_id) for s in found] == [
        ("alpha", "t1"), ("alpha", "t2"), ("Beta", "t3"), (None, "t0")]
    assert {s.email for s in found} == {"ana@acme.fr"}
    assert ledger.records_for("nobody@acme.fr") == []
    assert ledger.records_for("   ") == []


def test_learners_are_the_sorted_keys(ledger: TrainingLedger) -> None:
    fill(ledger)
    ledger.record(activity("x", email="ghost@acme.fr", progress=None))  # no state
    assert ledger.learners() == ["ana@acme.fr", "zoe@acme.fr"]


def test_states_are_streamed_by_email_then_training(ledger: TrainingLedger) -> None:
    fill(ledger)
    states = ledger.states()
    assert iter(states) is states  # an iterator, not a list built up front
    assert [(s.email, s.training_id) for s in states] == [
        ("ana@acme.fr", "t0"), ("ana@acme.fr", "t1"), ("ana@acme.fr", "t2"),
        ("ana@acme.fr", "t3"), ("zoe@acme.fr", "t9")]


def test_states_stream_while_another_handle_records(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "ledger.sqlite"
    with TrainingLedger(path, clock=clock) as ledger, TrainingLedger(path) as writer:
        fill(ledger)
        seen = []
        for state in ledger.states():
            seen.append(state.training_id)
            # A write while the read is open neither waits nor shows up half-way.
            writer.record(activity(f"during-{state.training_id}", email="new@acme.fr",
                                   training=state.training_id))
        assert len(seen) == 5
        assert len(ledger.learners()) == 3


def test_changed_since_uses_the_ledger_clock(ledger: TrainingLedger, clock: Clock) -> None:
    ledger.record(activity("1", training="t1"))
    cut = clock.advance(10)
    ledger.record(activity("2", training="t2"))
    clock.advance(10)
    ledger.record(activity("3", training="t3"))
    ledger.record(activity("4", training="t1", progress=0.4))  # t1 changed again: now in

    assert [s.training_id for s in ledger.changed_since(cut)] == ["t2", "t1", "t3"]
    naive = cut.replace(tzinfo=None)  # naive = UTC
    assert [s.training_id for s in ledger.changed_since(naive)] == ["t2", "t1", "t3"]
    paris = cut.astimezone(timezone(timedelta(hours=2)))  # the same instant elsewhere
    assert [s.training_id for s in ledger.changed_since(paris)] == ["t2", "t1", "t3"]
    assert ledger.changed_since(clock.advance()) == []
    assert all(s.updated_at.tzinfo is not None for s in ledger.changed_since(cut))


def test_export_gives_plain_rows(ledger: TrainingLedger, clock: Clock) -> None:
    ledger.record(activity("1", progress=1.0, points=5))
    ledger.record(activity("2", email="ana@acme.fr", title=None, points=None,
                           max_points=None, chapters_count=None))
    rows = ledger.export()
    assert [row["email"] for row in rows] == ["ana@acme.fr", KEY]
    for row in rows:
        assert all(isinstance(v, (str, int, float, type(None))) for v in row.values()), row
        assert set(row) == {"email", "training_id", "title", "chapters_count", "progress",
                            "points", "max_points", "last_action_at", "last_completed_at",
                            "updated_at", "cards_user_id"}
    done = rows[1]
    assert done["last_completed_at"] == done["last_action_at"] == "2024-01-20T09:10:00"
    assert datetime.fromisoformat(done["updated_at"]) == clock.now
    assert rows[0]["title"] is None
    assert rows[0]["last_completed_at"] is None


def test_event_count_counts_every_type_once(ledger: TrainingLedger) -> None:
    ledger.record(activity("1"))
    ledger.record(activity("1"))
    ledger.record(activity("2", progress=None))
    ledger.record(parse(b'{"id": 3, "type": "badge-unlocked", "created_at": null, "data": []}'))
    assert ledger.event_count() == 3


def test_the_ledger_survives_a_reopen(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "ledger.sqlite"
    with TrainingLedger(path, clock=clock) as ledger:
        ledger.record(activity("1", progress=1.0))
        before = only(ledger)
    with TrainingLedger(str(path), clock=clock) as ledger:
        assert only(ledger) == before
        assert ledger.record(activity("1", progress=1.0)) is False
        assert repr(ledger) == f"TrainingLedger('sqlite:///{path}')"


def test_a_memory_ledger_works_on_a_shared_database(clock: Clock) -> None:
    with Database(":memory:") as db:
        TrainingLedger(db, clock=clock).record(activity("1"))
        with TrainingLedger(db) as other:
            assert other.learners() == [KEY]
        assert TrainingLedger(db).event_count() == 1  # the shared database stayed open


def test_the_writes_compile_for_postgresql_too() -> None:
    # No server here: the statements the stores run are compiled for PostgreSQL, which
    # is what would refuse SQLite-only SQL.
    from sqlalchemy.dialects import postgresql

    from lucca_cards.state import _schema, _sql

    dialect = postgresql.dialect()
    compiled = {
        "current": str(ledger_module._CURRENT.compile(dialect=dialect)),
        "ignore": str(_sql._insert_or_ignore("postgresql", _schema.cards_events)
                      .compile(dialect=dialect)),
        "upsert": str(_sql._insert_or_update("postgresql", _schema.links, ("employee_id",),
                                             ("employee_id", "cards_user_id", "email",
                                              "linked_at")).compile(dialect=dialect)),
        "update": str(_sql._update_by(_schema.training_states, ("email", "training_id"),
                                      ("email", "training_id", "progress"))
                      .compile(dialect=dialect)),
    }
    assert compiled["current"].endswith("FOR UPDATE")
    assert "ON CONFLICT DO NOTHING" in compiled["ignore"]
    assert "ON CONFLICT (employee_id) DO UPDATE SET cards_user_id = excluded.cards_user_id" \
        in compiled["upsert"]
    assert "WHERE training_states.email = %(key_email)s" in compiled["update"]
    assert not any("OR REPLACE" in sql or "OR IGNORE" in sql for sql in compiled.values())
