"""The nightly sync: life cycle, departments, users, statistics, with one combined report.

What a scheduler runs every night (``lucca-cards sync``, or :func:`nightly_sync` from
Python). Each part runs even when an earlier one failed as a whole (an expired key, a
missing field code): its failure is recorded in its own report, and the combined report is
``ok`` only when nothing failed anywhere.

* **lifecycle**: movers, email changes and leavers (:class:`LifecycleSync`, the
  reconciliation of Lucca's events); it runs first, so that the imports see an email
  change applied rather than a new email to create an account for; the safety threshold
  holds a mass offboarding unless ``force``;
* **departments**: the departments imported before (their Cards group exists) are kept up
  to date: newcomers get an account and join the group; no new group is created (import
  a new department once with ``lucca-cards departments import``);
* **users**: every active or upcoming employee gets a Cards account (created or linked);
* **stats**: the ledger is published onto the employee files (:class:`StatsPublisher`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import attrs

from ..cards.client import CardsClient
from ..config import Settings
from ..errors import LuccaCardsError
from ..lucca.client import LuccaOAuthClient
from ..lucca.legacy import LuccaLegacyApiClient
from ..state import Database, LinkStore, TrainingLedger
from .departments import DepartmentImporter
from .lifecycle import LifecycleSync
from .report import SyncReport
from .stats import Deadline, StatsPublisher
from .users import UserImporter

#: The parts of the nightly sync, in the order they run.
PARTS = ("lifecycle", "departments", "users", "stats")

_Client = TypeVar("_Client", LuccaOAuthClient, LuccaLegacyApiClient, CardsClient)

#: ``progress(part, done, total)``.
NightlyProgress = Callable[[str, int, int], None]


def _tuple(reports: Iterable[SyncReport]) -> tuple[SyncReport, ...]:
    return tuple(reports)


@attrs.frozen
class NightlyReport:
    """The reports of one nightly sync, one per part that ran.

    >>> print(NightlyReport(dry_run=True, reports=()))
    dry run of the nightly sync: nothing ran
    """

    dry_run: bool
    reports: tuple[SyncReport, ...] = attrs.field(converter=_tuple)

    @property
    def ok(self) -> bool:
        """Whether every part ran and no item failed."""
        return all(report.ok for report in self.reports)

    def to_dict(self) -> dict[str, Any]:
        """Return the combined report as JSON-ready data."""
        return {"operation": "sync", "dry_run": self.dry_run, "ok": self.ok,
                "parts": [report.to_dict() for report in self.reports]}

    def export(self) -> list[dict[str, Any]]:
        """Return every part's items as plain rows, each with its part's ``operation``.

        One table for the whole night: ``pandas.DataFrame(report.export())``.
        """
        return [{"operation": part.operation, **row}
                for part in self.reports for row in part.export()]

    def to_json(self, **dumps: Any) -> str:
        """Return the combined report as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **dumps)

    def __str__(self) -> str:
        head = f"{'dry run of ' if self.dry_run else ''}the nightly sync"
        if not self.reports:
            return f"{head}: nothing ran"
        return f"{head}: " + "; ".join(str(report) for report in self.reports)


