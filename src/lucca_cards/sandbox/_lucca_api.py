"""The fake Lucca API (``/lucca-api``, version 2024-11-01): resources, filters, paging.

Only the three read endpoints a sync needs are served: employees, departments and
job-positions, each as a collection and by id. Every answer follows the spec's schemas:
string ids, ``{id, type, url}`` references, ``totalCount``, ``links`` and ``embedded``
only when ``include`` asks for them, opaque ``page`` cursors.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._list_cache import ListCache
from lucca_cards.sandbox._lucca_query import ProblemError, Query, cursor
from lucca_cards.sandbox._lucca_render import Renderer, fold, period_status
from lucca_cards.sandbox._model import (
    Department,
    Employee,
    JobPosition,
    LuccaData,
    employee_status,
)
from lucca_cards.sandbox._service import json_response

API_VERSION = "2024-11-01"
RESOURCES = ("employees", "departments", "job-positions")
STATUSES = ("active", "upcoming", "deactivated")

_RFC = "https://tools.ietf.org/html/"
_PROBLEM_TYPES = {
    400: _RFC + "rfc7231#section-6.5.1",
    401: "https://datatracker.ietf.org/doc/html/rfc7235#section-3.1",
    403: _RFC + "rfc7231#section-6.5.3",
    404: _RFC + "rfc7231#section-6.5.4",
    405: _RFC + "rfc7231#section-6.5.5",
    429: _RFC + "rfc6585#section-4",
    500: _RFC + "rfc7231#section-6.6.1",
    503: _RFC + "rfc7231#section-6.6.4",
}
_WORDS = re.compile(r"[ \-_,.]+")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def problem_response(
    status: int, detail: str, instance: str, errors: dict[str, list[str]] | None = None
) -> Response:
    """Build a problem+json answer (RFC 7807) carrying the ``Api-Version`` header."""
    title = "One or more validation errors occurred." if errors else HTTP_STATUS_CODES.get(status)
    body: dict[str, Any] = {
        "type": _PROBLEM_TYPES.get(status, "about:blank"),
        "title": title or "Error",
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return json_response(
        body, status, headers={"Api-Version": API_VERSION}, content_type="application/problem+json"
    )


def check_api_version(value: str | None) -> None:
    """Accept an ``Api-Version`` date from 2024-11-01 on (later dates are served as it)."""
    if not value:
        message = "The Api-Version header is required."
        raise ProblemError(400, message, {"Api-Version": [message]})
    try:
        version = dt.date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        version = None
    if version is None:
        raise ProblemError(400, "Api-Version must be a date.", {"Api-Version": ["Not a date."]})
    if version < dt.date.fromisoformat(API_VERSION):
        message = f"No API version on or before {value}; the oldest is {API_VERSION}."
        raise ProblemError(400, message, {"Api-Version": [message]})


def route(path: str, resources: Sequence[str] = RESOURCES) -> tuple[str, str | None]:
    """Split ``/lucca-api/{resource}[/{id}]``; raise a 404 problem for anything else."""
    parts = path.strip("/").split("/")
    if len(parts) in (2, 3) and parts[1] in resources and all(parts):
        return parts[1], parts[2] if len(parts) == 3 else None
    raise ProblemError(404, f"No Lucca API resource at {path}.")


Record = Any
Getter = Callable[[LuccaData, Record], object]
Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class Resource:
    """How one collection is listed: its records, id-list filters, sort keys, embedding."""

    records: Callable[[LuccaData], Mapping[int, Record]]
    render: Callable[[Renderer, Record], dict[str, Any]]
    id_filters: Mapping[str, Getter]
    sort_keys: Mapping[str, Callable[[Record], Any]]
    filters: Callable[[Query, LuccaData, dt.date], list[Predicate]]
    embed: Callable[[Renderer, list[Record]], dict[str, Any]]


def _id_filter(query: Query, name: str, data: LuccaData, getter: Getter) -> Predicate | None:
    wanted = query.values(name)
    if wanted is None:
        return None
    accepted = set(wanted)
    return lambda record: _text(getter(data, record)) in accepted


def _text(value: object) -> str:
    return "null" if value is None else str(value)


def _employee_filters(query: Query, data: LuccaData, today: dt.date) -> list[Predicate]:
    predicates: list[Predicate] = []
    emails = query.values("email")
    for email in emails or ():
        if email != "null" and not (3 <= len(email) <= 255 and _EMAIL.fullmatch(email)):
            query.fail("email", f"{email!r} is neither an email address nor null.")
    if emails is not None:
        accepted = set(emails)
        predicates.append(lambda e: _text(e.email) in accepted)
    statuses = query.choices("status", STATUSES)
    if statuses is not None:
        wanted = set(statuses)
        predicates.append(
            lambda e: employee_status(data.employments[e.employment_id], today) in wanted
        )
    search = query.single("search")
    if search is not None:
        words = [fold(word) for word in _WORDS.split(search) if word]
        if not words:
            query.fail("search", "At least one word is expected.")
        predicates.append(lambda e: _name_starts_with(e, words))
    return predicates


def _name_starts_with(employee: Employee, words: list[str]) -> bool:
    names = [fold(part) for name in (employee.given_name, employee.family_name)
             for part in _WORDS.split(name) if part]
    return all(any(name.startswith(word) for name in names) for word in words)


def _department_filters(query: Query, data: LuccaData, today: dt.date) -> list[Predicate]:
    predicates: list[Predicate] = []
    search = query.single("search")
    if search is not None:
        needle = fold(search)
        predicates.append(
            lambda d: needle in fold(d.name) or needle in fold(d.remote_id or "")
        )
    archived = query.single("isArchived")
    if archived is not None:
        if archived not in ("true", "false"):
            query.fail("isArchived", "true or false is expected.")
        predicates.append(lambda d: d.is_archived == (archived == "true"))
    return predicates


def _job_position_filters(query: Query, data: LuccaData, today: dt.date) -> list[Predicate]:
    status = query.single("status")
    if status is None:
        return []
    if status not in STATUSES:
        query.fail("status", f"One of {list(STATUSES)} is expected.")
    return [lambda jp: period_status(jp.starts_on, jp.ends_on, today) == status]


def _employee_embed(renderer: Renderer, employees: list[Employee]) -> dict[str, Any]:
    data = renderer.data
    return {
        "employment": renderer.keyed(
            renderer.employment, (data.employments[e.employment_id] for e in employees)
        ),
        "job-position": renderer.keyed(
            renderer.job_position, (data.job_positions[e.job_position_id] for e in employees)
        ),
    }


def _job_position_embed(renderer: Renderer, positions: list[JobPosition]) -> dict[str, Any]:
    data = renderer.data
    qualifications = {p.job_qualification_id for p in positions if p.job_qualification_id}
    return {
        "department": renderer.keyed(
            renderer.department, (data.departments[p.department_id] for p in positions)
        ),
        "job-qualification": {
            str(q): renderer.job_qualification(q) for q in sorted(qualifications)
        },
        "employee": renderer.keyed(
            renderer.employee, (data.employees[p.employee_id] for p in positions)
        ),
        "employment": renderer.keyed(
            renderer.employment, (data.employments[p.employment_id] for p in positions)
        ),
    }


def _position(data: LuccaData, employee: Employee) -> JobPosition:
    return data.job_positions[employee.job_position_id]


def _attribute(name: str) -> Getter:
    return lambda data, record: getattr(record, name)


def _no_embed(renderer: Renderer, records: list[Department]) -> dict[str, Any]:
    return {}


_FOREVER = dt.date.max
#: The parameters that pick a page of a list, not the list itself.
_PAGING = frozenset({"page", "limit", "include"})

RESOURCE_TABLE: dict[str, Resource] = {
    "employees": Resource(
        records=lambda data: data.employees,
        render=Renderer.employee,
        id_filters={
            "id": lambda data, e: e.id,
            "applicableJobPosition.department.id": lambda d, e: _position(d, e).department_id,
            "applicableJobPosition.manager.id": lambda d, e: _position(d, e).manager_id,
            "applicableJobPosition.remoteId": lambda d, e: _position(d, e).remote_id,
            "applicableJobPosition.businessEstablishment.id":
                lambda d, e: _position(d, e).business_establishment_id,
            "applicableJobPosition.jobQualification.id":
                lambda d, e: _position(d, e).job_qualification_id,
            "applicableEmployment.legalEntity.id":
                lambda d, e: d.employments[e.employment_id].legal_entity_id,
            "applicableEmployment.remoteId": lambda d, e: d.employments[e.employment_id].remote_id,
            "applicableEmployment.template.id":
                lambda d, e: d.employments[e.employment_id].template_id,
        },
        sort_keys={
            "id": lambda e: e.id,
            "familyName": lambda e: fold(e.family_name),
            "createdAt": lambda e: e.created_at,
        },
        filters=_employee_filters,
        embed=_employee_embed,
    ),
    "departments": Resource(
        records=lambda data: data.departments,
        render=Renderer.department,
        id_filters={},
        sort_keys={"id": lambda d: d.id},
        filters=_department_filters,
        embed=_no_embed,
    ),
    "job-positions": Resource(
        records=lambda data: data.job_positions,
        render=Renderer.job_position,
        id_filters={
            "id": _attribute("id"),
            "remoteId": _attribute("remote_id"),
            "employment.id": _attribute("employment_id"),
            "businessEstablishment.id": _attribute("business_establishment_id"),
            "jobQualification.id": _attribute("job_qualification_id"),
            "manager.id": _attribute("manager_id"),
            "department.id": _attribute("department_id"),
        },
        sort_keys={
            "id": lambda jp: jp.id,
            "startsOn": lambda jp: jp.starts_on,
            "endsOn": lambda jp: jp.ends_on or _FOREVER,
        },
        filters=_job_position_filters,
        embed=_job_position_embed,
    ),
}


class LuccaApi:
    """Answer authorised ``GET`` requests of the Lucca API over one tenant's data."""

    def __init__(self, data: LuccaData, today: dt.date) -> None:
        self.data, self.today = data, today
        #: The filtered, ordered lists of recent queries: a page only slices one.
        self.lists = ListCache()

    def answer(self, request: Request, resource: str, ident: str | None) -> Response:
        """Return the collection or the single resource a request names."""
        renderer = Renderer(self.data, self.today, request.host_url.rstrip("/"))
        query = Query(request.args)
        spec = RESOURCE_TABLE[resource]
        if ident is not None:
            return self._single(query, spec, renderer, resource, ident)
        return self._collection(request, query, spec, renderer, resource)

    def _single(
        self, query: Query, spec: Resource, renderer: Renderer, resource: str, ident: str
    ) -> Response:
        includes = query.includes()
        query.raise_errors()
        record = spec.records(self.data).get(int(ident)) if ident.isdecimal() else None
        if record is None:
            raise ProblemError(404, f"No {resource} resource with id {ident}.")
        body = spec.render(renderer, record)
        if "embedded" in includes:
            body["embedded"] = spec.embed(renderer, [record])
        return json_response(body, headers={"Api-Version": API_VERSION})

    def _collection(
        self, request: Request, query: Query, spec: Resource, renderer: Renderer, resource: str
    ) -> Response:
        includes, limit = query.includes(), query.limit()
        offset = query.offset(limit)
        matching = self._matching(query, spec, resource)
        return page_response(
            request, resource, matching, (includes, limit, offset),
            lambda record: spec.render(renderer, record),
            lambda page: spec.embed(renderer, page),
        )

    def _matching(self, query: Query, spec: Resource, resource: str) -> Sequence[Record]:
        """Return the records the query filters, in its order: kept from an earlier page.

        The parameters are read (and refused) on every request; the list is built, in one
        pass over the records, only when no page of the same query was served since the
        data last changed.
        """
        predicates = [
            predicate
            for name, getter in spec.id_filters.items()
            if (predicate := _id_filter(query, name, self.data, getter)) is not None
        ]
        predicates += spec.filters(query, self.data, self.today)
        order = query.choices("sort", [f"{s}{k}" for k in spec.sort_keys for s in ("", "-")])
        query.raise_errors()
        # In the order sent: the order of repeated ``sort`` values matters.
        key = (resource, *((k, v) for k, v in query.args.items(multi=True) if k not in _PAGING))
        ids = query.values("id") if "id" in spec.id_filters else None
        return self.lists.get(key, lambda: self._build(spec, predicates, order, ids))

    def _build(self, spec: Resource, predicates: list[Predicate], order: list[str] | None,
               ids: list[str] | None) -> list[Record]:
        records = spec.records(self.data)
        # With an id filter, only the records it names (ids as the API writes them).
        keys = records if ids is None else {
            int(i) for i in ids if i.isdecimal() and str(int(i)) == i and int(i) in records}
        matching = []
        for key in sorted(keys):
            record = records[key]
            if all(predicate(record) for predicate in predicates):
                matching.append(record)
        for sort in reversed(order or ()):
            matching.sort(key=spec.sort_keys[sort.lstrip("-")], reverse=sort.startswith("-"))
        return matching


