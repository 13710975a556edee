"""The Cards ``filters`` query parameter: typed keyword filters → a JSON array.

Cards filters a list with one query parameter, ``filters``, holding a JSON array of
``{"type": ..., "values": ...}`` objects: the objects are combined with AND, and a list
in ``values`` means OR among its values. Each resource documents its own filter types.
:data:`USER_FILTERS` and its siblings map the SDK's keyword arguments to those types,
and :func:`filters_query` turns the keywords a caller passed into the parameter, the
same way for every resource.

>>> filters_query(USER_FILTERS, {"role": "user", "group_names": ["RPS", "vol"]})
{'filters': '[{"type":"role","values":"user"},{"type":"groups_name","values":["RPS","vol"]}]'}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..errors import ValidationError
from .models import ROLES, not_sent

#: Badge (and, as documented, certificate) statuses.
BADGE_STATUSES = ("draft", "publish", "expire")

#: A text filter: one value, or several (matched with OR).
TextFilter = str | Sequence[str]


@attrs.frozen
class Filter:
    """One documented filter type of a resource; ``type`` is its name in Cards (``groups_name``).

    Attributes:
        flag: the filter is a yes/no flag; ``True``/``False`` are sent as ``1``/``0``
            (gap 14: Cards' input booleans are documented as 0/1).
        choices: the values Cards documents, checked before sending; ``None`` = any.
    """

    type: str
    flag: bool = False
    choices: tuple[str, ...] | None = None


@attrs.frozen
class ResourceFilters:
    """The filters one resource documents, by the SDK's keyword name.

    Attributes:
        resource: the resource's path name, for error messages (``users``).
        filters: keyword argument → :class:`Filter`.
    """

    resource: str
    filters: Mapping[str, Filter]


_GROUP_FILTERS = {"group_names": Filter("groups_name"), "group_ids": Filter("groups_id")}
_PUBLICATION_FILTERS = {
    "status": Filter("status", choices=BADGE_STATUSES),
    "option_teasing": Filter("option_teasing", flag=True),
    "notif": Filter("notif", flag=True),
}

#: ``GET /v1/users``: ``role``, ``groups_name``, ``groups_id``. There is no email filter.
USER_FILTERS = ResourceFilters("users", {"role": Filter("role", choices=ROLES), **_GROUP_FILTERS})
#: ``GET /v1/trainings``: ``groups_id``, ``groups_name``, ``is_public``, ``is_rating``,
#: ``status`` (training statuses are undocumented, gap 18: not checked).
TRAINING_FILTERS = ResourceFilters(
    "trainings",
    {
        **_GROUP_FILTERS,
        "is_public": Filter("is_public", flag=True),
        "is_rating": Filter("is_rating", flag=True),
        "status": Filter("status"),
    },
)
#: ``GET /v1/groups``: ``is_public``, ``enable_ranking``.
GROUP_FILTERS = ResourceFilters(
    "groups",
    {
        "is_public": Filter("is_public", flag=True),
        "enable_ranking": Filter("enable_ranking", flag=True),
    },
)
#: ``GET /v1/badges``: ``status``, ``option_teasing``, ``notif``.
BADGE_FILTERS = ResourceFilters("badges", _PUBLICATION_FILTERS)
#: ``GET /v1/certificates``: documented with the badges' filters.
CERTIFICATE_FILTERS = ResourceFilters("certificates", _PUBLICATION_FILTERS)


def filters_query(spec: ResourceFilters, given: Mapping[str, Any]) -> dict[str, str]:
    """Build the ``filters`` query parameter from keyword filters (``None`` = not given).

    Args:
        spec: the resource's documented filters.
        given: keyword name → value, as the caller passed them.

    Returns:
        ``{"filters": "<JSON array>"}``, or ``{}`` when no filter is set.

    Raises:
        ValidationError: a keyword the resource does not document, or a value outside
            the documented choices. Nothing is sent.
    """
    entries = []
    for name, value in given.items():
        if value is None:
            continue
        known = spec.filters.get(name)
        if known is None:
            raise _refused(
                spec,
                name,
                f"Cards cannot filter {spec.resource} by it; the documented filters are "
                f"{', '.join(spec.filters)}",
            )
        entries.append({"type": known.type, "values": _values(spec, name, known, value)})
    if not entries:
        return {}
    return {"filters": json.dumps(entries, separators=(",", ":"), ensure_ascii=False)}


def _values(spec: ResourceFilters, name: str, known: Filter, value: Any) -> Any:
    """Encode one filter's value: a scalar stays a scalar, a sequence becomes a list (OR)."""
    several = isinstance(value, Iterable) and not isinstance(value, (str, bytes))
    values = list(value) if several else [value]
    if not values:
        raise _refused(spec, name, "an empty list matches nothing; pass None to not filter")
    encoded = [_value(spec, name, known, item) for item in values]
    return encoded if several else encoded[0]


def _value(spec: ResourceFilters, name: str, known: Filter, value: Any) -> str | int:
    if known.flag:
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise _refused(spec, name, "is a yes/no filter: pass True or False")
        return int(value)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _refused(spec, name, f"takes text values, not {type(value).__name__}")
    if known.choices is not None and value not in known.choices:
        raise _refused(spec, name, f"{value!r} is not one of {', '.join(known.choices)}")
    return value


def _refused(spec: ResourceFilters, name: str, problem: str) -> ValidationError:
    return not_sent(f"GET /{spec.resource}", {name: problem})
