"""What the life-cycle tests share: an imported company, and HR changes made in its records.

The changes are made in the sandbox's records, as Lucca would hold them after an HR admin
acted; the tests then check Cards' records and the request logs, never the rules' plan.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from lucca_cards import CardsClient, DepartmentImporter, LuccaOAuthClient, UserImporter
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox._model import CardsGroup
from lucca_cards.state import Database, LinkStore
from lucca_cards.sync.lifecycle import LifecycleSync
from sync_support import TODAY, clients, considered, department_of, sandbox

#: The departments imported first (their Cards groups exist).
IMPORTED = ("1", "2", "3")


@attrs.define
class World:
    """An imported company: the sandbox, its clients and the state's links."""

    box: Sandbox
    lucca: LuccaOAuthClient
    cards: CardsClient
    links: LinkStore

    def sync(self, **options: Any) -> LifecycleSync:
        """Return the rules over this world (``options`` as for :class:`LifecycleSync`)."""
        return LifecycleSync(self.lucca, self.cards, self.links, **options)

    def clear_logs(self) -> None:
        """Forget the requests made so far."""
        self.box.lucca.log.clear()
        self.box.cards.log.clear()

    def account(self, employee_id: str) -> Any:
        """Return the Cards record linked to the employee."""
        return self.box.company.cards.users[self.links.get(employee_id) or ""]

    def groups_of(self, employee_id: str) -> list[str]:
        """Return the names of the groups of the employee's linked account, sorted."""
        cards = self.box.company.cards
        return sorted(cards.groups[g].name for g in self.account(employee_id).group_ids)

    def linked_in(self, department_id: str, count: int) -> list[str]:
        """Return ``count`` linked employees of the department."""
        found = [i for i in self.active_linked(len(self.links.all()))
                 if str(department_of(self.box, i)) == department_id]
        return sorted(found, key=int)[:count]

    def active_linked(self, count: int) -> list[str]:
        """Return ``count`` linked employees at work today (not upcoming)."""
        found = sorted(set(self.links.all()) & considered(self.box, ("active",)), key=int)
        return found[:count]

    def group_name(self, department_id: str) -> str:
        """Return the name of the department (its group's name)."""
        return self.box.company.lucca.departments[int(department_id)].name.strip()


@contextlib.contextmanager
def imported_world(**options: Any) -> Iterator[World]:
    """Yield a company whose departments 1 to 3 and every employee were imported."""
    # Retries wait on a sleeper that returns at once: the tests never sleep.
    with sandbox(**options) as box, clients(box, sleep=lambda _: None) as (lucca, cards), \
            Database(":memory:") as database:
        links = LinkStore(database)
        DepartmentImporter(lucca, cards, links=links).run(department_ids=list(IMPORTED))
        UserImporter(lucca, cards, links=links).run()
        world = World(box, lucca, cards, links)
        world.clear_logs()
        yield world


def hire(box: Sandbox, email: str, department_id: int, *, given: str = "Nina",
         family: str = "Nouvelle") -> str:
    """Add an employee starting today in ``department_id``; return their id."""
    data = box.company.lucca
    model = next(iter(data.employees.values()))
    employment = data.employments[model.employment_id]
    position = data.job_positions[model.job_position_id]
    ident = max(data.employees) + 1
    employment_id, position_id = max(data.employments) + 1, max(data.job_positions) + 1
    data.employments[employment_id] = dataclasses.replace(
        employment, id=employment_id, employee_id=ident, start=TODAY, end=None)
    data.job_positions[position_id] = dataclasses.replace(
        position, id=position_id, employee_id=ident, employment_id=employment_id,
        department_id=department_id, starts_on=TODAY, ends_on=None)
    data.employees[ident] = dataclasses.replace(
        model, id=ident, given_name=given, family_name=family, email=email,
        login=email, employment_id=employment_id, job_position_id=position_id,
        extended_data={}, legacy_fields={})
    return str(ident)


def move(box: Sandbox, employee_id: str, department_id: int) -> None:
    """Put the employee's current job position in another department."""
    data = box.company.lucca
    data.job_positions[data.employees[int(employee_id)].job_position_id].department_id = \
        department_id


def change_email(box: Sandbox, employee_id: str, email: str) -> None:
    """Give the employee another professional email."""
    box.company.lucca.employees[int(employee_id)].email = email


def leave(box: Sandbox, employee_id: str) -> None:
    """End the employee's contract yesterday (Lucca then says they are deactivated)."""
    data = box.company.lucca
    data.employments[data.employees[int(employee_id)].employment_id].end = \
        TODAY - dt.timedelta(days=1)


def come_back(box: Sandbox, employee_id: str) -> None:
    """Open the employee's contract again (Lucca then says they are active)."""
    data = box.company.lucca
    data.employments[data.employees[int(employee_id)].employment_id].end = None


def add_group(box: Sandbox, user_id: str, name: str) -> None:
    """Put a Cards account into a group made in the back-office (not a department's)."""
    cards = box.company.cards
    group_id = f"manual-{len(cards.groups)}"
    cards.groups[group_id] = CardsGroup(id=group_id, name=name)
    cards.users[user_id].group_ids.append(group_id)
