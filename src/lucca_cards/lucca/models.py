"""Typed models of the Lucca API (``/lucca-api``, version ``2024-11-01``; camelCase on the wire).

Every id is a string (the API says so even for numeric ids). References to other
resources are :class:`Reference` objects. Each model keeps the keys it does not model in
``extra`` (``links``, ``embedded``, ``t9n`` …), so a server that adds a field never breaks
a read.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any, TypeGuard, TypeVar

import attrs

from .._models import ApiModel, api_key, share_instances
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


def _birthday_key(data: Any) -> tuple[int, int] | None:
    """Return a birthday's ``(day, month)`` when the payload is just that (else ``None``)."""
    if data.__class__ is not dict or len(data) != 2:
        return None
    day, month = data.get("day"), data.get("month")
    if day.__class__ is int and month.__class__ is int and 1 <= day <= 31 and 1 <= month <= 12:
        return day, month
    return None


#: The birthdays read, by (day, month): every employee has one, and there are 366, so a
#: sweep of 10 000 builds each once.
_BIRTHDAYS = share_instances(BirthDay, _birthday_key)


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
        if not isinstance(data, Mapping):
            return super().from_api(data)  # raises the usual refusal
        refusal: ValidationError | None = None
        try:
            found = _position_fields(data.get("embedded") if embedded is None else embedded,
                                     data.get("applicableJobPosition"))
        except ValidationError as exc:
            found, refusal = None, exc
        # The employee is built once, with what the embedded job position says.
        employee = cls._from_api(data, found)
        if refusal is not None:
            raise refusal  # after the payload's own refusal, which comes first
        return employee

    @classmethod
    def from_api_fields(cls: type[E], data: Any, embedded: Mapping[str, Any] | None,
                        fields: Collection[str]) -> E:
        """Build the employee with only the attributes named in ``fields`` (and ``id``).

        The other attributes stay ``None`` (``extra`` empty): a sweep of many employees
        then holds a fraction of the memory and builds faster. ``department``,
        ``department_id`` and ``job_title`` are resolved from ``embedded`` as
        :meth:`from_api` does (the job position's reference is only read).

        Raises:
            ValidationError: a name that is no attribute, or a payload :meth:`from_api`
                refuses for the attributes kept.

        >>> Employee.from_api_fields({"id": "416", "email": "a@b.fr", "status": "active"},
        ...                          None, ["email"]).status is None
        True
        """
        keys, resolved = _keys_of(fields)
        if not isinstance(data, Mapping):
            return super().from_api(data)  # raises the usual refusal
        kept = {key: value for key, value in data.items() if key in keys}
        found = None
        if resolved:
            found = _position_fields(data.get("embedded") if embedded is None else embedded,
                                     data.get("applicableJobPosition"))
            if found is not None:
                found = {k: v for k, v in found.items() if k in resolved}
        return cls._from_api(kept, found)

    @property
    def full_name(self) -> str:
        """``given_name family_name``, skipping a missing part."""
        return " ".join(part for part in (self.given_name, self.family_name) if part)


#: The attributes resolved from the embedded job position, by their own names.
_RESOLVED = frozenset({"department", "department_id", "job_title"})


@functools.cache
def _field_keys() -> dict[str, str]:
    return {f.name: api_key(Employee, f) for f in attrs.fields(Employee) if f.name != "extra"}


def _keys_of(fields: Collection[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Return the payload keys to keep for ``fields`` (and ``id``), and those resolved.

    Raises:
        ValidationError: a name that is not an attribute of :class:`Employee`.
    """
    names = _field_keys()
    if isinstance(fields, str):
        fields = [fields]
    unknown = sorted(repr(f)[:40] for f in fields if not isinstance(f, str) or f not in names)
    if unknown:
        raise ValidationError(f"fields: {', '.join(unknown)[:80]} not an attribute of "
                              f"Employee; use among {', '.join(names)}")
    keys = {names[f] for f in fields} | {"id"}  # a payload's own keys stand, as in from_api
    if "department_id" in fields:  # department_id defaults to department.id
        keys.add(names["department"])
    return frozenset(keys), frozenset(fields) & _RESOLVED


def _position_fields(embedded: Any, position_ref: Any) -> dict[str, Any] | None:
    """Return the employee's attributes that the embedded applicable job position sets.

    ``None`` when the answer did not embed it (the payload's own keys then stand).

    Raises:
        ValidationError: ``embedded`` or the part looked at is not of the documented shape.
    """
    position = _embedded(embedded, "job-position", _reference_id(position_ref))
    if position is None:
        return None
    department = position.get("department")
    if department is not None and not _is_object(department):
        raise ValidationError("the embedded job position's department is not an object")
    # Built here, once: the employee takes this very Reference.
    reference = _department_reference(department) if department is not None else None
    title = position.get("jobTitle")
    if title is not None and not isinstance(title, str):
        raise ValidationError("the embedded job position's jobTitle is not a string")
    return {"department": reference, "department_id": reference.id if reference else None,
            "job_title": title}


#: Department references already built, by their (id, type, url): a page's employees
#: share a few departments, and a reference is frozen, so one object serves them all.
_DEPARTMENTS: dict[tuple[str, str, str], Reference] = {}
_KEPT_DEPARTMENTS = 4096


def _department_reference(department: Mapping[str, Any]) -> Reference:
    """Return the :class:`Reference` of an embedded department, shared when it can be."""
    ident, kind, url = department.get("id"), department.get("type"), department.get("url")
    if len(department) != 3 or not (
            isinstance(ident, str) and isinstance(kind, str) and isinstance(url, str)):
        return Reference.from_api(department)
    key = (ident, kind, url)
    found = _DEPARTMENTS.get(key)
    if found is None:
        found = Reference.from_api(department)
        if len(_DEPARTMENTS) >= _KEPT_DEPARTMENTS:
            _DEPARTMENTS.clear()
        _DEPARTMENTS[key] = found
    return found


def _reference_id(reference: Any) -> str | None:
    """Return the id a :class:`Reference` read from ``reference`` would have, if readable."""
    ident = reference.get("id") if _is_object(reference) else None
    if isinstance(ident, int) and not isinstance(ident, bool):
        return str(ident)  # as the model reads a numeric id
    return ident if isinstance(ident, str) else None


def _embedded(embedded: Any, kind: str, ident: str | None) -> Mapping[str, Any] | None:
    """Look ``ident`` up in an ``embedded`` dictionary (kind → id → object).

    Raises:
        ValidationError: ``embedded`` or the part looked at is not of the documented shape.
    """
    if embedded is None:
        return None
    if not _is_object(embedded):
        raise ValidationError(f"embedded is {type(embedded).__name__}, not an object")
    objects = embedded.get(kind)
    if objects is None or ident is None:
        return None
    if not _is_object(objects):
        raise ValidationError(f"embedded[{kind!r}] is {type(objects).__name__}, not an object")
    found = objects.get(ident)
    if found is not None and not _is_object(found):
        raise ValidationError(f"embedded[{kind!r}][{ident!r}] is not an object")
    return found


def _is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """Whether ``value`` is a JSON object (a dict is told at once, without the ABC check)."""
    return value.__class__ is dict or isinstance(value, Mapping)


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
