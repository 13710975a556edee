"""What the statistics tests share: a sandbox whose learners progressed, a fed ledger, clients.

The ledger is fed with the very bodies the fake Cards signed (kept undelivered when no
receiver is given), parsed by ``cards.webhooks.parse``; the expected files are computed
from the fake Cards' own records and the ledger, never from the publisher's plan.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lucca_cards import (
    CardsClient,
    LuccaLegacyApiClient,
    RateLimiter,
    StatsPublisher,
    TrainingLedger,
    UserImporter,
)
from lucca_cards.cards import webhooks
from lucca_cards.lucca.training_records import TrainingRecord, read_training_records
from lucca_cards.sandbox import Sandbox
from lucca_cards.sync.stats_format import StatsFormat
from sync_support import clients, sandbox

#: Legacy user writes, as the sandbox logs them.
PUT_USERS = "PUT"


def stats_sandbox(**options: Any) -> Sandbox:
    """Return an unlimited sandbox of the shared small company, not started."""
    return sandbox(**options)


def import_everyone(box: Sandbox) -> None:
    """Give every current employee a Cards account, so that many learners are employees."""
    with clients(box) as (lucca, cards):
        assert UserImporter(lucca, cards).run().ok


def feed(box: Sandbox, ledger: TrainingLedger, learners: int = 20, seed: int = 1) -> int:
    """Make ``learners`` progress in ``box``; record the signed bodies into ``ledger``.

    Returns how many events were recorded. The sandbox must have no webhook URL, so that
    the bodies wait in its queue.
    """
    box.simulate_activity(learners=learners, seed=seed)
    sender = box.cards.webhooks
    bodies, sender.undelivered = list(sender.undelivered), []
    for body in bodies:
        ledger.record(webhooks.parse(body))
    return len(bodies)


@contextlib.contextmanager
def publisher(box: Sandbox, ledger: TrainingLedger, **options: Any
              ) -> Iterator[StatsPublisher]:
    """Yield a publisher on unthrottled clients of ``box``."""
    settings = box.settings()
    client = {"rate_limiter": RateLimiter(0)}
    with LuccaLegacyApiClient.from_settings(settings, **client) as legacy, \
            CardsClient.from_settings(settings, **client) as cards:
        yield StatsPublisher(legacy, cards, ledger, **options)


def files(box: Sandbox) -> dict[int, list[TrainingRecord]]:
    """Return every employee's training occurrences, as stored by the fake Lucca."""
    lucca = box.company.lucca
    return {employee.id: sorted((stored.record for stored in read_training_records(
        employee.extended_data)), key=lambda r: r.title.casefold())
        for employee in lucca.employees.values()}


def expected(box: Sandbox, ledger: TrainingLedger) -> dict[int, list[TrainingRecord]]:
    """Return the occurrences each learner's file should hold, from Cards and the ledger.

    Only employees whose email has activity, and only trainings that still exist in Cards.
    """
    trainings = box.company.cards.trainings
    style = StatsFormat()
    by_email: dict[str, list[TrainingRecord]] = {}
    for email in ledger.learners():
        by_email[email] = sorted(
            (style.record(state, _training(trainings, state.training_id))
             for state in ledger.records_for(email) if state.training_id in trainings),
            key=lambda r: r.title.casefold())
    listed = current_employees(box)
    keys = Counter(_key(employee.email) for employee in listed)
    return {employee.id: by_email[_key(employee.email)] for employee in listed
            if _key(employee.email) in by_email and keys[_key(employee.email)] == 1}


def current_employees(box: Sandbox) -> list[Any]:
    """Return the employees the legacy API lists by default (former ones are hidden)."""
    lucca, today = box.company.lucca, box.company.today
    return [employee for employee in lucca.employees.values()
            if (end := lucca.employments[employee.employment_id].end) is None or end >= today]


def _key(email: str | None) -> str:
    return (email or "").strip().lower()


def _training(trainings: dict[str, Any], training_id: str) -> Any:
    from lucca_cards.cards.models import Training

    fake = trainings[training_id]
    return Training(id=fake.id, title=fake.title, public_url=fake.public_url)


def legacy_writes(box: Sandbox) -> list[str]:
    """Return the paths of the legacy ``PUT``s the sandbox received."""
    return [e["path"] for e in box.lucca.log.entries()
            if e["method"] == PUT_USERS and e["path"].startswith("/api/v3/users/")]


def database(tmp_path: Path, name: str = "state.sqlite") -> str:
    """Return the path of a fresh state database file in ``tmp_path``."""
    return str(tmp_path / name)


@contextlib.contextmanager
def planned_files() -> Iterator[list[int]]:
    """Yield the Lucca user ids whose file a publish plans meanwhile, in order.

    The publisher's plan function is watched (and given back after): a file it does not
    plan is one its mark showed up to date.
    """
    import lucca_cards.sync.stats as stats_module

    seen: list[int] = []
    real = stats_module.plan_file

    def spy(**arguments: Any) -> Any:
        seen.append(arguments["user_id"])
        return real(**arguments)

    stats_module.plan_file = spy
    try:
        yield seen
    finally:
        stats_module.plan_file = real
