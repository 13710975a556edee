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
* **safety threshold**: a run that would offboard more than ``max_offboarded`` accounts
  *and* more than ``max_offboarded_share`` of the linked ones holds every offboarding,
  unless forced: an empty or partial answer from Lucca never empties Cards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from .._paths import id_list
from .._values import ConnectionMode, DepartmentScope, LeaverAction
from ..cards.client import CardsClient
from ..config import Settings
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Department, Employee
from ..state.links import Link
from ._accounts import ImportOptions, Progress
from ._lifecycle_apply import ChangeWriter
from ._lifecycle_plan import AT_WORK, LEFT, Change, ChangeKind, Context, decide
from ._plan import CardsDirectory
from ._rules import match_key
from .links import LinkStore
from .report import SyncReport

#: How long a run reuses the departments it read (their names name the groups).
DEPARTMENTS_TTL = 300.0


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
        clock: monotonic seconds, for the departments' cache.

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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lucca, self.cards, self.links = lucca, cards, links
        self.leavers, self.scope = LeaverAction(leavers), DepartmentScope(departments)
        self.max_offboarded, self.max_offboarded_share = max_offboarded, max_offboarded_share
        # Checked now, not at the first hire.
        self._import = ImportOptions(notify=notify, connection_mode=connection_mode)
        self._clock = clock
        self._departments: tuple[float, dict[str, Department]] | None = None

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
            **options,
        }
        return cls(lucca, cards, links, **values)

    def plan(self, employee_ids: Iterable[str | int] | None = None, *,
             hires: bool = True) -> list[Change]:
        """Return what a run would do, employee by employee, without writing.

        Args:
            employee_ids: the employees to look at (``None``: every employee Lucca lists
                and every linked one).
            hires: import the employees at work who have no linked account; the nightly
                sync leaves them to its users import.
        """
        wanted = None if employee_ids is None else id_list(
            employee_ids, name="employee_ids", where="LifecycleSync")
        employees = self._employees(wanted)
        links = self.links.links()
        ids = wanted if wanted is not None else _everyone(employees, links, hires)
        if not any(_may_change(employees.get(i), links.get(i), self.leavers, hires)
                   for i in ids):
            return [decide_unchanged(i, employees.get(i), links.get(i)) for i in ids]
        context = Context(
            directory=CardsDirectory(self.cards.users.list()),
            departments=self._department_index() if self.scope is not DepartmentScope.NONE
            else {},
            links=self.links, scope=self.scope, leavers=self.leavers, hires=hires,
            linked_emails={link.email: link.employee_id for link in links.values()},
        )
        return [decide(i, employees.get(i), links.get(i), context) for i in ids]

    def run(self, employee_ids: Iterable[str | int] | None = None, *, hires: bool = True,
            force: bool = False, dry_run: bool = False,
            progress: Progress | None = None) -> SyncReport:
        """Apply the rules to ``employee_ids`` (``None``: everyone); return the report.

        Args:
            employee_ids: the employees to look at (``None``: everyone, see :meth:`plan`).
            hires: import the employees at work who have no linked account.
            force: apply the offboardings even past the safety threshold.
            dry_run: write nothing; the report is the plan.
            progress: called as ``progress(done, total)`` after each employee.

        A failed employee is reported with the error and the others go on; a rerun
        converges (Lucca is read again, and the links say what was done).
        """
        options = attrs.evolve(self._import, dry_run=dry_run)
        changes = self.plan(employee_ids, hires=hires)
        held, notes = self._safety(changes, force)
        writer = ChangeWriter(self.cards, self.links, options, self.leavers)
        items = []
        for done, change in enumerate(changes, start=1):
            items.append(writer.apply(change, held=held))
            if progress is not None:
                progress(done, len(changes))
        return SyncReport(operation="lifecycle", dry_run=dry_run, items=items, notes=notes)

    def _safety(self, changes: Sequence[Change], force: bool) -> tuple[str | None, list[str]]:
        """Return why the offboardings are held (``None``: they go), and the notes."""
        leaving = sum(1 for c in changes if c.kind is ChangeKind.LEAVE)
        if self.leavers is LeaverAction.REPORT or not leaving:
            return None, []
        linked = sum(1 for link in self.links.links().values() if not link.offboarded)
        limit = max(self.max_offboarded, self.max_offboarded_share * linked)
        if leaving <= limit:
            return None, []
        said = (f"safety stop: {leaving} accounts would be offboarded, more than "
                f"{self.max_offboarded} and {self.max_offboarded_share:.0%} of the {linked} "
                "linked accounts")
        if force:
            return None, [f"{said}; forced, so they were"]
        return (f"{said}; nothing was offboarded: check Lucca, then run again with --force",
                [f"{said}: the offboardings are held until a forced run"])

    def _employees(self, wanted: Sequence[str] | None) -> dict[str, Employee]:
        if wanted is not None and not wanted:
            return {}
        found = self.lucca.employees.list() if wanted is None else \
            self.lucca.employees.list(ids=wanted)
        return {employee.id: employee for employee in found}

    def _department_index(self) -> dict[str, Department]:
        now = self._clock()
        if self._departments is None or now - self._departments[0] > DEPARTMENTS_TTL:
            index = {d.id: d for d in self.lucca.departments.list()}
            self._departments = (now, index)
        return self._departments[1]


def _everyone(employees: dict[str, Employee], links: dict[str, Link],
              hires: bool) -> list[str]:
    """Every linked employee, and the others too when hires are imported."""
    ids = set(links) | (set(employees) if hires else set())
    return sorted(ids, key=lambda i: (len(i), i))


def _may_change(employee: Employee | None, link: Link | None, leavers: LeaverAction,
                hires: bool) -> bool:
    """Whether Cards must be read for this employee (else nothing can change)."""
    if link is None:
        return hires and employee is not None and employee.status in AT_WORK
    if employee is None or employee.status == LEFT:
        return link.offboarded != leavers.value
    return (bool(link.offboarded) or employee.department_id != link.department_id
            or match_key(employee.email) != link.email)


def decide_unchanged(employee_id: str, employee: Employee | None,
                     link: Link | None) -> Change:
    """Return the change of an employee nothing happened to (Cards was not read)."""
    return Change(employee_id=employee_id, employee=employee, link=link,
                  kind=ChangeKind.NONE, reason="nothing changed since the last run")
