"""Typed models of the Lucca API (``/lucca-api``, version ``2024-11-01``; camelCase on the wire).

Every id is a string (the API says so even for numeric ids). References to other
resources are :class:`Reference` objects. Each model keeps the keys it does not model in
``extra`` (``links``, ``embedded``, ``t9n`` …), so a server that adds a field never breaks
a read.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from .._models import ApiModel
from ..errors import ValidationError

E = TypeVar("E", bound="Employee")


class EmployeeStatus(str, enum.Enum):
    """The documented values of an employee's (or a job position's) ``status``.

    Models keep ``status`` as a plain string, so a value Lucca adds later is still read;
    compare with these members (they are strings):

    >>> EmployeeStatus.ACTIVE == "active"
    True
    """

    ACTIVE = "active"
    """Has an employment today."""
    UPCOMING = "upcoming"
    """Has no employment today, but one in the future."""
    DEACTIVATED = "deactivated"
    """Used to have an employment, has none now or later."""


def _id_of(reference_field: str) -> Any:
    """Default an ``…_id`` field to the id of the reference field defined before it."""

    def id_of(model: Any) -> str | None:
        reference = getattr(model, reference_field)
        return reference.id if reference is not None else None

    return attrs.Factory(id_of, takes_self=True)


@attrs.frozen(kw_only=True)
class Reference(ApiModel):
    """A reference to another resource: ``{"id": "32", "type": "department", "url": …}``.

    Attributes:
        id: the referenced resource's id.
        type: its kind (``department``, ``employee``, ``job-position`` …).
        url: its address in the Lucca API.
    """

    id: str
    type: str | None = None
    url: str | None = None


@attrs.frozen(kw_only=True)
class BirthDay(ApiModel):
    """An employee's birthday without the year (``month`` is 1-based)."""

    day: int | None = None
    month: int | None = None


@attrs.frozen(kw_only=True)
class Employee(ApiModel):
    """An employee (``/lucca-api/employees``).

    Lucca's employee carries no department: it is on the employee's applicable job
    position. The client resolves it from the ``embedded`` job positions of the same
    answer (see :meth:`from_api`), so ``department_id`` needs no extra request.

    Attributes:
        id: the employee's id.
        given_name, family_name: the names.
        email: the professional email (``None`` when the employee has none).
        status: ``active``, ``upcoming`` or ``deactivated`` (see :class:`EmployeeStatus`;
            an undocumented value is kept as it is).
        employee_number, remote_id: the HR number and the id in a third-party system.
        phone_number: the professional phone number.
        birth_day: the birthday (day and month only).
        portrait: the portrait's reference.
        applicable_employment, applicable_job_position: the current one, else the next,
            else the last.
        department: the department of the applicable job position (resolved from
            ``embedded``; ``None`` when the answer did not embed that job position).
        department_id: ``department.id``.
        job_title: the applicable job position's title (resolved likewise).
        created_at, last_updated_at: timestamps (UTC).
        url: the employee's address in the Lucca API.
    """

    id: str
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    status: str | None = None
    employee_number: str | None = None
    remote_id: str | None = None
    phone_number: str | None = None
    birth_day: BirthDay | None = None
    portrait: Reference | None = None
    applicable_employment: Reference | None = None
    applicable_job_position: Reference | None = None
    department: Reference | None = None
    department_id: str | None = _id_of("department")
    job_title: str | None = None
    created_at: datetime | None = None
    last_updated_at: datetime | None = None
    url: str | None = None

    @classmethod
    def from_api(cls: type[E], data: Any, embedded: Mapping[str, Any] | None = None) -> E:
        """Build the employee and resolve its department from the embedded job positions.

        Args:
            data: the employee's JSON object.
            embedded: the ``embedded`` dictionary of the answer it came in (a list
                page's). By default the employee's own ``embedded`` key (a single GET).

        Raises:
            ValidationError: the payload is not an employee object.

        >>> Employee.from_api({
        ...     "id": "416", "applicableJobPosition": {"id": "74"},
        ...     "embedded": {"job-position": {"74": {"department": {"id": "32"}}}},
        ... }).department_id
        '32'
        """
        employee = super().from_api(data)
        if embedded is None:
            embedded = data.get("embedded")
        position = _embedded(embedded, "job-position", employee.applicable_job_position)
        if position is None:
            return employee
        department = position.get("department")
        if department is not None and not isinstance(department, Mapping):
            raise ValidationError("the embedded job position's department is not an object")
        reference = Reference.from_api(department) if department is not None else None
        title = position.get("jobTitle")
        if title is not None and not isinstance(title, str):
            raise ValidationError("the embedded job position's jobTitle is not a string")
        return attrs.evolve(
            employee,
            department=reference,
            department_id=reference.id if reference else None,
            job_title=title,
        )

    @property
    def full_name(self) -> str:
        """``given_name family_name``, skipping a missing part."""
        return " ".join(part for part in (self.given_name, self.family_name) if part)


