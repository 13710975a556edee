"""Make one life-cycle :class:`~._lifecycle_plan.Change` true in Cards, and remember it.

Hires go through the importers' :class:`~._accounts.AccountWriter` (same creation,
matching and options). An update is one ``PUT`` (the new email and the groups together),
after a fresh read of the account when its groups change, since ``PUT`` replaces them.
A failure becomes a ``FAILED`` item, never an exception that stops the others.
"""

from __future__ import annotations

import contextlib
import logging

from .._values import LeaverAction
from ..cards.client import CardsClient
from ..cards.models import CardsUser, GroupRef, UserChanges
from ..errors import LuccaCardsError, NotFoundError
from ._accounts import AccountWriter, ImportOptions
from ._lifecycle_plan import Change, ChangeKind
from ._memberships import Memberships
from .links import LinkStore
from .report import SyncItem, SyncOutcome

_log = logging.getLogger("lucca_cards.lifecycle")


class ChangeWriter:
    """Apply changes with the options of one run (import options, leaver rule, dry run)."""

    def __init__(self, cards: CardsClient, links: LinkStore, options: ImportOptions,
                 leavers: LeaverAction, memberships: Memberships, *,
                 forced: bool = False) -> None:
        self._cards, self._links, self._leavers = cards, links, leavers
        self._options, self._forced = options, forced
        self._memberships = memberships
        self._accounts = AccountWriter(cards, links, options, memberships)

    def flush(self) -> None:
        """Write the links buffered by the user-import rules (hires found linked)."""
        self._accounts.flush()

    @property
    def dry_run(self) -> bool:
        """Whether nothing is written."""
        return self._options.dry_run

    def apply(self, change: Change, *, held: str | None = None) -> SyncItem:
        """Apply ``change`` (or hold it, with the reason ``held``); never raise."""
        try:
            return self._apply(change, held)
        except LuccaCardsError as error:
            return _item(change, SyncOutcome.FAILED, str(error))
        except Exception as error:  # a bug: this employee fails, the others go on
            _log.debug("the change of employee %s failed", change.employee_id, exc_info=True)
            return _item(change, SyncOutcome.FAILED,
                         f"{type(error).__name__} (a bug in lucca-cards; please report it)")

    def _apply(self, change: Change, held: str | None) -> SyncItem:
        if change.kind is ChangeKind.HIRE:
            assert change.row is not None  # decide() gives every hire its row
            return self._accounts.apply(change.row, change.join)
        if change.kind is ChangeKind.REPORT:
            return _item(change, SyncOutcome.REPORTED, change.reason)
        if change.kind is ChangeKind.LEAVE:
            if held is not None:
                if not self.dry_run:  # held until a forced run, whatever the next count
                    self._links.hold(change.employee_id)
                return _item(change, SyncOutcome.HELD, held)
            return self._offboard(change)
        if change.kind is ChangeKind.ERROR:
            return _item(change, SyncOutcome.FAILED, change.reason)
        if change.kind is ChangeKind.UPDATE:
            return self._update(change)
        if change.relink and not self.dry_run and change.employee is not None:
            self._links.moved(change.employee_id, change.employee.department_id,
                              change.group_after)
        return _item(change, SyncOutcome.UNCHANGED, change.reason)

    def _update(self, change: Change) -> SyncItem:
        account, employee = change.account, change.employee
        assert account is not None  # an update has the linked account…
        assert employee is not None  # …and the employee Lucca holds
        said = _said(change)
        if self.dry_run:
            return _item(change, SyncOutcome.UPDATED, said)
        changes: UserChanges = {}
        if change.new_email is not None:
            changes["email"] = change.new_email
        if change.join is not None or change.leave is not None:
            # PUT replaces every group: build on groups read at most max_age ago.
            account = self._memberships.current(account)
            groups = _groups(account, change)
            if groups != list(account.groups):
                changes["groups"] = groups
        if changes:
            account = self._cards.users.update(account.id, **changes)
            self._memberships.wrote(account)
            if change.join is not None:
                change.join.learn(account)
        if change.new_email is not None:
            self._links.changed_email(change.employee_id, change.new_email)
        self._links.moved(change.employee_id, employee.department_id, change.group_after)
        return _item(change, SyncOutcome.UPDATED, said, account)

    def _offboard(self, change: Change) -> SyncItem:
        account = change.account
        assert account is not None  # a leaver to offboard has a linked account
        rule = self._leavers
        if rule is LeaverAction.REPORT or (
                rule is LeaverAction.REMOVE_FROM_GROUPS and not account.groups):
            if not self.dry_run:  # applied: not reported again; nothing written to count
                self._links.offboard(change.employee_id, rule.value, counted=False)
            if rule is LeaverAction.REPORT:
                return _item(change, SyncOutcome.REPORTED, "left the company; the leaver "
                             "rule is 'report': nothing written")
            return _item(change, SyncOutcome.UNCHANGED,
                         "left the company; the account is in no group: nothing to remove")
        if self.dry_run:
            return _item(change, SyncOutcome.OFFBOARDED, _offboarding(rule, account))
        if rule is LeaverAction.DELETE:
            with contextlib.suppress(NotFoundError):  # deleted in Cards meanwhile: as wanted
                self._cards.users.delete(account.id)
        else:  # later moves of this run build on what Cards answered
            self._memberships.wrote(self._cards.users.update(account.id, groups=[]))
        self._links.offboard(change.employee_id, rule.value, counted=not self._forced)
        return _item(change, SyncOutcome.OFFBOARDED, _offboarding(rule, account))


def _groups(account: CardsUser, change: Change) -> list[GroupRef]:
    """Return the account's groups once the old department's is left, the new one joined."""
    groups = [g for g in account.groups if change.leave is None or g.name != change.leave]
    if change.join is not None and not change.join.holds(account):
        groups.append(change.join.ref())
    return groups


def _said(change: Change) -> str:
    parts = []
    if change.new_email is not None:
        parts.append(f"email changed to {change.new_email!r}")
    elif change.email_problem is not None:
        parts.append(change.email_problem)
    if change.leave is not None:
        parts.append(f"left the group {change.leave!r}")
    if change.join is not None:
        parts.append(f"joined the group {change.join.name!r}")
    return "; ".join(parts)


def _offboarding(rule: LeaverAction, account: CardsUser) -> str:
    if rule is LeaverAction.DELETE:
        return "left the company; the account (created by the integration) was deleted"
    names = ", ".join(repr(g.name) for g in account.groups) or "none"
    return f"left the company; removed from every group (was in: {names})"


def _item(change: Change, outcome: SyncOutcome, reason: str | None,
          account: CardsUser | None = None) -> SyncItem:
    user = account or change.account
    email = change.employee.email if change.employee is not None else (
        change.link.email if change.link is not None else None)
    group = change.join.name if change.join is not None else None
    return SyncItem(employee_id=change.employee_id, name=change.name, email=email,
                    outcome=outcome, reason=reason or None,
                    cards_user_id=user.id if user is not None else None, group=group)