def nightly_sync(
    settings: Settings,
    *,
    only: Iterable[str] = PARTS,
    dry_run: bool = False,
    database: Database | str | None = None,
    progress: NightlyProgress | None = None,
    max_writes: int | None = None,
    deadline: Deadline | None = None,
    force: bool = False,
    **client_options: Any,
) -> NightlyReport:
    """Run the parts of the nightly sync named in ``only`` (in :data:`PARTS` order).

    Args:
        settings: where everything is (clients, options, ``state_database``).
        only: some of ``"lifecycle"``, ``"departments"``, ``"users"``, ``"stats"``.
        dry_run: plan every part, write nothing.
        database: the state database (default: ``settings.state_database``).
        progress: called as ``progress(part, done, total)``.
        max_writes: the statistics' write budget (see
            :meth:`StatsPublisher.run <lucca_cards.StatsPublisher.run>`): a first publish to
            thousands of files takes hours of Lucca's shared 50 requests a minute.
        deadline: when the statistics stop writing (a datetime, or a timedelta from the
            start of the publish).
        force: go past the safety stops (the leavers' offboarding threshold, and the
            statistics' removal share).
        client_options: passed to every client's ``from_settings`` (``sleep``, ``clock``…).

    Raises:
        ValueError: ``only`` names an unknown part (nothing runs).

    >>> report = nightly_sync(Settings.load("lucca-cards.toml"), max_writes=900)  # doctest: +SKIP
    >>> report.ok  # doctest: +SKIP
    True
    """
    wanted = set(only)
    unknown = sorted(wanted - set(PARTS))
    if unknown or not wanted:
        raise ValueError(f"only takes some of {', '.join(PARTS)}; got {sorted(wanted)}")
    with contextlib.ExitStack() as stack:
        if isinstance(database, Database):
            state = database
        else:
            state = stack.enter_context(Database(database or settings.state_database))
        night = _Night(settings, state, dry_run, client_options, stack)
        budget = {"max_writes": max_writes, "deadline": deadline, "force": force}
        reports = [night.part(part, progress, budget) for part in PARTS if part in wanted]
    return NightlyReport(dry_run=dry_run, reports=reports)


class _Night:
    """One nightly run: its state, and clients built once, when a part first needs them.

    The departments and the users share one Lucca client (one token) and one Cards client.
    """

    def __init__(self, settings: Settings, state: Database, dry_run: bool,
                 options: dict[str, Any], stack: contextlib.ExitStack) -> None:
        self.settings, self.state, self.dry_run = settings, state, dry_run
        self._options, self._stack = options, stack
        self._clients: dict[type[Any], Any] = {}

    def client(self, kind: type[_Client]) -> _Client:
        if kind not in self._clients:
            made = kind.from_settings(self.settings, **self._options)
            self._clients[kind] = self._stack.enter_context(made)
        return cast(_Client, self._clients[kind])

    def part(self, part: str, progress: NightlyProgress | None,
             budget: dict[str, Any]) -> SyncReport:
        def step(done: int, total: int) -> None:
            if progress is not None:
                progress(part, done, total)

        try:
            if part == "stats":
                return self._stats(step, budget)
            if part == "lifecycle":
                return self._lifecycle(step, budget["force"])
            return self._import(part, step)
        except LuccaCardsError as error:  # a configuration error too: the part did not run
            operation = "statistics" if part == "stats" else part
            return SyncReport(operation=operation, dry_run=self.dry_run, items=(),
                              stopped=f"{part} did not run: {error}")

    def _import(self, part: str, step: Callable[[int, int], None]) -> SyncReport:
        notify, mode = self.settings.import_notify, self.settings.import_connection_mode
        lucca, cards = self.client(LuccaOAuthClient), self.client(CardsClient)
        links, age = LinkStore(self.state), self.settings.cards_memberships_max_age
        if part == "departments":
            return DepartmentImporter(lucca, cards, links=links, memberships_max_age=age).run(
                notify=notify, connection_mode=mode, dry_run=self.dry_run, progress=step,
                imported_only=True)
        return UserImporter(lucca, cards, links=links, memberships_max_age=age).run(
            notify=notify, connection_mode=mode, dry_run=self.dry_run, progress=step)

    def _lifecycle(self, step: Callable[[int, int], None], force: bool) -> SyncReport:
        lucca, cards = self.client(LuccaOAuthClient), self.client(CardsClient)
        sync = LifecycleSync.from_settings(self.settings, lucca, cards, LinkStore(self.state))
        # Hires are the users part's: it reads every employee anyway.
        return sync.run(hires=False, force=force, dry_run=self.dry_run, progress=step)

    def _stats(self, step: Callable[[int, int], None], budget: dict[str, Any]) -> SyncReport:
        if not self.settings.stats_enabled:  # no client is built: none may be configured
            return StatsPublisher.disabled_report(self.dry_run)
        legacy, cards = self.client(LuccaLegacyApiClient), self.client(CardsClient)
        publisher = StatsPublisher.from_settings(self.settings, legacy, cards,
                                                 TrainingLedger(self.state))
        return publisher.run(dry_run=self.dry_run, progress=step, **budget)
