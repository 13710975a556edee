"""``LifecycleSync``: hires, movers, email changes and leavers, from Lucca into Cards.

One engine for both paths: Lucca's events name a few employees (:class:`EventProcessor
<lucca_cards.sync.events.EventProcessor>` runs it on them seconds after the change), and
the nightly sync runs it on everyone, as the reconciliation. Either way Lucca is read
*now*: an event only says whom to look at, so a late, repeated or out-of-order event
cannot apply a stale state.

The rules (see :mod:`._lifecycle_plan`):

* **hire** (active or upcoming, no linked account): imported as the user import does
  (same matching by email, refusals and options), into their department's group when
  that department is kept in step (``lifecycle_departments``);
* **move**: joins the new department's group; leaves the old department's group only
  when it is a department group kept in step; no other group is touched;
* **email change**: one ``PUT`` of the linked account's email; if the new email belongs
  to another account, reported for a human, nothing written;
* **leaver** (deactivated, deleted, or no longer visible): the leaver rule
  (``report``, ``remove-from-groups`` or ``delete``; ``delete`` only ever deletes an
  account the integration created);
* **safety threshold**: a run that would offboard (with those offboarded in the last 24
  hours) more than ``max_offboarded`` accounts or more than ``max_offboarded_share`` of
  the linked ones holds every offboarding, unless forced: an empty or partial answer from
  Lucca never empties Cards.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from .._paths import id_list
from .._values import ConnectionMode, DepartmentScope, LeaverAction
from ..cards.client import CardsClient
from ..config import Settings, check_setting
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Employee
from ..state.links import HELD, Link
from ._accounts import ImportOptions, Progress
from ._lifecycle_apply import ChangeWriter
from ._lifecycle_plan import (
    LEFT,
    OUT_OF_SIGHT,
    Change,
    ChangeKind,
    Context,
    decide,
    keep_claimed,
)
from ._lifecycle_read import AT_WORK, Kept, LuccaReader, Reading
from ._memberships import Memberships
from ._offboarding_limit import OffboardingLimit
from ._parallel import Stopped, side_by_side
from ._plan import CardsDirectory
from ._rules import match_key
from .links import LinkStore
from .report import SyncReport


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LifecycleSync:
    """Keep Cards accounts in step with Lucca's hires, moves, email changes and leavers.

    Args:
        lucca, cards: the clients.
        links: the links of the state database (``LinkStore(database)``).
        leavers: the leaver rule (``report`` by default: nothing is written).
        departments: whose department groups are kept in step (``imported``: those whose
            Cards group exists; ``all``; ``none``).
        max_offboarded, max_offboarded_share: the safety threshold (10 and 0.05).
        notify, connection_mode: how hires are created (as the user import).
        memberships_max_age: how old an account's groups may be when a move writes them
            (as for :class:`~lucca_cards.DepartmentImporter`).
        clock: monotonic seconds, for the departments' cache.
        now: the current time (aware), for the safety threshold's 24 hours.

    >>> sync = LifecycleSync.from_settings(settings, lucca, cards, links)  # doctest: +SKIP
    >>> print(sync.run(["416"]))                                           # doctest: +SKIP
    lifecycle sync: 1 created
    """

    def __init__(
        self,
        lucca: LuccaOAuthClient,
        cards: CardsClient,
        links: LinkStore,
        *,
        leavers: LeaverAction | str = LeaverAction.REPORT,
        departments: DepartmentScope | str = DepartmentScope.IMPORTED,
        max_offboarded: int = 10,
        max_offboarded_share: float = 0.05,
        notify: bool = False,
        connection_mode: ConnectionMode | str = ConnectionMode.PASSWORD,
        memberships_max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.lucca, self.cards, self.links = lucca, cards, links
        self.memberships_max_age: float = check_setting(
            "cards_memberships_max_age", memberships_max_age)
        self._clock = clock
        self.leavers, self.scope = LeaverAction(leavers), DepartmentScope(departments)
        self.limit = OffboardingLimit(max_offboarded=max_offboarded,
                                      max_offboarded_share=max_offboarded_share)
        # Checked now, not at the first hire.
        self._import = ImportOptions(notify=notify, connection_mode=connection_mode)
        self._now = now
        self.reader = LuccaReader(lucca, clock)
        self._groups = Kept(lambda: {g.name: g.id for g in cards.groups.list() if g.name},
                            clock, "the Cards groups")

    @classmethod
    def from_settings(cls, settings: Settings, lucca: LuccaOAuthClient, cards: CardsClient,
                      links: LinkStore, **options: Any) -> LifecycleSync:
        """Build it with the ``lifecycle_*`` and ``import_*`` settings."""
        values: dict[str, Any] = {
            "leavers": settings.lifecycle_leavers,
            "departments": settings.lifecycle_departments,
            "max_offboarded": settings.lifecycle_max_offboarded,
            "max_offboarded_share": settings.lifecycle_max_offboarded_share,
            "notify": settings.import_notify,
            "connection_mode": settings.import_connection_mode,
            "memberships_max_age": settings.cards_memberships_max_age,
            **options,
        }
        return cls(lucca, cards, links, **values)

    def plan(self, employee_ids: Iterable[str | int] | None = None, *,
             hires: bool = True, deleted: Iterable[str] = (),
             emails: Mapping[str, str] | None = None) -> list[Change]:
        """Return what a run would do, employee by employee, without writing.

        Args:
            employee_ids: the employees to look at (``None``: every employee Lucca lists
                and every linked one: one missing from Lucca was deleted).
            hires: import the employees at work who have no linked account; the nightly
                sync leaves them to its users import.
            deleted: employees whose deletion Lucca announced (``employee.deleted``): only
                those are leavers when missing from an answer by id.
            emails: employee id → the email an event gave (``employee.*`` events carry
                it): one Lucca call then reads those employees and whoever shares it.
        """
        return self._plan(employee_ids, hires=hires, deleted=deleted, emails=emails)[0]

    def _plan(self, employee_ids: Iterable[str | int] | None, *, hires: bool,
              deleted: Iterable[str], emails: Mapping[str, str] | None
              ) -> tuple[list[Change], Memberships]:
        memberships = Memberships(self.cards, max_age=self.memberships_max_age,
                                  clock=self._clock)
        wanted = None if employee_ids is None else id_list(
            employee_ids, name="employee_ids", where="LifecycleSync")
        directory: CardsDirectory | None = None
        if wanted is None:  # everyone: something has changed somewhere, Cards is read too
            reading, (directory, links) = side_by_side(
                lambda stopped: self._lucca_side(emails),
                lambda stopped: self._cards_side(memberships, stopped))
        else:  # a few employees: Cards only if one of them may change
            reading = self.reader.employees(wanted, emails)
            links = self.links.links()
        employees = reading.employees
        ids = wanted if wanted is not None else _everyone(employees, links, hires)
        gone = frozenset(deleted) if wanted is not None else frozenset(ids)
        if not any(_may_change(employees.get(i), links.get(i), self.leavers, hires,
                               i in gone) for i in ids):
            return [decide_unchanged(i, employees.get(i), links.get(i)) for i in ids], memberships
        if directory is None:
            directory = CardsDirectory(memberships.sweep())
        context = self._context(reading, links, ids, gone, directory, hires=hires,
                                complete=wanted is None, emails=emails or {})
        changes = [decide(i, employees.get(i), links.get(i), context) for i in ids]
        return keep_claimed(changes), memberships

    def _lucca_side(self, emails: Mapping[str, str] | None) -> Reading:
        """Read every employee, and the departments the rules may need (kept)."""
        reading = self.reader.employees(None, emails)
        if self.scope is not DepartmentScope.NONE:
            self.reader.departments()
        return reading

    def _cards_side(self, memberships: Memberships, stopped: Stopped
                    ) -> tuple[CardsDirectory, dict[str, Link]]:
        """Sweep the Cards accounts, the groups the rules may need (kept), and the links.

        The links are read here, while Lucca is still being swept (the longer sweep).
        """
        directory = CardsDirectory(memberships.sweep(until=stopped))
        if self.scope is DepartmentScope.IMPORTED and not stopped():
            self._groups.get()
        return directory, self.links.links()

    def _context(self, reading: Reading, links: dict[str, Link], ids: Sequence[str],
                 gone: frozenset[str], directory: CardsDirectory, *, hires: bool,
                 complete: bool, emails: Mapping[str, str]) -> Context:
        """Gather what the decisions share, asking Lucca only what a decision needs."""
        employees = reading.employees
        leaving = _leaving(ids, employees, gone)
        hiring = _hiring(employees, links) if hires else []
        asked = [e.email for e in hiring]
        if self.leavers is not LeaverAction.REPORT:  # a record created again keeps it
            accounts = [directory.get(links[i].cards_user_id) for i in leaving if i in links]
            asked += [a.email for a in accounts if a is not None]
            # …asked as Lucca wrote it too (Cards may hold it lower-cased).
            asked += [employees[i].email if i in employees else emails.get(i)
                      for i in leaving]
        in_use = _in_use(links, leaving)
        self._drop_gone_owners(in_use, hiring, directory, employees)
        scoped = self.scope is not DepartmentScope.NONE
        return Context(
            directory=directory, links=self.links, scope=self.scope, leavers=self.leavers,
            departments=self.reader.departments() if scoped else {},
            groups={**(self._groups.get() if self.scope is DepartmentScope.IMPORTED
                       else {}), **directory.groups()},
            in_use=in_use, at_work=self.reader.at_work(reading, asked, complete=complete),
            hires=hires, complete=complete, deleted=gone)

    def _drop_gone_owners(self, in_use: dict[str, list[str]], hiring: Sequence[Employee],
                          directory: CardsDirectory, employees: Mapping[str, Employee]
                          ) -> None:
        """Forget the links of accounts a hire matches whose employee is no longer at work.

        A record created again matches the old record's account; the old one may have
        left without an event (a contract's end passing). One call asks Lucca.
        """
        owners = {owner for hire in hiring for account in directory.find(
            match_key(hire.email) or "") for owner in in_use.get(account.id, ())
            if owner not in employees}
        if not owners:
            return
        still = self.reader.employees(sorted(owners)).employees
        left = {o for o in owners if o not in still or still[o].status not in AT_WORK}
        for account, linked in in_use.items():
            in_use[account] = [o for o in linked if o not in left]

    def run(self, employee_ids: Iterable[str | int] | None = None, *, hires: bool = True,
            deleted: Iterable[str] = (), emails: Mapping[str, str] | None = None,
            force: bool = False, dry_run: bool = False,
            progress: Progress | None = None) -> SyncReport:
        """Apply the rules to ``employee_ids`` (``None``: everyone); return the report.

        Args:
            employee_ids: the employees to look at (``None``: everyone, see :meth:`plan`).
            hires: import the employees at work who have no linked account.
            deleted: employees whose deletion Lucca announced (see :meth:`plan`).
            emails: the emails events gave (see :meth:`plan`).
            force: apply the offboardings even past the safety threshold.
            dry_run: write nothing; the report is the plan.
            progress: called as ``progress(done, total)`` after each employee.

        A failed employee is reported with the error and the others go on; a rerun
        converges (Lucca is read again, and the links say what was done).
        """
        options = attrs.evolve(self._import, dry_run=dry_run)
        changes, memberships = self._plan(employee_ids, hires=hires, deleted=deleted,
                                          emails=emails)
        writing = [c for c in changes if c.kind is ChangeKind.LEAVE and self._writes(c)]
        waiting = {c.employee_id for c in writing
                   if c.link is not None and c.link.offboarded == HELD}
        held, notes = (None, []) if self.leavers is LeaverAction.REPORT else \
            self.limit.check(len(writing) - len(waiting), self.links, self._now(), force)
        if waiting and not force:
            one = len(waiting) == 1
            notes = [*notes, f"{len(waiting)} leaver{'' if one else 's'} held by an earlier "
                     f"safety stop {'waits' if one else 'wait'} for a forced run (--force)"]
        writer = ChangeWriter(self.cards, self.links, options, self.leavers, memberships,
                              forced=force)
        items = []
        try:
            for done, change in enumerate(changes, start=1):
                hold = held
                if hold is None and change.employee_id in waiting and not force:
                    hold = ("held by the safety threshold on an earlier run; a forced run "
                            "(--force) offboards them")
                items.append(writer.apply(change, held=hold))
                if progress is not None:
                    progress(done, len(changes))
        finally:
            writer.flush()
        return SyncReport(operation="lifecycle", dry_run=dry_run, items=items, notes=notes)

    def _writes(self, change: Change) -> bool:
        """Whether offboarding this leaver writes to Cards (what the threshold counts)."""
        if self.leavers is LeaverAction.REPORT or change.account is None:
            return False
        return self.leavers is LeaverAction.DELETE or bool(change.account.groups)

    def refresh(self) -> None:
        """Read ahead what a hire would wait for (departments, groups), if getting old."""
        if self.scope is not DepartmentScope.NONE:
            self.reader.refresh()
        if self.scope is DepartmentScope.IMPORTED:
            self._groups.refresh()


def _hiring(employees: dict[str, Employee], links: dict[str, Link]) -> list[Employee]:
    """Return the employees at work without a link in use: the run's possible hires."""
    return [e for e in employees.values() if e.status in AT_WORK
            and (links.get(e.id) is None or bool(links[e.id].offboarded))]


def _leaving(ids: Sequence[str], employees: dict[str, Employee],
             gone: frozenset[str]) -> set[str]:
    """Return the employees this run sees leaving (deactivated, or gone from Lucca)."""
    return {i for i in ids if (employees.get(i) is None and i in gone)
            or (i in employees and employees[i].status == LEFT)}


def _in_use(links: dict[str, Link], leaving: set[str]) -> dict[str, list[str]]:
    """Cards account id → the employees linked to it, neither offboarded nor leaving."""
    found: dict[str, list[str]] = defaultdict(list)
    for link in links.values():
        if not link.offboarded and link.employee_id not in leaving:
            found[link.cards_user_id].append(link.employee_id)
    return dict(found)


def _everyone(employees: dict[str, Employee], links: dict[str, Link],
              hires: bool) -> list[str]:
    """Every linked employee, and the others too when hires are imported."""
    ids = set(links) | (set(employees) if hires else set())
    return sorted(ids, key=lambda i: (len(i), i))


def _may_change(employee: Employee | None, link: Link | None, leavers: LeaverAction,
                hires: bool, gone: bool) -> bool:
    """Whether Cards must be read for this employee (else nothing can change)."""
    if link is None:
        return hires and employee is not None and employee.status in AT_WORK
    if employee is None:
        return gone and link.offboarded != leavers.value
    if employee.status == LEFT:
        return link.offboarded != leavers.value
    return (bool(link.offboarded) or employee.department_id != link.department_id
            or match_key(employee.email) != link.email)


def decide_unchanged(employee_id: str, employee: Employee | None,
                     link: Link | None) -> Change:
    """Return the change of an employee nothing happened to (Cards was not read)."""
    reason = (OUT_OF_SIGHT if employee is None and link is not None and not link.offboarded
              else "nothing changed since the last run")
    return Change(employee_id=employee_id, employee=employee, link=link,
                  kind=ChangeKind.NONE, reason=reason)
