"""What an HR administrator does in Lucca, and the events each change emits (§B14).

:class:`HrAdmin` changes the tenant's records in place and returns the
:class:`~._lucca_events.Change` list Lucca would report, rendered after the change:

* **hire**: a new employee with an open-ended employment and a job position in one
  department (``employee.created``, ``employment.created``, ``job-position.created``);
* **move**: a new job position from today in another department, the previous one ending
  yesterday (``job-position.created``, then ``job-position.updated`` with
  ``previousAttributes {"endsOn": …}``); a position that has not started yet (or starts
  today) changes department in place (``job-position.updated``, ``{"department": …}``);
* **email change**: ``employee.updated`` with ``{"email": old}``;
* **leave**: the applicable employment ends (``employment.updated`` with ``{"end": old}``),
  and so do its open job positions (``job-position.updated`` with ``{"endsOn": old}``);
* **delete**: the employee, their employments and job positions go (``employee.deleted``,
  ``data`` the employee as it was).

Where the reference is silent, this fake settles: a change that changes nothing emits
nothing; ids are never reused; a new position's business establishment is the one of its
department's site (from other positions there), its manager the department's head.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from lucca_cards.sandbox import _names
from lucca_cards.sandbox._lucca_events import Change
from lucca_cards.sandbox._lucca_render import Renderer
from lucca_cards.sandbox._lucca_seed import slug
from lucca_cards.sandbox._model import Employee, Employment, JobPosition, LuccaData

_DAY = dt.timedelta(days=1)
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+")


class HrError(Exception):
    """A change the sandbox refuses: ``status`` 400 (bad input) or 404 (unknown employee)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChangeRefusedError(HrError, ValueError):
    """A bad value, an unknown department, or a change that cannot be made (400)."""


class UnknownEmployeeError(HrError, LookupError):
    """No employee has this id (404)."""

    status = 404


