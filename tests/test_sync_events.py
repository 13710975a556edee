"""``EventProcessor``: the inbox's events applied with the life-cycle rules, marked as they go."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from lifecycle_support import World, hire, imported_world, leave
from lucca_cards import SyncOutcome
from lucca_cards.sandbox import Faults
from lucca_cards.state.inbox import LuccaInbox
from lucca_cards.sync.events import FIRST_BACKOFF, SETTLE, EventProcessor
from sync_support import memberships

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
_ids = itertools.count(1)


class Clock:
    """An aware clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world() -> Iterator[World]:
    with imported_world() as made:
        yield made


def store(inbox: LuccaInbox, employee_id: str, topic: str = "employee.created",
          occurred: dt.datetime = NOW, email: str | None = None) -> tuple[str, str]:
    """Store an event as the receiver would; an ``employee.*`` one carries the email."""
    event_id = f"ev-{next(_ids)}"
    data = {"id": employee_id, **({"email": email} if email else {})}
    assert inbox.store(source="https://acme.ilucca.net", event_id=event_id, topic=topic,
                       occurred_at=occurred, employee_id=employee_id,
                       payload=json.dumps({"id": event_id, "topic": topic, "data": data}))
    return ("https://acme.ilucca.net", event_id)


def processor(world: World, clock: Clock, **options: object) -> EventProcessor:
    inbox = LuccaInbox(world.links._database, clock=clock)
    return EventProcessor(inbox, world.sync(**options), now=clock)


def test_the_three_events_of_a_hire_cost_one_run_and_are_all_applied(world: World) -> None:
    clock = Clock()
    events = processor(world, clock)
    hired = hire(world.box, "nina.nouvelle@acme.fr", 2)
    keys = [store(events.inbox, hired, topic, email="nina.nouvelle@acme.fr")
            for topic in ("employee.created", "employment.created", "job-position.created")]
    report = events.process()
    assert [i.outcome for i in report.items] == [SyncOutcome.CREATED]
    assert world.box.cards.log.counts()["POST /v1/users"] == 1
    # One Lucca call: by the email the event gave, which also says nobody else has it.
    assert world.box.lucca.log.counts()["GET /lucca-api/employees"] == 1
    statuses = {e.key: e.status for e in events.inbox.events()}
    assert [statuses[k] for k in keys] == ["applied"] * 3
    world.clear_logs()
    assert events.process().items == () and world.box.cards.log.counts() == {}


def test_a_failed_change_stays_with_its_error_and_is_retried_after_the_backoff(
        world: World) -> None:
    clock = Clock()
    events = processor(world, clock)
    hired = hire(world.box, "nina.nouvelle@acme.fr", 2)
    key = store(events.inbox, hired)
    world.box.set_faults("cards", Faults(server_error=1.0, seed=1))
    first = events.process()
    assert first.items == () and "retried later" in (first.stopped or "")
    (stored,) = list(events.inbox.events())
    assert (stored.key, stored.status, stored.attempts) == (key, "failed", 1)
    assert stored.last_error and stored.next_attempt_at == NOW + FIRST_BACKOFF
    assert events.process().items == ()  # not due yet
    world.box.set_faults("cards", None)
    clock.now += FIRST_BACKOFF
    assert events.process().items[0].outcome is SyncOutcome.CREATED
    assert [e.status for e in events.inbox.events()] == ["applied"]
    assert memberships(world.box)["nina.nouvelle@acme.fr"] == [world.group_name("2")]


def eleven_leavers(world: World) -> EventProcessor:
    """Eleven leavers in groups (past the threshold), their events in the inbox."""
    events = processor(world, Clock(), leavers="remove-from-groups")
    for employee in [e for e in world.active_linked(100) if world.groups_of(e)][:11]:
        leave(world.box, employee)
        store(events.inbox, employee, "employment.updated")
    return events


def test_held_offboardings_wait_for_a_forced_run(world: World) -> None:
    events = eleven_leavers(world)
    held = events.process()
    assert {i.outcome for i in held.items} == {SyncOutcome.HELD} and not held.ok
    assert events.inbox.counts()["held"] == 11
    assert events.process().items == ()  # held: they wait for a forced run
    assert events.inbox.counts()["held"] == 11
    assert not [e for e in world.box.cards.log.entries() if e["method"] == "PUT"]
    forced = events.process(force=True)
    assert {i.outcome for i in forced.items} == {SyncOutcome.OFFBOARDED}
    assert events.inbox.counts()["applied"] == 11


