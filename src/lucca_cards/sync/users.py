"""``UserImporter``: Lucca employees become Cards users, matched by professional email."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from .._paths import id_list
from ..cards.models import ConnectionMode
from ._accounts import AccountWriter, ImportOptions, Progress, run_items
from ._base import NOT_CONSIDERED, BaseImporter
from ._memberships import Memberships
from ._parallel import side_by_side
from ._plan import UserRow, plan_lazily, plan_users
from .report import SyncItem, SyncOutcome, SyncReport


class UserImporter(BaseImporter):
    """Import Lucca employees into Cards, the way Cards' "User Sync" screen does.

    Every preview or run reads Lucca with one paged sweep of employees (100 a page) and,
    at the same time, Cards with one paged sweep of users (500 a page), matches them by
    lower-cased, trimmed email, then writes only what is missing: one ``POST /v1/users``
    per new account. An existing account with the same email is linked, never recreated
    or modified. A second run over unchanged data writes nothing.

    Args:
        lucca: reads the employees.
        cards: reads and creates the Cards users.
        links: remembers which account each employee was linked to (a SQLite file makes
            "already linked" survive between runs); by default kept in memory.
        statuses: the employee statuses imported (active and upcoming by default).

    >>> importer = UserImporter(lucca, cards)                       # doctest: +SKIP
    >>> [row.state for row in importer.preview()][:2]               # doctest: +SKIP
    [<UserState.WILL_BE_CREATED: 'will_be_created'>, <UserState.WILL_BE_LINKED: …>]
    >>> print(importer.run(notify=True))                            # doctest: +SKIP
    users import: 240 created, 29 linked, 13 skipped
    """

    def preview(self) -> list[UserRow]:
        """Return one row per employee: the matching account and what an import would do."""
        return self._plan()[0]

    def _plan(self) -> tuple[list[UserRow], Memberships]:
        """Read both sides at once (each has its own budget), then match them.

        A preview's rows hold the whole employee (a run keeps only what it writes).
        """
        employees, (directory, memberships) = side_by_side(
            lambda stopped: self._employees(stopped, fields=None),
            lambda stopped: self._accounts(stopped, fields=None))
        return plan_users(employees, directory, self.links.all()), memberships

    def run(
        self,
        employee_ids: Iterable[str | int] | None = None,
        notify: bool = False,
        connection_mode: ConnectionMode | str = ConnectionMode.PASSWORD,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Import every employee, or those of ``employee_ids``; return the report.

        Args:
            employee_ids: the employees to import (``None``: all). An id that is not
                among the considered employees is reported as skipped.
            notify: ask Cards to send created users their invitation email.
            connection_mode: how created users sign in (password or SSO).
            dry_run: write nothing; the report is the exact plan.
            progress: called as ``progress(done, total)`` after each employee.

        A failed employee (Cards refused or did not answer) is reported with the error
        and the others go on; run again to retry: matching by email makes a rerun
        converge without duplicates, even after a crash.
        """
        options = ImportOptions(notify=notify, connection_mode=connection_mode,
                                dry_run=dry_run)
        # Checked (and a one-shot iterator read) before anything is asked of Lucca.
        wanted = None if employee_ids is None else id_list(
            employee_ids, name="employee_ids", where="UserImporter.run")
        employees, (directory, memberships, known) = side_by_side(
            self._employees, lambda stopped: self._accounts_and_links(stopped, ("email",)))
        linked = {employee: link.cards_user_id for employee, link in known.items()}
        writer = AccountWriter(self.cards, self.links, options, memberships, known)
        if wanted is None:  # every employee: each row planned as it is written
            total = len(employees)
            rows = plan_lazily(deque(employees), directory, linked)
            del employees  # let go of each employee once written
            items = run_items(((row, None) for row in rows), writer, progress, total=total)
            return SyncReport(operation="users", dry_run=dry_run, items=items)
        chosen, missing = choose(plan_users(employees, directory, linked), wanted,
                                 self.why_not_considered)
        items = run_items([(row, None) for row in chosen], writer, progress,
                          total=len(chosen))
        return SyncReport(operation="users", dry_run=dry_run, items=(*items, *missing))


def choose(
    rows: Sequence[UserRow], wanted: Sequence[str] | None,
    why: Callable[[Iterable[str]], dict[str, str]] | None = None,
) -> tuple[list[UserRow], list[SyncItem]]:
    """Keep the rows of the ``wanted`` employee ids (all if ``None``); report those not found.

    ``why`` says why each one missing is (see :meth:`BaseImporter.why_not_considered`).
    """
    if wanted is None:
        return list(rows), []
    by_id = {row.employee.id: row for row in rows}
    absent = [i for i in wanted if i not in by_id]
    reasons = why(absent) if why is not None and absent else {}
    missing = [
        SyncItem(employee_id=i, name=f"employee {i}", email=None, outcome=SyncOutcome.SKIPPED,
                 reason=reasons.get(i, NOT_CONSIDERED))
        for i in absent
    ]
    return [by_id[i] for i in wanted if i in by_id], missing
