"""Match Lucca employees with Cards accounts by email and say what an import would do."""

from __future__ import annotations

import enum
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..cards.models import CardsUser
from ..lucca.models import Employee
from ._rules import NO_EMAIL, email_problem, match_key, name_problem
from .links import LinkStore

#: Where an employee's linked account id is looked up.
Linked = LinkStore | Mapping[str, str]


class UserState(str, enum.Enum):
    """What importing one employee means (the states Cards' "User Sync" screen shows)."""

    ALREADY_LINKED = "already_linked"
    """A Cards account with the employee's email exists and an earlier import linked it."""
    WILL_BE_LINKED = "will_be_linked"
    """A Cards account with the same email exists: it will be linked, not recreated."""
    WILL_BE_CREATED = "will_be_created"
    """No Cards account has the email: one will be created."""
    CANNOT_BE_IMPORTED = "cannot_be_imported"
    """The employee cannot be imported; ``reason`` says why."""


@attrs.frozen(kw_only=True)
class UserRow:
    """One line of a user-import preview.

    Attributes:
        employee: the Lucca employee.
        state: what an import does with them.
        cards_user: the Cards account with the same email, if any.
        reason: why the employee cannot be imported (``CANNOT_BE_IMPORTED`` only).
    """

    employee: Employee
    state: UserState
    cards_user: CardsUser | None = None
    reason: str | None = None

    @property
    def email(self) -> str | None:
        """Return the matching key: the employee's email, trimmed and lower-cased."""
        return match_key(self.employee.email)

    @property
    def name(self) -> str:
        """Return the employee's display name."""
        return f"{self.employee.given_name or ''} {self.employee.family_name or ''}".strip()

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a flat ``dict`` of texts (``None`` when absent), for a DataFrame.

        ``email`` is the employee's email as Lucca holds it (as in a report's rows);
        ``match_key`` is :attr:`email`, trimmed and lower-cased, as the training ledger
        keys its learners (join on it); ``state`` is the state's value::

            pandas.DataFrame(row.to_dict() for row in UserImporter(lucca, cards).preview())
        """
        return {"employee_id": self.employee.id, "name": self.name,
                "email": self.employee.email, "match_key": self.email,
                "department_id": self.employee.department_id,
                "state": self.state.value,
                "cards_user_id": self.cards_user.id if self.cards_user else None,
                "reason": self.reason}


class CardsDirectory:
    """Cards accounts indexed by matching key (accounts sharing a key are ambiguous)."""

    def __init__(self, users: Iterable[CardsUser]) -> None:
        by_key: dict[str, list[CardsUser]] = defaultdict(list)
        self._by_id: dict[str, CardsUser] = {}
        for user in users:
            self._by_id[user.id] = user
            key = match_key(user.email)
            if key is not None:
                by_key[key].append(user)
        self._by_key = dict(by_key)

    def find(self, key: str) -> list[CardsUser]:
        """Return the accounts whose email has ``key`` (usually zero or one)."""
        return self._by_key.get(key, [])

    def get(self, user_id: str | None) -> CardsUser | None:
        """Return the account with this id, if the sweep saw it."""
        return None if user_id is None else self._by_id.get(user_id)

    def groups(self) -> dict[str, str]:
        """Return the groups the accounts are in: name → id (the first id seen for a name).

        Cards creates a group only with a member, so a department's group that exists has
        (or had) members; this spares reading the groups when the users were read.
        """
        found: dict[str, str] = {}
        for user in self._by_id.values():
            for group in user.groups:
                if group.name and group.id:
                    found.setdefault(group.name, group.id)
        return found


def plan_users(
    employees: Sequence[Employee], directory: CardsDirectory, links: Linked
) -> list[UserRow]:
    """Return one :class:`UserRow` per employee, in the order given.

    ``links`` gives an employee's linked account id: the store itself for a few
    employees, or everything it holds (``LinkStore.all()``, one query) for many.
    """
    return list(plan_lazily(deque(employees), directory, links))


def plan_lazily(
    employees: deque[Employee], directory: CardsDirectory, links: Linked
) -> Iterator[UserRow]:
    """Yield the rows of :func:`plan_users` one by one, letting go of each employee.

    An import that writes each row as it comes then never holds every row and every
    employee at once (the memory of a 50 000-employee import).
    """
    keys = Counter(match_key(employee.email) for employee in employees)
    while employees:
        yield _row(employees.popleft(), directory, links, keys)


def _row(
    employee: Employee, directory: CardsDirectory, links: Linked, keys: Counter[str | None]
) -> UserRow:
    key = match_key(employee.email)
    if key is None:
        return UserRow(employee=employee, state=UserState.CANNOT_BE_IMPORTED, reason=NO_EMAIL)
    if keys[key] > 1:
        others = "another employee" if keys[key] == 2 else f"{keys[key] - 1} other employees"
        reason = f"email {key!r} is also the email of {others}"
        return UserRow(employee=employee, state=UserState.CANNOT_BE_IMPORTED, reason=reason)
    linked_id = links.get(employee.id)
    linked = directory.get(linked_id)
    if linked is not None and match_key(linked.email) != key:
        # A new email in Lucca: the life-cycle rules change the account's email; creating
        # a second account for the new one would split the learner in two.
        reason = (f"their linked Cards account has another email ({linked.email!r}): the "
                  "life-cycle sync changes it, or reports why it cannot; no second "
                  "account is made")
        return UserRow(employee=employee, state=UserState.CANNOT_BE_IMPORTED, reason=reason)
    accounts = directory.find(key)
    if len(accounts) > 1:
        reason = f"{len(accounts)} Cards accounts have the email {key!r}"
        return UserRow(employee=employee, state=UserState.CANNOT_BE_IMPORTED, reason=reason)
    if accounts:
        state = (UserState.ALREADY_LINKED if linked_id == accounts[0].id
                 else UserState.WILL_BE_LINKED)
        return UserRow(employee=employee, state=state, cards_user=accounts[0])
    problem = email_problem(key) or name_problem(employee.given_name, employee.family_name)
    if problem:
        return UserRow(employee=employee, state=UserState.CANNOT_BE_IMPORTED, reason=problem)
    return UserRow(employee=employee, state=UserState.WILL_BE_CREATED)
