"""Render the tenant's records as Lucca API (2024-11-01) resources.

Shapes follow the spec's schemas exactly (``unevaluatedProperties: false`` on every
answer): string ids, ``{id, type, url}`` references, UTC timestamps ending in ``Z``,
``YYYY-MM-DD`` dates and each resource's own ``links``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from lucca_cards.sandbox._model import (
    Department,
    Employee,
    Employment,
    JobPosition,
    LuccaData,
    employee_status,
)

#: The collection path of each resource type a reference can point to.
COLLECTIONS = {
    "employee": "employees",
    "department": "departments",
    "job-position": "job-positions",
    "employment": "employments",
    "employment-template": "employment-templates",
    "legal-entity": "legal-entities",
    "business-establishment": "business-establishments",
    "job-qualification": "job-qualifications",
    "profession": "professions",
    "webhook-endpoint": "webhook-endpoints",
    "event": "events",
}


def fold(text: str) -> str:
    """Return ``text`` without case or accents, for searching and sorting names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def utc(value: dt.datetime) -> str:
    """Format a timestamp as the API does (``2024-04-15T23:12:54.000Z``); naive = UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    text = value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def period_status(start: dt.date, end: dt.date | None, today: dt.date) -> str:
    """Return ``upcoming``, ``active`` or ``deactivated`` for a period on ``today``."""
    if start > today:
        return "upcoming"
    return "deactivated" if end is not None and end < today else "active"


def _day(value: dt.date | None) -> dict[str, str] | None:
    return None if value is None else {"date": value.isoformat()}


class Renderer:
    """Render records of ``data`` with absolute URLs under ``root`` (the host root URL)."""

    def __init__(self, data: LuccaData, today: dt.date, root: str) -> None:
        self.data, self.today, self.root = data, today, root
        self.api = f"{root}/lucca-api"

    def ref(self, kind: str, ident: int | None) -> dict[str, str] | None:
        """Return the ``{id, type, url}`` reference to a resource (``None`` for no id)."""
        if ident is None:
            return None
        return {"id": str(ident), "type": kind, "url": f"{self.api}/{COLLECTIONS[kind]}/{ident}"}

    def link(self, collection: str, parameter: str, ident: int) -> dict[str, str]:
        """Return a link to ``collection`` filtered on ``parameter=ident``."""
        return {"href": f"{self.api}/{collection}?{parameter}={ident}"}

    def keyed(
        self, render: Callable[[Any], dict[str, Any]], records: Iterable[Any]
    ) -> dict[str, dict[str, Any]]:
        """Return ``{id: representation}`` (the ``embedded`` dictionaries' shape)."""
        return {str(record.id): render(record) for record in records}

    def employee(self, employee: Employee) -> dict[str, Any]:
        """Render an employee."""
        ident, birth = employee.id, employee.birth_date
        employment = self.data.employments[employee.employment_id]
        return {
            "id": str(ident),
            "type": "employee",
            "url": f"{self.api}/employees/{ident}",
            "remoteId": employee.remote_id or None,
            "portrait": None,
            "givenName": employee.given_name,
            "familyName": employee.family_name,
            "employeeNumber": employee.employee_number or None,
            "status": employee_status(employment, self.today),
            "email": employee.email or None,
            "birthDay": None if birth is None else {"day": birth.day, "month": birth.month},
            "phoneNumber": employee.phone_number or None,
            "applicableEmployment": self.ref("employment", employee.employment_id),
            "applicableJobPosition": self.ref("job-position", employee.job_position_id),
            "createdAt": utc(employee.created_at),
            "lastUpdatedAt": utc(employee.last_updated_at),
            "links": {
                "employments": self.link("employments", "employee.id", ident),
                "jobPositions": self.link("job-positions", "employment.employee.id", ident),
                "personalRecord": self.link("employee-personal-records", "employee.id", ident),
            },
        }

    def department(self, department: Department) -> dict[str, Any]:
        """Render a department."""
        ident = department.id
        return {
            "id": str(ident),
            "type": "department",
            "url": f"{self.api}/departments/{ident}",
            "name": department.name,
            "description": department.description,
            "remoteId": department.remote_id,
            "isArchived": department.is_archived,
            "parent": self.ref("department", department.parent_id),
            "level": department.level,
            "sortOrder": department.sort_order,
            "manager": self.ref("employee", department.manager_id),
            "links": {
                "activeEmployees": self.link(
                    "employees", "applicableJobPosition.department.id", ident
                )
            },
        }

    def job_position(self, position: JobPosition) -> dict[str, Any]:
        """Render a job position (timestamps: its employee's creation)."""
        created = utc(self._created(position.employee_id))
        return {
            "id": str(position.id),
            "type": "job-position",
            "url": f"{self.api}/job-positions/{position.id}",
            "remoteId": position.remote_id or None,
            "employment": self.ref("employment", position.employment_id),
            "employee": self.ref("employee", position.employee_id),
            "status": period_status(position.starts_on, position.ends_on, self.today),
            "startsOn": position.starts_on.isoformat(),
            "endsOn": None if position.ends_on is None else position.ends_on.isoformat(),
            "businessEstablishment": self.ref(
                "business-establishment", position.business_establishment_id
            ),
            "jobTitle": position.job_title or None,
            "jobQualification": self.ref("job-qualification", position.job_qualification_id),
            "manager": self.ref("employee", position.manager_id),
            "occupationCategory": None,
            "workingTimeArrangement": None,
            "department": self.ref("department", position.department_id),
            "document": None,
            "notes": None,
            "updatedAttributes": [],
            "createdAt": created,
            "lastUpdatedAt": created,
            "links": {},
        }

    def employment(self, employment: Employment) -> dict[str, Any]:
        """Render an employment (timestamps: its employee's creation)."""
        ident, created = employment.id, utc(self._created(employment.employee_id))
        return {
            "id": str(ident),
            "type": "employment",
            "url": f"{self.api}/employments/{ident}",
            "remoteId": employment.remote_id or None,
            "employee": self.ref("employee", employment.employee_id),
            "legalEntity": self.ref("legal-entity", employment.legal_entity_id),
            "status": employee_status(employment, self.today),
            "start": _day(employment.start),
            "end": _day(employment.end),
            "document": None,
            "template": self.ref("employment-template", employment.template_id),
            "createdAt": created,
            "lastUpdatedAt": created,
            "links": {
                "jobPositions": self.link("job-positions", "employment.id", ident),
                "probationaryPeriods": self.link("probationary-periods", "employment.id", ident),
            },
        }

    def job_qualification(self, ident: int) -> dict[str, Any]:
        """Render a job qualification (its profession shares its id; rank 1)."""
        created = utc(self.data.created_at)
        return {
            "id": str(ident),
            "type": "job-qualification",
            "url": f"{self.api}/job-qualifications/{ident}",
            "title": self.data.job_qualifications.get(ident) or f"Qualification {ident}",
            "profession": self.ref("profession", ident),
            "rank": 1,
            "createdAt": created,
            "lastUpdatedAt": created,
            "links": {},
        }

    def _created(self, employee_id: int) -> dt.datetime:
        employee = self.data.employees.get(employee_id)
        return self.data.created_at if employee is None else employee.created_at