def _embedded(embedded: Any, kind: str, reference: Reference | None) -> Mapping[str, Any] | None:
    """Look ``reference`` up in an ``embedded`` dictionary (kind → id → object).

    Raises:
        ValidationError: ``embedded`` or the part looked at is not of the documented shape.
    """
    if embedded is None:
        return None
    if not isinstance(embedded, Mapping):
        raise ValidationError(f"embedded is {type(embedded).__name__}, not an object")
    objects = embedded.get(kind)
    if objects is None or reference is None:
        return None
    if not isinstance(objects, Mapping):
        raise ValidationError(f"embedded[{kind!r}] is {type(objects).__name__}, not an object")
    found = objects.get(reference.id)
    if found is not None and not isinstance(found, Mapping):
        raise ValidationError(f"embedded[{kind!r}][{reference.id!r}] is not an object")
    return found


@attrs.frozen(kw_only=True)
class Department(ApiModel):
    """A department (``/lucca-api/departments``); build the tree from ``parent_id``.

    Attributes:
        id: the department's id.
        name: its name (what the Cards group is named after).
        description: free text, or ``None``.
        remote_id: the id in a third-party system.
        is_archived: archived departments have no employees attached.
        level: depth in the tree, 1 for a root.
        sort_order: 0-based rank among its siblings.
        parent, parent_id: the parent department (``None`` for a root).
        manager, manager_id: the head of the department, an employee.
        url: the department's address in the Lucca API.
    """

    id: str
    name: str | None = None
    description: str | None = None
    remote_id: str | None = None
    is_archived: bool | None = None
    level: int | None = None
    sort_order: int | None = None
    parent: Reference | None = None
    parent_id: str | None = _id_of("parent")
    manager: Reference | None = None
    manager_id: str | None = _id_of("manager")
    url: str | None = None


@attrs.frozen(kw_only=True)
class JobPosition(ApiModel):
    """A job position (``/lucca-api/job-positions``): an employee's role in a department.

    Attributes:
        id: the job position's id.
        status: ``active``, ``upcoming`` or ``deactivated``.
        starts_on, ends_on: the period (``ends_on`` is ``None`` while open-ended).
        job_title: the title, or ``None``.
        employee, employee_id: whose position it is.
        employment: the employment it belongs to.
        department, department_id: where it is.
        manager, manager_id: the employee's manager in this position.
        business_establishment, job_qualification, occupation_category,
            working_time_arrangement: the other references (or ``None``).
        remote_id: the id in a third-party system.
        notes: free text.
        updated_attributes: what changed compared to the previous position.
        created_at, last_updated_at: timestamps (UTC).
        url: the job position's address in the Lucca API.
    """

    id: str
    status: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    job_title: str | None = None
    employee: Reference | None = None
    employee_id: str | None = _id_of("employee")
    employment: Reference | None = None
    department: Reference | None = None
    department_id: str | None = _id_of("department")
    manager: Reference | None = None
    manager_id: str | None = _id_of("manager")
    business_establishment: Reference | None = None
    job_qualification: Reference | None = None
    occupation_category: Reference | None = None
    working_time_arrangement: Reference | None = None
    remote_id: str | None = None
    notes: str | None = None
    updated_attributes: tuple[str, ...] = ()
    created_at: datetime | None = None
    last_updated_at: datetime | None = None
    url: str | None = None
