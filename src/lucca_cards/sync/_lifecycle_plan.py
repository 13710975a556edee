"""The life-cycle rules: what a hire, a move, an email change or a leaver means in Cards.

Pure decisions, no request: given what Lucca says of an employee now, the link the
integration remembers and the Cards accounts, :func:`decide` returns one
:class:`Change`. The same rules serve Lucca's events (a few employees, seconds after
the change) and the nightly sync (every employee, the reconciliation).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence

import attrs

from .._values import DepartmentScope, LeaverAction
from ..cards.models import CardsUser
from ..lucca.models import Department, Employee
from ..state.links import Link
from ._accounts import GroupTarget
from ._lifecycle_read import AT_WORK
from ._plan import CardsDirectory, UserRow, UserState, plan_users
from ._rules import email_problem, match_key
from .departments import group_name, group_name_problem
from .links import LinkStore

_log = logging.getLogger("lucca_cards.lifecycle")

#: The status of a leaver: Lucca computes it once the contract's end date has passed.
LEFT = "deactivated"
#: Why an employee missing from an answer by id (and not announced deleted) is left alone.
OUT_OF_SIGHT = ("not visible to the OAuth client (deleted without an event, or outside its "
                "business establishments): left to the nightly sync")


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
    ERROR = "error"
    """The rules failed on this employee's data (a bug): reported as failed, retried."""


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
        email_problem: for an update, why the new email cannot be given (for a human).
        join: the department group to join (hires and updates).
        leave: the name of the department group to leave (a move).
        group_after: the department group the account is in once the change is applied.
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
    email_problem: str | None = None
    join: GroupTarget | None = None
    leave: str | None = None
    group_after: str | None = None
    relink: bool = False
    reason: str | None = None

    @property
    def name(self) -> str:
        """The employee's display name, or ``employee <id> (gone from Lucca)``."""
        if self.employee is None:
            return f"employee {self.employee_id} (gone from Lucca)"
        return self.employee.full_name or f"employee {self.employee_id}"


@attrs.frozen(kw_only=True)
class Context:
    """What every decision of one run shares: Cards, Lucca, the links, the options.

    Attributes:
        directory: the Cards accounts (one sweep).
        departments: the Lucca departments, by id.
        groups: the Cards groups that exist, name → id (those with members from the
            sweep; under ``imported``, the empty ones too, from a kept list).
        links: the link store (the user importer's planner reads it).
        in_use: Cards account id → the employees whose link to it is not offboarded
            (nor known to have left).
        at_work: matching key → the employees at work who have it (from Lucca), for the
            emails of the hires and of the leavers' accounts.
        scope, leavers: the options.
        hires: whether employees at work without an account are imported.
        complete: every employee was read (the nightly): one missing was deleted.
        deleted: employees whose deletion Lucca announced (``employee.deleted``).
    """

    directory: CardsDirectory
    departments: Mapping[str, Department]
    groups: Mapping[str, str]
    links: LinkStore
    in_use: Mapping[str, Sequence[str]]
    at_work: Mapping[str, Sequence[str]]
    scope: DepartmentScope
    leavers: LeaverAction
    hires: bool = True
    complete: bool = False
    deleted: frozenset[str] = frozenset()

    def target(self, department_id: str | None) -> GroupTarget | None:
        """Return the group of ``department_id`` when its group is kept in step."""
        department = self.departments.get(department_id or "")
        if department is None or self.scope is DepartmentScope.NONE:
            return None
        name = group_name(department)
        if group_name_problem(name) is not None:
            return None
        existing = self.groups.get(name)
        if existing is None and self.scope is DepartmentScope.IMPORTED:
            return None
        return GroupTarget(name, existing)


def decide(employee_id: str, employee: Employee | None, link: Link | None,
           context: Context) -> Change:
    """Return what Lucca's current view of one employee means in Cards.

    Never raises: a bug on one employee's data is an ``ERROR`` change (reported as
    failed, so that their events are retried), and the others go on.
    """
    try:
        return _decide(employee_id, employee, link, context)
    except Exception as error:
        _log.debug("the rules failed on employee %s", employee_id, exc_info=True)
        return Change(employee_id=employee_id, employee=employee, link=link,
                      kind=ChangeKind.ERROR,
                      reason=f"{type(error).__name__} (a bug in lucca-cards; please report it)")