def page_response(
    request: Request,
    resource: str,
    matching: Sequence[Record],
    paging: tuple[set[str], int, int],
    render: Callable[[Record], dict[str, Any]],
    embed: Callable[[list[Record]], dict[str, Any]],
) -> Response:
    """Answer one page of a collection: ``paging`` is (includes, limit, offset)."""
    includes, limit, offset = paging
    page = list(matching[offset : offset + limit])
    body: dict[str, Any] = {"type": resource, "url": request_uri(request)}
    if "totalCount" in includes:
        body["totalCount"] = len(matching)
    body["items"] = [render(record) for record in page]
    if "embedded" in includes:
        body["embedded"] = embed(page)
    if "links" in includes:
        more = limit > 0 and offset + limit < len(matching)
        body["links"] = {
            "prev": _link(request, max(offset - limit, 0)) if offset and limit else None,
            "next": _link(request, offset + limit) if more else None,
        }
    return json_response(body, headers={"Api-Version": API_VERSION})


def request_uri(request: Request) -> str:
    """Return the request's absolute URI, its query string percent-encoded as it was sent."""
    query = request.query_string.decode("ascii", "replace")
    return f"{request.base_url}?{query}" if query else request.base_url


def _link(request: Request, offset: int) -> dict[str, str]:
    """Return the link to the page at ``offset``: the same request with a new ``page``."""
    pairs = [("page", cursor(offset))]
    pairs += [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return {"href": f"{request.base_url}?{urlencode(pairs, safe=',!')}"}
