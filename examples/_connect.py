"""Connect the examples to a tenant (``--config``) or, by default, to a fresh sandbox."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import make_server

from lucca_cards import (
    CardsClient,
    LuccaOAuthClient,
    Sandbox,
    Settings,
    TrainingLedger,
    UserImporter,
)
from lucca_cards.receiver import make_app


@contextlib.contextmanager
def connect(config: str | None) -> Iterator[tuple[Settings, LuccaOAuthClient, CardsClient]]:
    """Yield the settings and clients of the tenant in ``config``, or of a fresh sandbox."""
    with contextlib.ExitStack() as stack:
        if config is None:
            # The sandbox keeps Lucca's real pace (50 a minute) but lifts Cards' 60 a
            # minute, at which its ~230 new accounts would take four minutes.
            settings = stack.enter_context(Sandbox(cards_rate_limit=0)).settings()
        else:
            settings = Settings.load(config)
        lucca = stack.enter_context(LuccaOAuthClient.from_settings(settings))
        cards = stack.enter_context(CardsClient.from_settings(settings))
        yield settings, lucca, cards


@contextlib.contextmanager
def sandbox_with_learners(learners: int = 150, days: int = 2,
                          **options: Any) -> Iterator[tuple[Settings, TrainingLedger]]:
    """Yield a sandbox's settings and a ledger its learners' signed webhooks have filled.

    What production does, on loopback: the employees are imported into Cards, then the
    webhook receiver (``make_app``, as ``lucca-cards webhooks serve`` runs it) records into
    the ledger each signed event that the fake Cards sends while ``learners`` progress for
    ``days`` days. ``options`` go to :class:`Sandbox` (its rate limits are lifted unless
    given).
    """
    with contextlib.ExitStack() as stack:
        # The receiver's own log line per event is for operators, not for a notebook.
        access_log = logging.getLogger("werkzeug")
        stack.callback(access_log.setLevel, access_log.level)
        access_log.setLevel(logging.WARNING)
        ledger = stack.enter_context(TrainingLedger(":memory:"))
        box = Sandbox(**{"lucca_rate_limit": 0, "cards_rate_limit": 0, **options})
        app = make_app(ledger, secret=box.credentials.webhook_secret)
        receiver = make_server("127.0.0.1", 0, app, threaded=True)
        stack.callback(receiver.server_close)  # (after the shutdown below: last in, first out)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        stack.callback(receiver.shutdown)
        box.cards.webhook_url = f"http://127.0.0.1:{receiver.server_port}/cards"
        stack.enter_context(box)
        with LuccaOAuthClient.from_settings(box.settings()) as lucca, \
                CardsClient.from_settings(box.settings()) as cards:
            UserImporter(lucca, cards).run()
        for day in range(1, days + 1):
            delivered = box.simulate_activity(learners=learners, seed=day)
            if delivered.failed:  # a ledger short of events would show other figures
                raise RuntimeError(f"{delivered.failed} webhooks of day {day} did not reach "
                                   "the receiver")
        yield box.settings(stats_enabled=True), ledger
