"""Make one planned row true in Cards: create the account, link it, put it in a group.

Both importers go through :class:`AccountWriter`, so an account is created, linked and
given a group by the same rules whichever screen asked. A failure becomes a ``FAILED``
item (the error said), never an exception that would stop the other items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from .._paths import refused
from ..cards.client import CardsClient
from ..cards.models import CardsUser, ConnectionMode, GroupRef
from ..errors import LuccaCardsError
from ..state.links import Link, changes
from ._memberships import Memberships
from ._plan import UserRow, UserState
from .links import LinkStore
from .report import SyncItem, SyncOutcome

#: ``progress(done, total)``, called after each item.
Progress = Callable[[int, int], None]
#: Links buffered before one transaction writes them.
_BATCH = 500


def _connection_mode(value: object) -> ConnectionMode:
    try:
        return ConnectionMode(value)
    except ValueError:
        raise refused("connection_mode", f"{value!r:.40} is not a connection mode: use "
                      "'password' (or ConnectionMode.PASSWORD) or 'sso' (ConnectionMode.SSO)",
                      "import") from None


def _yes_or_no(_: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise refused(attribute.name, f"must be True or False, not {value!r:.40}", "import")


@attrs.frozen(kw_only=True)
class ImportOptions:
    """The options of an import (Cards' "Notify created users" and "Connection mode").

    Raises:
        ValidationError: an option of the wrong kind (``notify="no"`` is not ``False``) or
            an unknown connection mode, listing the valid ones.
    """

    notify: bool = attrs.field(default=False, validator=_yes_or_no)
    connection_mode: ConnectionMode = attrs.field(
        default=ConnectionMode.PASSWORD, converter=_connection_mode
    )
    dry_run: bool = attrs.field(default=False, validator=_yes_or_no)


@attrs.define
class GroupTarget:
    """The Cards group a department import puts people in (``id`` once it exists)."""

    name: str
    id: str | None = None

    def holds(self, user: CardsUser) -> bool:
        """Return whether ``user`` is already a member (by id once known, else by name)."""
        # A list, not any() over a generator (slower to start): asked for every member.
        if self.id is not None:
            return self.id in [group.id for group in user.groups]
        return self.name in [group.name for group in user.groups]

    def ref(self) -> GroupRef:
        """Return how to name the group in a request (its id when it exists)."""
        return GroupRef(id=self.id, name=self.name)

    def learn(self, user: CardsUser) -> None:
        """Take the group's id from an answer in which ``user`` has joined it."""
        if self.id is None:
            self.id = next((g.id for g in user.groups if g.name == self.name and g.id), None)


class AccountWriter:
    """Apply rows to Cards with the options of one import; records links as it goes.

    A link that needed no call (an account found, or already linked) is buffered and
    written with others in one transaction (:meth:`flush`; a link that did not change is
    not written at all); one made by a write to Cards is recorded at once, so a crash
    never forgets an account the integration created.
    """

    def __init__(self, cards: CardsClient, links: LinkStore, options: ImportOptions,
                 memberships: Memberships, known: Mapping[str, Link] | None = None) -> None:
        self._cards, self._links, self.options = cards, links, options
        self._memberships = memberships
        self._known = known or {}  # the links as the run read them: unchanged ones skip
        self._pending: list[Link] = []

    def apply(self, row: UserRow, group: GroupTarget | None = None) -> SyncItem:
        """Create, link or add to ``group`` the employee of ``row``; never raise."""
        try:
            return self._apply(row, group)
        except LuccaCardsError as error:
            return _item(row, SyncOutcome.FAILED, group, reason=str(error))

    def flush(self) -> None:
        """Write the buffered links (one transaction)."""
        pending, self._pending = self._pending, []
        self._links.record_many(pending)

    def _apply(self, row: UserRow, group: GroupTarget | None) -> SyncItem:
        if row.state is UserState.CANNOT_BE_IMPORTED:
            return _item(row, SyncOutcome.SKIPPED, group, reason=row.reason)
        if row.state is UserState.WILL_BE_CREATED:
            return self._create(row, group)
        user = row.cards_user
        assert user is not None  # linked states always carry the account
        if group is not None and not group.holds(user):
            return self._join(row, user, group)
        return self._linked(row, user, group, buffered=True)

    def _linked(self, row: UserRow, user: CardsUser, group: GroupTarget | None, *,
                buffered: bool = False) -> SyncItem:
        self._link(row, user, group=group, buffered=buffered)
        already = row.state is UserState.ALREADY_LINKED
        outcome = SyncOutcome.UNCHANGED if already else SyncOutcome.LINKED
        return _item(row, outcome, group, user=user)

    def _create(self, row: UserRow, group: GroupTarget | None) -> SyncItem:
        if self.options.dry_run:
            return _item(row, SyncOutcome.CREATED, group)
        employee = row.employee
        groups: Sequence[GroupRef] = [group.ref()] if group is not None else ()
        user = self._cards.users.create(
            (employee.given_name or "").strip(), (employee.family_name or "").strip(),
            row.email or "",
            notify=self.options.notify, connection_mode=self.options.connection_mode,
            groups=groups,
        )
        self._memberships.wrote(user)
        self._link(row, user, created=True, group=group)
        if group is not None:
            group.learn(user)
        return _item(row, SyncOutcome.CREATED, group, user=user)

    def _join(self, row: UserRow, user: CardsUser, group: GroupTarget) -> SyncItem:
        if self.options.dry_run:
            return _item(row, SyncOutcome.ADDED_TO_GROUP, group, user=user)
        # PUT replaces every membership, so the union is built on groups read at most
        # memberships_max_age ago, not on a sweep that may be an hour old.
        user = self._memberships.current(user)
        if group.holds(user):  # someone added them since the sweep
            return self._linked(row, user, group)
        user = self._cards.users.update(user.id, groups=[*user.groups, group.ref()])
        self._memberships.wrote(user)
        self._link(row, user, group=group)
        group.learn(user)
        return _item(row, SyncOutcome.ADDED_TO_GROUP, group, user=user)

    def _link(self, row: UserRow, user: CardsUser, *, created: bool = False,
              group: GroupTarget | None = None, buffered: bool = False) -> None:
        """Record the link; with the department group the account is in, if any."""
        if self.options.dry_run:
            return
        if buffered and _unchanged(self._known.get(row.employee.id), user, row, created,
                                   group):
            return  # a rerun's usual case, told without building the link
        record = Link(employee_id=row.employee.id, cards_user_id=user.id,
                      email=row.email or "", created=created,
                      department_id=row.employee.department_id,
                      group_name=group.name if group is not None else None)
        if buffered and not changes(self._known.get(record.employee_id), record):
            return  # the store holds it already (the transaction would check it again)
        self._pending.append(record)
        if not buffered or len(self._pending) >= _BATCH:
            self.flush()


def _unchanged(known: Link | None, user: CardsUser, row: UserRow, created: bool,
               group: GroupTarget | None) -> bool:
    """Whether recording this link would leave ``known`` exactly as it is (the fast case).

    Only the plain case: same account, email, department and group, nothing to merge
    (:func:`~lucca_cards.state.links.changes` decides every other case).
    """
    return (known is not None and known.cards_user_id == user.id
            and known.email == (row.email or "") and known.offboarded is None
            and known.department_id == row.employee.department_id
            and known.group_name == (group.name if group is not None else None)
            and known.created >= created)


def _item(
    row: UserRow,
    outcome: SyncOutcome,
    group: GroupTarget | None,
    *,
    reason: str | None = None,
    user: CardsUser | None = None,
) -> SyncItem:
    account = user or row.cards_user
    return SyncItem(
        employee_id=row.employee.id,
        name=row.name,
        email=row.employee.email,
        outcome=outcome,
        reason=reason,
        cards_user_id=account.id if account is not None else None,
        group=group.name if group is not None else None,
    )


def run_items(
    rows: Iterable[tuple[UserRow, GroupTarget | None]],
    writer: AccountWriter,
    progress: Progress | None,
    *,
    total: int,
    order: Callable[[UserRow], int] | None = None,
) -> list[SyncItem]:
    """Apply every row, reporting progress after each; the items come in the rows' order.

    ``rows`` may be a stream (nothing but the items is then kept); ``order`` sorts the
    work first (the accounts' order in the Cards sweep, so that one page read again
    serves the writes that follow). The buffered links are written at the end, even
    when the run is interrupted.
    """
    work: Iterable[tuple[int, tuple[UserRow, GroupTarget | None]]] = enumerate(rows)
    if order is not None:
        work = sorted(work, key=lambda pair: order(pair[1][0]))
    items: list[SyncItem | None] = [None] * total
    try:
        for done, (index, (row, group)) in enumerate(work, start=1):
            items[index] = writer.apply(row, group)
            if progress is not None:
                progress(done, total)
    finally:
        writer.flush()
    return [item for item in items if item is not None]