def check_name(field: str, value: object) -> str:
    """Return a given or family name (1 to 255 characters once trimmed)."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 255:
        raise ChangeRefusedError(f"{field} must be a text of 1 to 255 characters.")
    return value.strip()


def check_email(value: object) -> str | None:
    """Return an email address (3 to 255 characters, one ``@``, no ``<``/``>``), or ``None``."""
    if value is None:
        return None
    if not isinstance(value, str) or not (3 <= len(value) <= 255) or not _EMAIL.fullmatch(value):
        raise ChangeRefusedError("email must be an email address (or null).")
    return value


class HrAdmin:
    """Make an HR administrator's changes on ``data``; ``now`` dates the records."""

    def __init__(self, data: LuccaData, today: dt.date, now: Callable[[], dt.datetime]) -> None:
        self.data, self.today, self._now = data, today, now
        # High-water marks: a deleted record's id is never handed out again.
        self._last = {
            "employee": max(data.employees, default=100),
            "employment": max(data.employments, default=1000),
            "position": max(data.job_positions, default=2000),
        }

    # -- the changes ---------------------------------------------------------------------

    def hire(
        self,
        renderer: Renderer,
        *,
        given_name: str,
        family_name: str,
        email: str | None,
        department_id: int,
        starts_on: dt.date | None = None,
        job_title: str | None = None,
    ) -> tuple[int, list[Change]]:
        """Hire someone into ``department_id`` from ``starts_on`` (today); return their id."""
        given, family = check_name("givenName", given_name), check_name("familyName", family_name)
        email = check_email(email)
        self._department(department_id)
        start = starts_on or self.today
        now = self._now()
        emp_id = self._next("employee")
        employment = Employment(
            id=self._next("employment"), employee_id=emp_id,
            legal_entity_id=min(self.data.legal_entities, default=1), start=start, end=None,
            template_id=min(_names.EMPLOYMENT_TEMPLATES))
        position = self._position(emp_id, employment, department_id, start, job_title or "")
        self.data.employments[employment.id] = employment
        self.data.job_positions[position.id] = position
        self.data.employees[emp_id] = Employee(
            id=emp_id, given_name=given, family_name=family, email=email,
            login=slug(given)[:1] + slug(family), employee_number=None, remote_id=None,
            phone_number=None, birth_date=None, employment_id=employment.id,
            job_position_id=position.id, created_at=now, last_updated_at=now)
        site = position.business_establishment_id
        return emp_id, [
            Change("employee.created", renderer.employee(self.data.employees[emp_id]), None, site),
            Change("employment.created", renderer.employment(employment), None, site),
            Change("job-position.created", renderer.job_position(position), None, site),
        ]

    def move(self, renderer: Renderer, employee_id: int, department_id: int) -> list[Change]:
        """Move an employee into another department (a new job position from today)."""
        employee = self.employee(employee_id)
        self._department(department_id)
        current = self.data.job_positions[employee.job_position_id]
        employment = self.data.employments[current.employment_id]
        if employment.end is not None and employment.end < self.today:
            raise ChangeRefusedError(f"employee {employee_id} left on {employment.end}; hire them "
                                "again instead.")
        if current.department_id == department_id:
            raise ChangeRefusedError(f"employee {employee_id} is already in department "
                                f"{department_id}.")
        if current.starts_on >= self.today:
            return [self._reassign(renderer, current, department_id)]
        position = self._position(employee_id, employment, department_id, self.today,
                                  current.job_title, current.job_qualification_id)
        self.data.job_positions[position.id] = position
        employee.job_position_id = position.id
        previous = _iso(current.ends_on)
        current.ends_on = self.today - _DAY
        return [
            Change("job-position.created", renderer.job_position(position), None,
                   position.business_establishment_id),
            Change("job-position.updated", renderer.job_position(current),
                   {"endsOn": previous}, current.business_establishment_id),
        ]

    def change_email(self, renderer: Renderer, employee_id: int, email: str | None) -> list[Change]:
        """Change an employee's email address (nothing happens when it is the same)."""
        employee = self.employee(employee_id)
        email = check_email(email)
        if email == employee.email:
            return []
        previous, employee.email = employee.email, email
        employee.last_updated_at = self._now()
        return [Change("employee.updated", renderer.employee(employee), {"email": previous},
                       self._site(employee))]

    def leave(
        self, renderer: Renderer, employee_id: int, ends_on: dt.date | None = None
    ) -> list[Change]:
        """End the employee's applicable employment on ``ends_on`` (today), and its positions."""
        employee = self.employee(employee_id)
        employment = self.data.employments[employee.employment_id]
        end = ends_on or self.today
        if end < employment.start:
            raise ChangeRefusedError(f"endsOn {end} is before the employment's start "
                                f"({employment.start}).")
        positions = sorted((p for p in self.data.job_positions.values()
                            if p.employment_id == employment.id), key=lambda p: p.starts_on)
        if any(p.starts_on > end for p in positions):
            raise ChangeRefusedError(
                f"a job position of employee {employee_id} starts after {end}.")
        if employment.end == end:
            return []
        before, employment.end = employment.end, end
        changes = [Change("employment.updated", renderer.employment(employment),
                          {"end": _day(before)}, self._site(employee))]
        for position in positions:
            # Open positions, and those that ended with the contract, end with it.
            bound = position.ends_on
            if bound != end and (bound is None or bound > end or bound == before):
                position.ends_on = end
                changes.append(Change(
                    "job-position.updated", renderer.job_position(position),
                    {"endsOn": _iso(bound)}, position.business_establishment_id))
        return changes

    def delete(self, renderer: Renderer, employee_id: int) -> list[Change]:
        """Delete an employee with their employments and job positions."""
        employee = self.employee(employee_id)
        change = Change("employee.deleted", renderer.employee(employee), None,
                        self._site(employee))
        data = self.data
        del data.employees[employee_id]
        data.employments = {k: e for k, e in data.employments.items()
                            if e.employee_id != employee_id}
        data.job_positions = {k: p for k, p in data.job_positions.items()
                              if p.employee_id != employee_id}
        return [change]

    # -- helpers -------------------------------------------------------------------------

    def employee(self, employee_id: int) -> Employee:
        """Return the employee of id ``employee_id``; raise :class:`UnknownEmployeeError`."""
        employee = self.data.employees.get(employee_id)
        if employee is None:
            raise UnknownEmployeeError(f"No employee with id {employee_id}.")
        return employee

    def _department(self, department_id: int) -> None:
        department = self.data.departments.get(department_id)
        if department is None:
            raise ChangeRefusedError(f"No department with id {department_id}.")
        if department.is_archived:
            raise ChangeRefusedError(f"Department {department_id} ({department.name}) is archived.")

    def _next(self, table: str) -> int:
        self._last[table] += 1
        return self._last[table]

    def _position(
        self, emp_id: int, employment: Employment, department_id: int, starts_on: dt.date,
        job_title: str, qualification: int | None = None,
    ) -> JobPosition:
        return JobPosition(
            id=self._next("position"), employee_id=emp_id, employment_id=employment.id,
            department_id=department_id, starts_on=starts_on, ends_on=employment.end,
            job_title=job_title, business_establishment_id=self._establishment(department_id),
            job_qualification_id=qualification, manager_id=self._head(department_id, emp_id))

    def _reassign(self, renderer: Renderer, position: JobPosition, department_id: int) -> Change:
        """Change the department of a position that has not started yet, in place."""
        previous = renderer.ref("department", position.department_id)
        position.department_id = department_id
        position.business_establishment_id = self._establishment(department_id)
        position.manager_id = self._head(department_id, position.employee_id)
        return Change("job-position.updated", renderer.job_position(position),
                      {"department": previous}, position.business_establishment_id)

    def _head(self, department_id: int, employee_id: int) -> int | None:
        head = self.data.departments[department_id].manager_id
        return None if head == employee_id else head

    def _root(self, department_id: int) -> int:
        departments = self.data.departments
        while (parent := departments[department_id].parent_id) is not None:
            department_id = parent
        return department_id

    def _establishment(self, department_id: int) -> int:
        """Return the establishment of the department's site (where its other positions are)."""
        site, departments = self._root(department_id), self.data.departments
        for position in self.data.job_positions.values():
            if position.department_id in departments and self._root(
                    position.department_id) == site:
                return position.business_establishment_id
        return min(self.data.business_establishments, default=1)

    def _site(self, employee: Employee) -> int | None:
        position = self.data.job_positions.get(employee.job_position_id)
        return None if position is None else position.business_establishment_id


def _day(value: dt.date | None) -> dict[str, str] | None:
    """Return an employment's bound as the API writes it (``{"date": "2025-01-31"}``)."""
    return None if value is None else {"date": value.isoformat()}


def _iso(value: dt.date | None) -> str | None:
    """Return a job position's bound as the API writes it (``"2025-01-31"``)."""
    return None if value is None else value.isoformat()