def _decide(employee_id: str, employee: Employee | None, link: Link | None,
            context: Context) -> Change:
    account = context.directory.get(link.cards_user_id if link else None)
    if employee is None and not (context.complete or employee_id in context.deleted):
        # Absent from an answer by id: deleted, or moved out of the business
        # establishments the OAuth client sees. Never offboarded on that alone.
        return Change(employee_id=employee_id, employee=None, link=link,
                      kind=ChangeKind.NONE, account=account, reason=OUT_OF_SIGHT)
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
    rule = context.leavers.value
    if link.offboarded == rule:
        return attrs.evolve(change, reason=f"left the company; the leaver rule {rule!r} "
                            "was applied already")
    others = [e for e in context.in_use.get(account.id, ()) if e != employee_id]
    others += [e for e in context.at_work.get(match_key(account.email) or "", ())
               if e != employee_id and e not in others]
    if others:
        return attrs.evolve(change, reason=(
            f"left the company; employee {others[0]}, at work, has the account's email (a "
            "record created again?): the account is left in place"))
    if context.leavers is LeaverAction.DELETE and not link.created:
        return attrs.evolve(change, kind=ChangeKind.REPORT, reason=(
            "left the company; the account is not known to have been created by the "
            "integration (it was linked, or made before lucca-cards recorded it), so it is "
            "never deleted: delete it in Cards if it must go"))
    return attrs.evolve(change, kind=ChangeKind.LEAVE)


def _hire(employee: Employee, link: Link | None, context: Context) -> Change:
    change = Change(employee_id=employee.id, employee=employee, link=link,
                    kind=ChangeKind.HIRE)
    if not context.hires:
        return attrs.evolve(change, kind=ChangeKind.NONE,
                            reason="not imported yet: the users import does it")
    row = plan_users([employee], context.directory, context.links)[0]
    key = row.email or ""
    others = [e for e in context.at_work.get(key, ()) if e != employee.id]
    others += [e for account in context.directory.find(key)
               for e in context.in_use.get(account.id, ()) if e != employee.id]
    if others and row.state is not UserState.CANNOT_BE_IMPORTED:
        reason = f"email {key!r} is also the email of employee {others[0]}"
        row = attrs.evolve(row, state=UserState.CANNOT_BE_IMPORTED, reason=reason)
    join = context.target(employee.department_id)
    return attrs.evolve(change, row=row, join=join,
                        group_after=join.name if join is not None else None)


def _update(employee: Employee, link: Link, account: CardsUser, context: Context) -> Change:
    change = Change(employee_id=employee.id, employee=employee, link=link,
                    kind=ChangeKind.UPDATE, account=account, group_after=link.group_name,
                    relink=link.offboarded is not None)
    key = match_key(employee.email)
    if key is not None and key != match_key(account.email):
        taken = [a for a in context.directory.find(key) if a.id != account.id]
        problem = (f"the new email {key!r} belongs to another Cards account; the email was "
                   "not changed: merge or free it in Cards" if taken else email_problem(key))
        change = attrs.evolve(change, email_problem=problem,
                              new_email=None if problem else key)
    # Groups follow a move or a return (a link made before departments were recorded
    # counts as a move); otherwise they stay as they are (someone may have changed them).
    now = employee.department_id
    if now != link.department_id or link.offboarded:
        change = attrs.evolve(change, relink=True)
        if context.scope is not DepartmentScope.NONE:
            change = _regroup(change, link, account, context.target(now))
    if change.new_email or change.join or change.leave:
        return change
    if change.email_problem:
        return attrs.evolve(change, kind=ChangeKind.REPORT, reason=change.email_problem)
    return attrs.evolve(change, kind=ChangeKind.NONE)


def _regroup(change: Change, link: Link, account: CardsUser,
             target: GroupTarget | None) -> Change:
    """Join the new department's group; leave the one the integration put them in."""
    held = {group.name for group in account.groups}
    join = target if target is not None and not target.holds(account) else None
    new_name = target.name if target is not None else None
    old = link.group_name
    leave = old if old and old != new_name and old in held else None
    return attrs.evolve(change, join=join, leave=leave, group_after=new_name)


def keep_claimed(changes: Sequence[Change]) -> list[Change]:
    """Leave in place the accounts that hires of the same run link to.

    An employee deleted and created again in Lucca gets a new id: the new record is
    linked to the account by email, and the old one's leaving must not take it away.
    """
    claimed = {change.row.cards_user.id: change.employee_id for change in changes
               if change.kind is ChangeKind.HIRE and change.row is not None
               and change.row.cards_user is not None
               and change.row.state is not UserState.CANNOT_BE_IMPORTED}
    kept = []
    for change in changes:
        taker = claimed.get(change.account.id) if change.account is not None else None
        if taker is not None and taker != change.employee_id and change.kind in (
                ChangeKind.LEAVE, ChangeKind.REPORT):
            change = attrs.evolve(change, kind=ChangeKind.NONE, reason=(
                f"left the company; the account is now linked to employee {taker} (the "
                "same email): left in place"))
        kept.append(change)
    return kept
