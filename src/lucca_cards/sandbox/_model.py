"""The sandbox's state: a company as Lucca and Cards hold it, in plain mutable records.

The fakes render these records in each API's own dialect (the Lucca API's camelCase
resources, the legacy API's projections, Cards' snake_case JSON); the generator fills
them. Nothing here knows HTTP. Ids are what each API uses: integers on the Lucca side
(rendered as strings by the Lucca API, as numbers by the legacy API), UUID strings on
the Cards side.

The records lists are filtered on are :class:`~._observed.Observed`: any change to them,
from an API or straight from a test, moves the version the fakes' list caches follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ._observed import Observed


@dataclass(slots=True)
class Department(Observed):
    """A node of the department tree (``parent_id`` ``None`` for a root)."""

    id: int
    name: str
    parent_id: int | None
    level: int
    sort_order: int
    remote_id: str | None = None
    manager_id: int | None = None
    description: str | None = None
    is_archived: bool = False


@dataclass(slots=True)
class Employment(Observed):
    """A work contract; ``end`` ``None`` while open-ended."""

    id: int
    employee_id: int
    legal_entity_id: int
    start: dt.date
    end: dt.date | None
    template_id: int
    remote_id: str | None = None


@dataclass(slots=True)
class JobPosition(Observed):
    """A position held during an employment, in one department."""

    id: int
    employee_id: int
    employment_id: int
    department_id: int
    starts_on: dt.date
    ends_on: dt.date | None
    job_title: str
    business_establishment_id: int
    job_qualification_id: int | None = None
    manager_id: int | None = None
    remote_id: str | None = None


@dataclass(slots=True)
class Employee(Observed):
    """One person of the company, as both Lucca APIs see them.

    ``employment_id`` and ``job_position_id`` are the *applicable* ones (current, else
    next, else last). ``extended_data`` holds the legacy employee-file fields in their read
    shape (``{"e_code": {"id": 1, "value": …}}`` or a list of those for multiple fields).
    ``legacy_fields`` keeps other core fields written through ``PUT /api/v3/users``.
    """

    id: int
    given_name: str
    family_name: str
    email: str | None
    login: str
    employee_number: str | None
    remote_id: str | None
    phone_number: str | None
    birth_date: dt.date | None
    employment_id: int
    job_position_id: int
    created_at: dt.datetime
    last_updated_at: dt.datetime
    extended_data: dict[str, Any] = field(default_factory=dict)
    legacy_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ExtendedField(Observed):
    """The definition of an employee-file field (``e_…``).

    A composite field has ``sub_fields`` (their codes); a multiple field holds a list of
    occurrences.
    """

    code: str
    name: str
    multiple: bool = False
    sub_fields: tuple[str, ...] = ()


@dataclass(slots=True)
class LuccaData(Observed):
    """Everything the Lucca tenant holds."""

    tenant: str
    legal_entities: dict[int, str] = field(default_factory=dict)
    business_establishments: dict[int, str] = field(default_factory=dict)
    job_qualifications: dict[int, str] = field(default_factory=dict)
    departments: dict[int, Department] = field(default_factory=dict)
    employees: dict[int, Employee] = field(default_factory=dict)
    employments: dict[int, Employment] = field(default_factory=dict)
    job_positions: dict[int, JobPosition] = field(default_factory=dict)
    extended_fields: dict[str, ExtendedField] = field(default_factory=dict)
    created_at: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(slots=True)
class CardsGroup(Observed):
    """A Cards group (created by naming it on a user)."""

    id: str
    name: str
    is_public: bool = False
    enable_ranking: bool = False


@dataclass(slots=True)
class CardsUser(Observed):
    """A Cards account; ``group_ids`` in the order they were given."""

    id: str
    firstname: str
    lastname: str
    email: str | None
    role: str = "user"
    company: str | None = None
    phone: str | None = None
    source: str = "app"
    enable_ranking: bool = True
    lang: str = "fr"
    group_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Chapter:
    """One chapter of a training; a chapter with a quiz also sends ``quiz-complete``."""

    id: str
    title: str
    position: int
    points: int
    has_quiz: bool = False


@dataclass(slots=True)
class Training:
    """A Cards training, shared with ``group_ids`` (or public)."""

    id: str
    title: str
    description: str
    status: str
    image: str
    public_url: str
    category: str
    chapters: list[Chapter]
    is_public: bool = False
    is_rating: bool = False
    group_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Badge:
    """A badge (``user_ids``: who unlocked it)."""

    id: str
    name: str
    description: str
    image: str
    emoji: dict[str, Any]
    status: str
    option_teasing: bool
    notif: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    user_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Certificate:
    """A certificate template."""

    id: str
    name: str
    description: str
    content: str
    status: str
    option_teasing: bool
    notif: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(slots=True)
class Progress:
    """How far one learner is in one training (the ground truth behind the webhooks)."""

    user_id: str
    training_id: str
    chapters_done: list[int] = field(default_factory=list)
    points: int = 0
    max_points: int = 0
    last_activity: dt.datetime | None = None
    completed_at: dt.datetime | None = None


@dataclass(slots=True)
class CardsData(Observed):
    """Everything the Cards workspace holds."""

    tenant: str
    users: dict[str, CardsUser] = field(default_factory=dict)
    groups: dict[str, CardsGroup] = field(default_factory=dict)
    trainings: dict[str, Training] = field(default_factory=dict)
    badges: dict[str, Badge] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)
    progress: dict[tuple[str, str], Progress] = field(default_factory=dict)


@dataclass(slots=True)
class Company:
    """A generated company: its Lucca tenant, its Cards workspace and "today"."""

    name: str
    domain: str
    today: dt.date
    lucca: LuccaData
    cards: CardsData


def employee_status(employment: Employment, today: dt.date) -> str:
    """``active`` (employed today), ``upcoming`` (starts later) or ``deactivated`` (ended)."""
    if employment.start > today:
        return "upcoming"
    if employment.end is not None and employment.end < today:
        return "deactivated"
    return "active"
