"""``EventProcessor``: apply the Lucca events waiting in the inbox, in ``occurredAt`` order.

The receiver only stores events (Lucca waits 3 s at most for its answer); this applies
them, from the worker thread of ``lucca-cards webhooks serve`` seconds later, or from
``lucca-cards events process`` run by cron. The events name the employees to look at;
:class:`~lucca_cards.sync.lifecycle.LifecycleSync` reads them from Lucca *now* and applies
the life-cycle rules, so the events of one change (a hire sends three) cost one run.

An event is marked applied only once its employee's change is written (or needed
nothing). One whose change failed stays in the inbox with the error and is retried with
a backoff (30 s, doubling, at most an hour); one held by the safety threshold waits for
a forced run (``events process --force``), or is settled along with a new event of the
same employee. A process killed
between storing and applying loses nothing: the events are still pending, and applying
them twice converges (Lucca and the links say what is done).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from .._untrusted import printable
from ..cards.client import CardsClient
from ..config import Settings
from ..errors import LuccaCardsError
from ..lucca.client import LuccaOAuthClient
from ..state import Database
from ..state.inbox import InboxEvent, LuccaInbox
from .lifecycle import LifecycleSync
from .links import LinkStore
from .report import SyncOutcome, SyncReport

_log = logging.getLogger("lucca_cards.lifecycle")

#: The first retry of a failed event, doubled at each failure up to :data:`MAX_BACKOFF`.
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
#: Events arriving this close together are applied together (a hire sends three).
SETTLE = timedelta(seconds=0.25)
#: …but none waits longer than this for the burst it belongs to to end.
MAX_SETTLE = timedelta(seconds=2)
#: Events read from the inbox at a time.
BATCH = 5000
#: The outcomes a human should see: logged as warnings.
_LOUD = frozenset({SyncOutcome.FAILED, SyncOutcome.HELD, SyncOutcome.REPORTED})


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class EventProcessor:
    """Apply the inbox's due events with the life-cycle rules.

    Args:
        inbox: where the receiver stored the events.
        lifecycle: the rules, with their clients and links.
        now: the current time (aware), for the backoff and the settling of bursts.
        on_close: called by :meth:`close` (the clients :meth:`from_settings` opened).

    >>> with EventProcessor.from_settings(settings, Database("lucca-cards.sqlite")) as p:
    ...     print(p.process())                                    # doctest: +SKIP
    lifecycle sync: 1 created
    """

    def __init__(self, inbox: LuccaInbox, lifecycle: LifecycleSync, *,
                 now: Callable[[], datetime] = _utc_now,
                 on_close: Callable[[], None] | None = None) -> None:
        self.inbox, self.lifecycle = inbox, lifecycle
        self._now, self._on_close = now, on_close

    @classmethod
    def from_settings(cls, settings: Settings, database: Database,
                      **client_options: Any) -> EventProcessor:
        """Build the clients, the links and the inbox from the settings, on ``database``.

        Raises:
            ConfigurationError: a setting the Lucca or Cards client needs is missing.
        """
        with contextlib.ExitStack() as stack:
            lucca = stack.enter_context(LuccaOAuthClient.from_settings(settings,
                                                                       **client_options))
            cards = stack.enter_context(CardsClient.from_settings(settings, **client_options))
            lifecycle = LifecycleSync.from_settings(settings, lucca, cards,
                                                    LinkStore(database))
            closing = stack.pop_all()
        return cls(LuccaInbox(database), lifecycle, on_close=closing.close)

    def process(self, *, force: bool = False, dry_run: bool = False) -> SyncReport:
        """Apply every due event now; return the report of their employees' changes.

        Args:
            force: apply the offboardings even past the safety threshold; the held
                events are applied then (and those of an employee a new event names are
                looked at again with it, held again unless forced).
            dry_run: write nothing and mark nothing; the report is the plan.
        """
        reports: list[SyncReport] = []
        for _ in range(100):  # each batch marks its events: the loop ends
            events = self.inbox.due(BATCH, include_held=force)
            if not events:
                break
            if not force:
                named = {e.employee_id for e in events if e.employee_id}
                events = _in_order([*events, *self.inbox.held_for(named)])
            reports.append(self._apply(events, force=force, dry_run=dry_run))
            if dry_run or len(events) < BATCH:
                break
        return self._waiting(_merged(reports, dry_run))

    def _waiting(self, report: SyncReport) -> SyncReport:
        """Add to ``report`` what still waits in the inbox: retries, held events."""
        counts, notes = self.inbox.counts(), []
        if counts.get("failed"):
            due = self.inbox.next_due()
            when = f", the next at {due:%Y-%m-%d %H:%M} UTC" if due is not None else ""
            notes.append(f"{counts['failed']} event(s) wait for a retry{when}")
        if counts.get("held"):
            notes.append(f"{counts['held']} event(s) are held for a forced run (--force)")
        return attrs.evolve(report, notes=[*report.notes, *notes]) if notes else report

    def process_due(self) -> datetime | None:
        """Apply what is due, once a burst has settled; return when to call again.

        What the receiver's worker thread calls: ``None`` means nothing waits but the
        next event (the receiver wakes the worker when one is stored).
        """
        events = self.inbox.due(BATCH)
        if events:
            now = self._now()
            newest = max(event.received_at for event in events)
            oldest = min(event.received_at for event in events)
            if now - newest < SETTLE and now - oldest < MAX_SETTLE:
                return min(newest + SETTLE, oldest + MAX_SETTLE)
            self.process()
        else:  # idle: read ahead what the next hire would wait for
            self.lifecycle.refresh()
        return self.inbox.next_due()

    def _apply(self, events: Sequence[InboxEvent], *, force: bool,
               dry_run: bool) -> SyncReport:
        ids = list(dict.fromkeys(e.employee_id for e in events if e.employee_id))
        deleted = {e.employee_id for e in events
                   if e.employee_id and e.topic == "employee.deleted"}
        try:
            report = self.lifecycle.run(ids, deleted=deleted, emails=_emails(events),
                                        force=force, dry_run=dry_run)
        except LuccaCardsError as error:  # Lucca or Cards could not be read at all
            if not dry_run:
                self._failed(events, str(error))
            _log.warning("the events of %d employee(s) were not applied (%s); retried "
                         "later", len(ids), printable(str(error))[:300])
            return _stopped(dry_run, f"the events were not applied ({error}); they are "
                            "retried later")
        except Exception as error:  # a bug outside one employee's rules (those never raise)
            said = f"{type(error).__name__} while applying them (a bug in lucca-cards)"
            _log.error("the events of %d employee(s) were not applied: %s", len(ids), said)
            if not dry_run:
                self._failed(events, said)
            return _stopped(dry_run, f"the events were not applied: {said}; they are "
                            "retried later")
        if not dry_run:
            self._mark(events, report)
        _log_report(report)
        return report

    def _mark(self, events: Sequence[InboxEvent], report: SyncReport) -> None:
        outcome = {item.employee_id: item for item in report.items}
        failed: list[InboxEvent] = []
        held: dict[str, list[tuple[str, str]]] = defaultdict(list)
        applied: list[tuple[str, str]] = []
        for event in events:
            item = outcome.get(event.employee_id or "")
            if item is not None and item.outcome is SyncOutcome.FAILED:
                failed.append(event)
            elif item is not None and item.outcome is SyncOutcome.HELD:
                held[item.reason or "held"].append(event.key)
            else:
                applied.append(event.key)
        self.inbox.applied(applied)
        for reason, keys in held.items():
            self.inbox.held(keys, reason)
        errors = {item.employee_id: item.reason or "failed" for item in report.failed}
        for event in failed:
            self._failed([event], errors.get(event.employee_id or "", "failed"))

    def _failed(self, events: Sequence[InboxEvent], error: str) -> None:
        by_attempts: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for event in events:
            by_attempts[event.attempts].append(event.key)
        now = self._now()
        for attempts, keys in by_attempts.items():
            wait = min(FIRST_BACKOFF * 2 ** min(attempts, 20), MAX_BACKOFF)
            self.inbox.failed(keys, error, retry_at=now + wait)

    def close(self) -> None:
        """Close the clients :meth:`from_settings` opened (the database stays open)."""
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> EventProcessor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _log_report(report: SyncReport) -> None:
    """One line per employee something happened to, with why; the notes as warnings."""
    for item in report.items:
        if item.outcome is SyncOutcome.UNCHANGED:
            continue
        level = logging.WARNING if item.outcome in _LOUD else logging.INFO
        why = f": {printable(item.reason)[:300]}" if item.reason else ""
        _log.log(level, "employee %s: %s%s", item.employee_id, item.outcome.value, why)
    for note in report.notes:
        _log.warning("%s", printable(note)[:500])


def _in_order(events: Sequence[InboxEvent]) -> list[InboxEvent]:
    """Return the events once each, in the order they happened."""
    unique = {event.key: event for event in events}
    return sorted(unique.values(), key=lambda e: (e.occurred_at, e.received_at, e.key))


def _emails(events: Sequence[InboxEvent]) -> dict[str, str]:
    """Employee id → the email their latest ``employee.*`` event gave (the resource then)."""
    found: dict[str, str] = {}
    for event in events:
        if not event.employee_id or not event.topic.startswith("employee."):
            continue
        try:
            data = json.loads(event.payload).get("data")
        except (ValueError, AttributeError):  # checked when received: not expected
            continue
        email = data.get("email") if isinstance(data, dict) else None
        if isinstance(email, str) and email.strip():
            found[event.employee_id] = email
    return found


def _stopped(dry_run: bool, why: str) -> SyncReport:
    return SyncReport(operation="lifecycle", dry_run=dry_run, items=(), stopped=why)


def _merged(reports: Sequence[SyncReport], dry_run: bool) -> SyncReport:
    if len(reports) == 1:
        return reports[0]
    stopped = next((r.stopped for r in reports if r.stopped), None)
    return SyncReport(operation="lifecycle", dry_run=dry_run,
                      items=[i for r in reports for i in r.items],
                      notes=list(dict.fromkeys(n for r in reports for n in r.notes)),
                      stopped=stopped)
