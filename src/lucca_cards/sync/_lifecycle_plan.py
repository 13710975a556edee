"""The life-cycle rules: what a hire, a move, an email change or a leaver means in Cards.

Pure decisions, no request: given what Lucca says of an employee now, the link the
integration remembers and the Cards accounts, :func:`decide` returns one
:class:`Change`. The same rules serve Lucca's events (a few employees, seconds after
the change) and the nightly sync (every employee, the reconciliation).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from .._values import DepartmentScope, LeaverAction
from ..cards.models import CardsUser
from ..lucca.models import Department, Employee
from ..state.links import Link
from ._accounts import GroupTarget
from ._plan import CardsDirectory, UserRow, UserState, plan_users
from ._rules import email_problem, match_key
from .departments import group_name, group_name_problem
from .links import LinkStore

#: The statuses of people at work (a hire may be upcoming: their account is ready on day one).
AT_WORK = ("active", "upcoming")
#: The status of a leaver: Lucca computes it once the contract's end date has passed.
LEFT = "deactivated"


class ChangeKind(str, enum.Enum):
    """What one employee's change means."""

    HIRE = "hire"
    """No linked account: import them (create or link), into their department's group."""
    UPDATE = "update"
    """A linked account whose email or department group must follow Lucca."""
    LEAVE = "leave"
    """A leaver with a linked account: the configured leaver rule applies."""
    REPORT = "report"
    """Nothing can be written; a human must look (``reason`` says why)."""
    NONE = "none"
    """Nothing to do in Cards (the link may still be brought up to date)."""


@attrs.frozen(kw_only=True)
class Change:
    """What to do for one employee (see :class:`ChangeKind`).

    Attributes:
        employee_id: the Lucca employee.
        employee: the employee as Lucca holds them now (``None``: deleted, or no longer
            visible to the OAuth client).
        link: the link the integration remembers, if any.
        kind: what the change means.
        row: for a hire, the row the user importer would apply.
        account: the linked Cards account (updates and leavers).
        new_email: for an update, the email to give the account.
        join: the department group to join (hires and updates).
        leave: the name of the department group to leave (a move).
        relink: the link must be brought up to date (department, offboarding forgotten).
        reason: why (a report, a refused hire, a leaver left in place).
    """

    employee_id: str
    employee: Employee | None
    link: Link | None
    kind: ChangeKind
    row: UserRow | None = None
    account: CardsUser | None = None
    new_email: str | None = None
    join: GroupTarget | None = None
    leave: str | None = None
    relink: bool = False
    reason: str | None = None

    @property
    def name(self) -> str:
        """The employee's display name, or ``employee <id>`` once deleted."""
        if self.employee is None:
            return f"employee {self.employee_id}"
        return self.employee.full_name or f"employee {self.employee_id}"


@attrs.frozen(kw_only=True)
class Context:
    """What every decision of one run shares: Cards, the departments, the options."""

    directory: CardsDirectory
    departments: Mapping[str, Department]
    links: LinkStore
    linked_emails: Mapping[str, str]  # matching key -> the employee id linked with it
    scope: DepartmentScope
    leavers: LeaverAction
    hires: bool = True

    def target(self, department_id: str | None) -> GroupTarget | None:
        """Return the group of ``department_id`` when its group is kept in step."""
        department = self.departments.get(department_id or "")
        if department is None or self.scope is DepartmentScope.NONE:
            return None
        name = group_name(department)
        if group_name_problem(name) is not None:
            return None
        existing = self.directory.groups().get(name)
        if existing is None and self.scope is DepartmentScope.IMPORTED:
            return None
        return GroupTarget(name, existing)


def decide(employee_id: str, employee: Employee | None, link: Link | None,
           context: Context) -> Change:
    """Return what Lucca's current view of one employee means in Cards."""
    account = context.directory.get(link.cards_user_id if link else None)
    if employee is None or employee.status == LEFT:
        return _leaver(employee_id, employee, link, account, context)
    if employee.status not in AT_WORK:  # undocumented: never taken for a leaver
        return Change(employee_id=employee_id, employee=employee, link=link,
                      kind=ChangeKind.NONE, account=account,
                      reason=f"status {employee.status!r:.40} is not one the rules know")
    if link is None or account is None:
        return _hire(employee, link, context)
    return _update(employee, link, account, context)


def _leaver(employee_id: str, employee: Employee | None, link: Link | None,
            account: CardsUser | None, context: Context) -> Change:
    change = Change(employee_id=employee_id, employee=employee, link=link,
                    kind=ChangeKind.NONE, account=account)
    if link is None or account is None:
        return attrs.evolve(change, reason="left the company; no linked Cards account")
    if link.offboarded == context.leavers.value:
        return attrs.evolve(change, reason="left the company; already offboarded")
    if context.leavers is LeaverAction.DELETE and not link.created:
        return attrs.evolve(change, kind=ChangeKind.REPORT, reason=(
            "left the company; the account was not created by the integration, so it is "
            "never deleted: delete it in Cards if it must go"))
    return attrs.evolve(change, kind=ChangeKind.LEAVE)


def _hire(employee: Employee, link: Link | None, context: Context) -> Change:
    change = Change(employee_id=employee.id, employee=employee, link=link,
                    kind=ChangeKind.HIRE)
    if not context.hires:
        return attrs.evolve(change, kind=ChangeKind.NONE,
                            reason="not imported yet: the users import does it")
    row = plan_users([employee], context.directory, context.links)[0]
    key = row.email
    other = context.linked_emails.get(key or "")
    if other is not None and other != employee.id and row.state is not UserState.ALREADY_LINKED:
        reason = f"email {key!r} is also the email of employee {other}, linked to its account"
        row = attrs.evolve(row, state=UserState.CANNOT_BE_IMPORTED, reason=reason)
    return attrs.evolve(change, row=row, join=context.target(employee.department_id))


def _update(employee: Employee, link: Link, account: CardsUser, context: Context) -> Change:
    change = Change(employee_id=employee.id, employee=employee, link=link,
                    kind=ChangeKind.UPDATE, account=account,
                    relink=link.offboarded is not None)
    key = match_key(employee.email)
    if key is not None and key != match_key(account.email):
        taken = [a for a in context.directory.find(key) if a.id != account.id]
        problem = (f"the new email {key!r} belongs to another Cards account; nothing was "
                   "written: merge or free it in Cards" if taken else email_problem(key))
        if problem:
            return attrs.evolve(change, kind=ChangeKind.REPORT, reason=problem)
        change = attrs.evolve(change, new_email=key)
    # After an offboarding the account left every group: a return joins again.
    before = None if link.offboarded else link.department_id
    now = employee.department_id
    join = context.target(now)
    if join is not None and join.holds(account):
        join = None
    leave = None
    old = context.target(before) if before not in (None, now) else None
    if old is not None and old.holds(account) and old.name != (join.name if join else
                                                                _name(context, now)):
        leave = old.name
    change = attrs.evolve(change, join=join, leave=leave,
                          relink=change.relink or before != now)
    if change.new_email is None and join is None and leave is None:
        return attrs.evolve(change, kind=ChangeKind.NONE)
    return change


def _name(context: Context, department_id: str | None) -> str | None:
    department = context.departments.get(department_id or "")
    return None if department is None else group_name(department)
