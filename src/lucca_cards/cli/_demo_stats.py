"""The statistics part of ``lucca-cards demo``: webhooks, ledger, publish, employee files.

Learners progress in the fake Cards, which POSTs its signed webhooks to a real receiver
(:func:`lucca_cards.receiver.make_app`) served on a free loopback port; the receiver folds
them into the ledger; :class:`~lucca_cards.StatsPublisher` writes the employee files; two
of them are printed as Lucca shows them; a rerun writes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TextIO

from .._serving import ServedApp
from ..cards.client import CardsClient
from ..lucca.legacy import LuccaLegacyApiClient
from ..receiver import make_app
from ..sandbox import Sandbox
from ..state import TrainingLedger
from ..sync import StatsPublisher, SyncOutcome, SyncReport
from ._stats import record_table

#: Learners the tour makes progress in Cards.
LEARNERS = 40
#: The seeds of the days of activity simulated.
DAYS = (1, 2)
#: Employee files printed at the end.
FILES_SHOWN = 2


@contextlib.contextmanager
def _receiver(box: Sandbox, ledger: TrainingLedger) -> Iterator[str]:
    """Serve the webhook receiver on a free loopback port, quietly; yield its URL."""
    app = make_app(ledger, secret=box.connection_info()["webhook_secret"])
    with ServedApp(app) as served:
        yield f"{served.url}/cards"


def stats_tour(box: Sandbox, out: TextIO) -> list[SyncReport]:
    """Run the statistics steps of the tour on ``box``; return the publish reports."""
    settings = box.settings(stats_enabled=True)
    with TrainingLedger(":memory:") as ledger:
        with _receiver(box, ledger) as url:
            box.cards.webhook_url = url
            _title("6. Learners progress in Cards; its signed webhooks reach the receiver", out)
            _say(f"lucca-cards webhooks serve, here on {url}", out)
            days = [box.simulate_activity(learners=LEARNERS, seed=day) for day in DAYS]
            delivered = sum(day.delivered for day in days)
            failed = sum(day.failed for day in days)
            _say(f"{len(DAYS)} days of activity: webhooks delivered: {delivered}, failed: "
                 f"{failed}; the "
                 f"ledger holds {ledger.event_count()} events, "
                 f"{len(ledger.learners())} learners, in {sum(1 for _ in ledger.states())} "
                 "trainings in all", out)
        box.cards.webhook_url = None
        with LuccaLegacyApiClient.from_settings(settings) as legacy, \
                CardsClient.from_settings(settings) as cards:
            publisher = StatsPublisher.from_settings(settings, legacy, cards, ledger)
            _title("7. Publish the statistics onto the Lucca employee files", out)
            _say(">>> StatsPublisher(legacy, cards, ledger).run()", out)
            first = publisher.run()
            _say(str(first), out)
            writes = _legacy_writes(box)
            _say(f"legacy requests: {len(writes)} PUT /api/v3/users/{{id}}", out)
            _files(first, ledger, legacy, out)
            _title("8. Publish again: nothing changed, so nothing is written", out)
            again = publisher.run()
            _say(f"{again}; legacy PUTs sent: {len(_legacy_writes(box)) - len(writes)}", out)
    return [first, again]


def _files(report: SyncReport, ledger: TrainingLedger, legacy: LuccaLegacyApiClient,
           out: TextIO) -> None:
    """Print two files read back from Lucca: learners who completed a training first."""

    def interest(email: str | None) -> tuple[bool, int]:
        states = ledger.records_for(email or "")
        return any(s.last_completed_at for s in states), len(states)

    updated = sorted(report.of(SyncOutcome.UPDATED), key=lambda item: interest(item.email),
                     reverse=True)
    for item in updated[:FILES_SHOWN]:
        records = sorted((stored.record for stored in legacy.users.read_training_records(
            int(item.employee_id))), key=lambda record: record.title.casefold())
        print("", file=out)
        for line in record_table(f"{item.name} <{item.email}>", records):
            _say(line, out)


def _legacy_writes(box: Sandbox) -> list[str]:
    return [entry["path"] for entry in box.lucca.log.entries()
            if entry["method"] == "PUT" and entry["path"].startswith("/api/v3/users/")]


def _title(text: str, out: TextIO) -> None:
    print(f"\n{text}", file=out)


def _say(text: str, out: TextIO) -> None:
    print(f"  {text}", file=out)