def test_a_burst_settles_before_the_worker_applies_it(world: World) -> None:
    clock = Clock()
    inbox = LuccaInbox(world.links._database, clock=clock)
    events = EventProcessor(inbox, world.sync(), now=clock)
    hired = hire(world.box, "nina.nouvelle@acme.fr", 2)
    store(inbox, hired)
    assert events.process_due() == NOW + SETTLE  # just arrived: wait for the rest
    assert world.box.cards.log.counts() == {}
    clock.now += SETTLE
    assert events.process_due() is None  # applied; nothing else waits
    assert inbox.counts()["applied"] == 1


def test_a_dry_run_marks_nothing(world: World) -> None:
    clock = Clock()
    events = processor(world, clock)
    hired = hire(world.box, "nina.nouvelle@acme.fr", 2)
    store(events.inbox, hired)
    report = events.process(dry_run=True)
    assert report.dry_run and report.items[0].outcome is SyncOutcome.CREATED
    assert "POST /v1/users" not in world.box.cards.log.counts()
    assert events.inbox.counts()["pending"] == 1


def test_held_events_are_applied_once_a_forced_nightly_offboarded_their_employees(
        world: World) -> None:
    events = eleven_leavers(world)
    assert {i.outcome for i in events.process().items} == {SyncOutcome.HELD}
    nightly = world.sync(leavers="remove-from-groups").run(hires=False, force=True)
    assert len(nightly.of(SyncOutcome.OFFBOARDED)) == 11
    world.clear_logs()
    assert events.process().items == ()  # still held: only a forced run settles them
    after = events.process(force=True)
    assert {i.outcome for i in after.items} == {SyncOutcome.UNCHANGED}
    assert events.inbox.counts()["applied"] == 11 and world.box.cards.log.counts() == {}


def test_a_bug_on_one_employee_fails_only_their_events(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from lucca_cards.sync import _lifecycle_plan

    clock = Clock()
    events = processor(world, clock)
    good, poison = hire(world.box, "good@acme.fr", 2), hire(world.box, "poison@acme.fr", 2)
    real = _lifecycle_plan._hire

    def buggy(employee: Any, *args: Any) -> Any:
        if employee.id == poison:
            raise KeyError("a field the rules did not expect")
        return real(employee, *args)

    monkeypatch.setattr(_lifecycle_plan, "_hire", buggy)
    store(events.inbox, good)
    store(events.inbox, poison)
    report = events.process()
    statuses = {e.employee_id: (e.status, e.last_error) for e in events.inbox.events()}
    assert statuses[good] == ("applied", None)
    assert statuses[poison][0] == "failed" and "KeyError" in (statuses[poison][1] or "")
    assert "good@acme.fr" in memberships(world.box) and len(report.failed) == 1
    assert world.box.cards.log.counts()["GET /v1/users"] == 1  # one run for both


def test_an_email_lucca_cannot_be_asked_by_blocks_nobody(world: World) -> None:
    events = processor(world, Clock())
    odd = hire(world.box, "a,b@acme.fr", 2)
    fine = hire(world.box, "fine@acme.fr", 2)
    store(events.inbox, odd, email="a,b@acme.fr")  # a comma: the filter's separator
    store(events.inbox, fine, email="fine@acme.fr")
    report = events.process()
    assert {i.employee_id: i.outcome for i in report.items} == {
        odd: SyncOutcome.SKIPPED, fine: SyncOutcome.CREATED}
    assert events.inbox.counts()["applied"] == 2


def test_the_worker_logs_each_outcome_with_its_reason(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    events = processor(world, Clock())
    refused = hire(world.box, "", 2)  # no email: the user import's refusal
    store(events.inbox, refused)
    with caplog.at_level(logging.INFO, logger="lucca_cards.lifecycle"):
        events.process()
    assert f"employee {refused}: skipped: no professional email in Lucca" in caplog.text
