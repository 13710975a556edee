"""Typed keyword filters of the Lucca API → query parameters, checked before sending.

The Lucca API filters only on the query parameters each endpoint documents. A list
filter is sent comma-joined (``status=active,upcoming``) and takes at most 100 values:
when a caller passes more, the list is split into sweeps of 100 that run one after
another (see :func:`sweeps`). Every value is checked here, so a typo fails at once with
the bad value named, before any request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Literal

import attrs

from ..errors import ValidationError

#: The most values Lucca accepts in one list filter (``maxItems: 100`` in its spec).
MAX_VALUES = 100
#: The documented values of ``status`` (employees and job positions).
STATUSES = ("active", "upcoming", "deactivated")
EMPLOYEE_SORTS = ("id", "-id", "familyName", "-familyName", "createdAt", "-createdAt")
JOB_POSITION_SORTS = ("id", "-id", "startsOn", "-startsOn", "endsOn", "-endsOn")

#: Values of list filters: a sequence, or one string (commas separate several values).
Values = str | int | Iterable[str | int]
Query = dict[str, str | bool]
Kind = Literal["list", "text", "flag", "date"]


@attrs.frozen
class Filter:
    """One documented query parameter.

    Attributes:
        param: its name in the query string (``applicableJobPosition.department.id``).
        kind: ``list`` (comma-joined, at most 100 values), ``text`` (one value),
            ``flag`` (a boolean) or ``date`` (``YYYY-MM-DD``).
        choices: the documented values, checked before sending; ``None`` = any.
    """

    param: str
    kind: Kind = "list"
    choices: tuple[str, ...] | None = None


_IDS = Filter("id")
EMPLOYEE_FILTERS: Mapping[str, Filter] = {
    "ids": _IDS,
    "email": Filter("email"),
    "status": Filter("status", choices=STATUSES),
    "department_ids": Filter("applicableJobPosition.department.id"),
    "manager_ids": Filter("applicableJobPosition.manager.id"),
    "business_establishment_ids": Filter("applicableJobPosition.businessEstablishment.id"),
    "legal_entity_ids": Filter("applicableEmployment.legalEntity.id"),
    "search": Filter("search", kind="text"),
    "sort": Filter("sort", choices=EMPLOYEE_SORTS),
}
DEPARTMENT_FILTERS: Mapping[str, Filter] = {
    "search": Filter("search", kind="text"),
    "is_archived": Filter("isArchived", kind="flag"),
}
JOB_POSITION_FILTERS: Mapping[str, Filter] = {
    "ids": _IDS,
    "remote_ids": Filter("remoteId"),
    "employment_ids": Filter("employment.id"),
    "department_ids": Filter("department.id"),
    "manager_ids": Filter("manager.id"),
    "business_establishment_ids": Filter("businessEstablishment.id"),
    # A single value here, unlike the employees' status list (Lucca's spec).
    "status": Filter("status", kind="text", choices=STATUSES),
    "starts_on": Filter("startsOn", kind="date"),
    "sort": Filter("sort", choices=JOB_POSITION_SORTS),
}


def sweeps(path: str, spec: Mapping[str, Filter], given: Mapping[str, Any]) -> list[Query]:
    """Turn keyword filters into the query of each sweep to run (``None`` = not given).

    A list filter with more than 100 values is split into sweeps of 100 values, run one
    after another; every item matches one value of such a list at most (the filtered
    properties are single-valued: one id, one email, one applicable job position), so
    the sweeps never return an item twice. Only one list may be that long.

    Args:
        path: the endpoint, for error messages.
        spec: the endpoint's documented filters.
        given: keyword name → value, as the caller passed them.

    Returns:
        One query per sweep; an empty list when a list filter was given no value
        (it matches nothing, so nothing needs to be asked).

    Raises:
        ValidationError: a value outside the documented choices, an empty value, or more
            than one list longer than 100 values. Nothing is sent.
    """
    query: Query = {}
    long: tuple[str, list[str]] | None = None
    for name, value in given.items():
        if value is None:
            continue
        known = spec[name]
        if known.kind == "flag":
            query[known.param] = bool(value)
        elif known.kind == "date":
            query[known.param] = value.isoformat() if isinstance(value, date) else str(value)
        elif known.kind == "text":
            query[known.param] = _checked(path, name, known, value)
        else:
            values = _values(path, name, known, value)
            if not values:
                return []
            if len(values) <= MAX_VALUES:
                query[known.param] = ",".join(values)
            elif long is None:
                long = (known.param, values)
            else:
                raise refused(
                    path,
                    name,
                    f"{name} and another filter both have more than {MAX_VALUES} "
                    "values; pass at most one list that long",
                )
    if long is None:
        return [query]
    param, values = long
    return [
        {**query, param: ",".join(values[start : start + MAX_VALUES])}
        for start in range(0, len(values), MAX_VALUES)
    ]


def _values(path: str, name: str, known: Filter, value: Values) -> list[str]:
    if isinstance(value, str):
        items: Iterable[str | int] = value.split(",")
    elif isinstance(value, int):
        items = [value]
    else:
        items = value
    # Lucca wants unique values; keep the caller's order.
    return list(dict.fromkeys(_checked(path, name, known, item) for item in items))


def _checked(path: str, name: str, known: Filter, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise refused(path, name, f"{name} takes text values, not {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise refused(path, name, f"{name} has an empty value")
    if known.choices is not None and text not in known.choices:
        raise refused(path, name, f"{name}={text!r} is not one of {', '.join(known.choices)}")
    return text


def refused(path: str, name: str, problem: str) -> ValidationError:
    """Build the error for a request refused before sending."""
    return ValidationError(
        f"Lucca API: GET {path} was not sent: {problem}.", errors={name: [problem]}
    )
