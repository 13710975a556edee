"""``DepartmentImporter``: each Lucca department becomes a Cards group of the same name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._paths import id_list
from .._untrusted import text_problem
from ..cards.models import MAX_TEXT_LENGTH, ConnectionMode
from ..lucca.models import Department, Employee
from ..state.links import Link
from ._accounts import AccountWriter, GroupTarget, ImportOptions, Progress, run_items
from ._base import BaseImporter
from ._memberships import Memberships
from ._parallel import Stopped, side_by_side
from ._plan import CardsDirectory, UserRow, UserState, plan_users
from .report import SyncReport


@attrs.frozen(kw_only=True)
class DepartmentRow:
    """One line of a department-import preview.

    Attributes:
        department: the Lucca department.
        members: how many of the considered employees belong to it.
        group_exists: whether a Cards group of the same name exists.
        missing: members who can be imported but are not in that group yet (with or
            without a Cards account).
        same_name: the ids of the other departments with the same name (they share
            one Cards group).
        reason: why the department cannot become a group (its name), else ``None``.
        path: the names from the root department down to this one, joined by ``" › "``
            ("Siège Paris › Marketing"): what tells same-named departments apart.
    """

    department: Department
    members: int
    group_exists: bool
    missing: int
    same_name: tuple[str, ...] = ()
    reason: str | None = None
    path: str = ""

    @property
    def name(self) -> str:
        """Return the group name: the department's name, trimmed."""
        return group_name(self.department)

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a flat ``dict``, for a DataFrame (``same_name`` a list of ids).

        ``name`` is the group name; ``path`` tells same-named departments apart::

            pandas.DataFrame(row.to_dict() for row in DepartmentImporter(lucca, cards).preview())
        """
        return {"department_id": self.department.id, "name": self.name, "path": self.path,
                "parent_id": self.department.parent_id, "members": self.members,
                "group_exists": self.group_exists, "missing": self.missing,
                "same_name": list(self.same_name), "reason": self.reason}


#: Between a department and its parent in a path ("Siège Paris › Marketing").
PATH_SEPARATOR = " › "
#: The most ancestors a path names (a parent chain that loops, or is absurdly deep, stops).
_MAX_DEPTH = 32


def department_path(department: Department, by_id: Mapping[str, Department]) -> str:
    """Return ``"Siège Paris › Marketing"``: the names from the root down to ``department``.

    A parent not among ``by_id`` ends the path there; a chain that loops is cut where it
    comes back.

    >>> root = Department(id="1", name="Siège Paris")
    >>> department_path(Department(id="5", name="Marketing", parent_id="1"), {"1": root})
    'Siège Paris › Marketing'
    """
    names: list[str] = []
    seen: set[str] = set()
    current: Department | None = department
    while current is not None and current.id not in seen and len(names) < _MAX_DEPTH:
        seen.add(current.id)
        names.append(group_name(current) or f"department {current.id}")
        current = by_id.get(current.parent_id) if current.parent_id else None
    return PATH_SEPARATOR.join(reversed(names))


def group_name(department: Department) -> str:
    """Return the Cards group name of a department (its name, trimmed)."""
    return (department.name or "").strip()


def group_name_problem(name: str) -> str | None:
    """Return why the (trimmed) name cannot name a Cards group, or ``None``.

    A name from Lucca with a control character, a bidirectional control or nothing
    visible is refused with the reason, never cleaned: see :mod:`lucca_cards._untrusted`.
    """
    if not name:
        return "the department has no name"
    problem = text_problem("its name", name)
    if problem:
        return f"{problem}; fix it in Lucca"
    if len(name) > MAX_TEXT_LENGTH:
        return f"its name has {len(name)} characters; a Cards group name has {MAX_TEXT_LENGTH}"
    return None


@attrs.frozen(kw_only=True)
class _Snapshot:
    """Everything an import reads: four paged sweeps (departments, employees, users, groups)."""

    departments: list[Department]
    members: dict[str, list[UserRow]]
    groups: dict[str, str]
    memberships: Memberships
    known: dict[str, Link]
    #: The departments by group name (worked out once: every row looks for its twins).
    by_name: dict[str, list[str]] = attrs.field(init=False)

    by_id: dict[str, Department] = attrs.field(init=False)

    @by_id.default
    def _by_id(self) -> dict[str, Department]:
        return {department.id: department for department in self.departments}

    @by_name.default
    def _by_name(self) -> dict[str, list[str]]:
        named: dict[str, list[str]] = defaultdict(list)
        for department in self.departments:
            named[group_name(department)].append(department.id)
        return dict(named)

    def row(self, department: Department) -> DepartmentRow:
        name = group_name(department)
        target = GroupTarget(name, self.groups.get(name))
        members = self.members.get(department.id, [])
        importable = [r for r in members if r.state is not UserState.CANNOT_BE_IMPORTED]
        missing = sum(1 for r in importable if r.cards_user is None or not target.holds(
            r.cards_user))
        twins = tuple(i for i in self.by_name.get(name, ()) if i != department.id)
        return DepartmentRow(department=department, members=len(members),
                             group_exists=target.id is not None, missing=missing,
                             same_name=twins, reason=group_name_problem(name),
                             path=department_path(department, self.by_id))


class DepartmentImporter(BaseImporter):
    """Import Lucca departments as Cards groups, the way Cards' "Synchro departments" does.

    For each chosen department: a Cards group with the department's name exists, every
    employee of the department has a Cards account (created if missing, with the same
    rules and options as :class:`~lucca_cards.UserImporter`), and is a member of the
    group. Memberships change through ``PUT /v1/users/{id}`` with the **union** of the
    user's groups and the new one: an import never removes anyone from any group.

    Employees and their departments come from one sweep of employees with embedded job
    positions, not one call per department; Cards users (with their groups) from one
    sweep of users, and groups from one sweep of groups, read while Lucca is. A join's
    ``PUT`` is built on the account's groups read at most ``memberships_max_age`` seconds
    before (the sweep's, or its page read again: about one call per join). Departments
    with the same name in different branches share one group; the report says so.

    Args:
        lucca, cards: the clients.
        links: as for :class:`~lucca_cards.UserImporter`.
        statuses: the employee statuses imported (active and upcoming by default).

    >>> report = DepartmentImporter(lucca, cards).run(department_ids=["12"])  # doctest: +SKIP
    """

    def _snapshot(self) -> _Snapshot:
        (departments, employees), (directory, memberships, groups, known) = side_by_side(
            self._lucca_side, self._cards_side)
        members: dict[str, list[UserRow]] = defaultdict(list)
        linked = {employee: link.cards_user_id for employee, link in known.items()}
        for row in plan_users(employees, directory, linked):
            if row.employee.department_id is not None:
                members[row.employee.department_id].append(row)
        return _Snapshot(departments=departments, members=dict(members), groups=groups,
                         memberships=memberships, known=known)

    def _lucca_side(self, stopped: Stopped) -> tuple[list[Department], list[Employee]]:
        return list(self.lucca.departments.list()), self._employees(stopped)

    def _cards_side(self, stopped: Stopped) -> tuple[CardsDirectory, Memberships,
                                                     dict[str, str], dict[str, Link]]:
        directory, memberships, known = self._accounts_and_links(stopped)
        groups: dict[str, str] = {}
        for group in self.cards.groups.list():
            groups.setdefault(group.name or "", group.id)
        return directory, memberships, groups, known

    def preview(self) -> list[DepartmentRow]:
        """Return one row per Lucca department: members, group, who is still missing."""
        snapshot = self._snapshot()
        return [snapshot.row(department) for department in snapshot.departments]

    def run(
        self,
        department_ids: Iterable[str | int] | None = None,
        notify: bool = False,
        connection_mode: ConnectionMode | str = ConnectionMode.PASSWORD,
        dry_run: bool = False,
        progress: Progress | None = None,
        *,
        imported_only: bool = False,
    ) -> SyncReport:
        """Import every department, or those of ``department_ids``; return the report.

        The report has one item per member of the chosen departments (created, linked,
        added to group, unchanged, skipped with the reason, failed with the error), and
        notes for departments that share a group, have no one to import, or were not
        found. Options are those of :meth:`UserImporter.run`; with ``imported_only``,
        only the chosen departments whose Cards group exists already (imported before)
        are run: what the nightly sync keeps up to date, without creating new groups.
        """
        options = ImportOptions(notify=notify, connection_mode=connection_mode,
                                dry_run=dry_run)
        # Checked (and a one-shot iterator read) before anything is asked of Lucca.
        wanted = None if department_ids is None else id_list(
            department_ids, name="department_ids", where="DepartmentImporter.run")
        snapshot = self._snapshot()
        chosen, notes = _choose(snapshot.departments, wanted)
        if imported_only:
            chosen = [d for d in chosen if snapshot.row(d).group_exists]
        targets: dict[str, GroupTarget] = {}
        work: list[tuple[UserRow, GroupTarget | None]] = []
        for department in chosen:
            row = snapshot.row(department)
            notes += _notes(row, snapshot)
            members = snapshot.members.get(department.id, [])
            if row.reason is not None:
                work += [(_refused(member, row.reason), None) for member in members]
                continue
            target = targets.setdefault(row.name, GroupTarget(row.name, snapshot.groups.get(
                row.name)))
            work += [(member, target) for member in members]
        writer = AccountWriter(self.cards, self.links, options, snapshot.memberships,
                               snapshot.known)
        items = run_items(work, writer, progress, total=len(work),
                          order=_sweep_order(snapshot.memberships))
        return SyncReport(operation="departments", dry_run=dry_run, items=items,
                          notes=dict.fromkeys(notes))


def _choose(
    departments: Sequence[Department], wanted: Sequence[str] | None
) -> tuple[list[Department], list[str]]:
    if wanted is None:
        return list(departments), []
    by_id = {d.id: d for d in departments}
    notes = [f"department {i} was not found in Lucca" for i in wanted if i not in by_id]
    return [by_id[i] for i in wanted if i in by_id], notes


def _notes(row: DepartmentRow, snapshot: _Snapshot) -> list[str]:
    notes = []
    if row.same_name:
        ids = sorted((row.department.id, *row.same_name), key=_numeric)
        notes.append(f"departments {', '.join(ids)} are all named {row.name!r}: "
                     "their members share one Cards group")
    importable = sum(1 for member in snapshot.members.get(row.department.id, [])
                     if member.state is not UserState.CANNOT_BE_IMPORTED)
    if row.reason is not None:
        notes.append(f"department {row.department.id} cannot become a group: {row.reason}")
    elif not importable:
        who = ("has no employee to import" if not row.members else
               f"has no employee who can be imported ({row.members} cannot)")
        why = "" if row.group_exists else (
            "; Cards creates a group only with a member, so none was created")
        notes.append(f"department {row.department.id} ({row.name}) {who}{why}")
    return notes


def _sweep_order(memberships: Memberships) -> Callable[[UserRow], int]:
    """Order the work as the Cards sweep listed the accounts (new accounts first).

    A join read again reads its account's whole page (500 accounts): in this order, the
    joins that follow find their groups fresh.
    """
    def order(row: UserRow) -> int:
        return -1 if row.cards_user is None else memberships.position(row.cards_user.id)

    return order


def _numeric(identifier: str) -> tuple[int, str]:
    return (int(identifier), "") if identifier.isdigit() else (0, identifier)


def _refused(row: UserRow, reason: str) -> UserRow:
    return attrs.evolve(row, state=UserState.CANNOT_BE_IMPORTED,
                        reason=f"their department {reason}")
