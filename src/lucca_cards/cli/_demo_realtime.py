"""The real-time part of ``lucca-cards demo``: a hire in Lucca reaches Cards by itself.

The fake Lucca signs its events and POSTs them to a real receiver served on a free
loopback port (``/lucca``); the receiver stores them in the inbox and wakes its worker,
which applies the life-cycle rules. The tour hires someone, waits for their Cards
account, then moves them and makes them leave, printing how long each took.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TextIO

from .._serving import ServedApp
from ..cards.client import CardsClient
from ..lucca.client import LuccaOAuthClient
from ..receiver import InboxWorker, make_app
from ..sandbox import Sandbox
from ..state import Database, LinkStore, LuccaInbox
from ..sync.events import EventProcessor
from ..sync.lifecycle import LifecycleSync

#: How long the tour waits for a change to reach Cards before saying it did not.
WAIT_SECONDS = 15.0


class Applied:
    """Counts the inbox's applied events; lets a caller wait for what a round makes true."""

    def __init__(self, inbox: LuccaInbox) -> None:
        self.inbox, self._changed = inbox, threading.Condition()

    def wrap(self, process: Callable[[], datetime | None]) -> Callable[[], datetime | None]:
        """Return ``process``, telling the waiters after each round."""
        def counted() -> datetime | None:
            due = process()
            with self._changed:
                self._changed.notify_all()
            return due
        return counted

    def count(self) -> int:
        """Return how many events are applied."""
        return self.inbox.counts()["applied"]

    def wait_for(self, done: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
        """Wait until a round makes ``done()`` true; ``False`` after ``seconds``."""
        with self._changed:
            return self._changed.wait_for(done, seconds)

    def wait(self, count: int) -> bool:
        """Wait until ``count`` events are applied."""
        return self.wait_for(lambda: self.count() >= count)


@contextlib.contextmanager
def live(box: Sandbox, database: Database, sync: LifecycleSync,
         secret: str | None = None) -> Iterator[Applied]:
    """Serve a receiver with its worker applying ``sync``'s rules; point the fake Lucca at it.

    The receiver takes Lucca's events at ``/lucca`` of a free loopback port, into the
    inbox of ``database``; the endpoint is deleted again at the end.
    """
    inbox, secret = LuccaInbox(database), secret or secrets.token_urlsafe(24)
    applied = Applied(inbox)
    worker = InboxWorker(applied.wrap(EventProcessor(inbox, sync).process_due))
    app = make_app(inbox=inbox, lucca_secret=secret, on_lucca_event=worker.wake)
    with ServedApp(app) as served:
        endpoint, _ = box.lucca.register_webhook(f"{served.url}/lucca", secret=secret)
        worker.start()
        try:
            yield applied
        finally:
            worker.stop(timeout=10)
            box.lucca.delete_webhook(endpoint)


def realtime_tour(box: Sandbox, database: Database, out: TextIO) -> bool:
    """Hire, move and offboard someone in the fake Lucca; show Cards following."""
    settings = box.settings()
    _title("9. Real time: Lucca's events reach the receiver; its worker applies them", out)
    department, other = _two_departments(box)
    with LuccaOAuthClient.from_settings(settings) as lucca, \
            CardsClient.from_settings(settings) as cards, \
            live(box, database, _sync(lucca, cards, database)) as applied:
        _say("lucca-cards webhooks serve (here on a free port) receives at /lucca", out)
        start, done = time.monotonic(), applied.count()
        hired = box.lucca.hire(given_name="Nina", family_name="Nouvelle",
                               email="nina.nouvelle@example.com", department_id=department)
        ok = applied.wait(done + 3)
        _say(f"hired Nina Nouvelle (employee {hired}) into {_name(box, department)!r}: "
             f"{_groups(box, 'nina.nouvelle@example.com')} in Cards after "
             f"{time.monotonic() - start:.2f} s", out)
        steps: list[tuple[str, Callable[[], list[Any]]]] = [
            (f"moved to {_name(box, other)!r}", lambda: box.lucca.move(hired, other)),
            ("deleted in Lucca: a leaver (rule: remove-from-groups)",
             lambda: box.lucca.delete_employee(hired))][other == department:]
        for label, change in steps:
            start, done = time.monotonic(), applied.count()
            ok = applied.wait(done + len(change())) and ok
            _say(f"{label}: {_groups(box, 'nina.nouvelle@example.com')} after "
                 f"{time.monotonic() - start:.2f} s", out)
    return ok


def _sync(lucca: LuccaOAuthClient, cards: CardsClient, database: Database) -> LifecycleSync:
    # The tour's state links Nina alone: her leaving is 100 % of the linked accounts, which
    # the safety threshold would hold for a human (5 % by default). Lifted for the tour.
    return LifecycleSync(lucca, cards, LinkStore(database), leavers="remove-from-groups",
                         departments="all", max_offboarded_share=1.0)


def _two_departments(box: Sandbox) -> tuple[int, int]:
    """Two departments of different names, imported ones (their group exists) first."""
    names = {group.name for group in box.company.cards.groups.values()}
    found = sorted((d for d in box.company.lucca.departments.values() if not d.is_archived),
                   key=lambda d: (d.name.strip() not in names, d.id))
    first = found[0].id
    return first, next((d.id for d in found if _name(box, d.id) != _name(box, first)), first)


def _name(box: Sandbox, department_id: int) -> str:
    return box.company.lucca.departments[department_id].name.strip()


def _groups(box: Sandbox, email: str) -> str:
    cards = box.company.cards
    user = next((u for u in cards.users.values() if u.email == email), None)
    if user is None:
        return "no account"
    names = [cards.groups[g].name for g in user.group_ids]
    return f"an account in {', '.join(repr(n) for n in names)}" if names else \
        "an account in no group"


def _title(text: str, out: TextIO) -> None:
    print(f"\n{text}", file=out)


def _say(text: str, out: TextIO) -> None:
    print(f"  {text}", file=out)
