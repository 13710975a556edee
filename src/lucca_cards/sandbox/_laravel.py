"""Laravel's conventions as the Cards API shows them: pagination, ``filters``, 422 errors.

The Cards API is a Laravel application (reference ``cards-api.md`` §2): its lists are
``LengthAwarePaginator`` resources, its ``filters`` parameter is a JSON array of
``{type, values}`` and its errors are Laravel's JSON errors. Nothing here knows Cards'
resources; :mod:`lucca_cards.sandbox.cards` supplies the fields.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

T = TypeVar("T")

#: A custom rule: given a (present, non-null) value, return an error message or ``None``.
Check: TypeAlias = Callable[[Any], "str | None"]
#: An attribute's rules: ``"required|string|max:190"`` or a sequence of rules and checks.
Rules: TypeAlias = "str | Sequence[str | Check]"

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
ON_EACH_SIDE = 3
PREVIOUS_LABEL = "&laquo; Previous"
NEXT_LABEL = "Next &raquo;"

_MESSAGES = {
    "required": "The {a} field is required.",
    "required_if": "The {a} field is required when {other} is {value}.",
    "string": "The {a} field must be a string.",
    "integer": "The {a} field must be an integer.",
    "boolean": "The {a} field must be true or false.",
    "array": "The {a} field must be an array.",
    "email": "The {a} field must be a valid email address.",
    "json": "The {a} field must be a valid JSON string.",
    "in": "The selected {a} is invalid.",
    "exists": "The selected {a} is invalid.",
    "unique": "The {a} has already been taken.",
    "date_format": "The {a} field must match the format {format}.",
    "max.numeric": "The {a} field must not be greater than {n}.",
    "max.string": "The {a} field must not be greater than {n} characters.",
    "max.array": "The {a} field must not have more than {n} items.",
    "min.numeric": "The {a} field must be at least {n}.",
    "min.string": "The {a} field must be at least {n} characters.",
    "min.array": "The {a} field must have at least {n} items.",
}
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Laravel's ``email`` rule as settled for the sandbox: an ASCII local part (no leading,
# trailing or doubled dot) and a domain of at least two dotted labels.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}"
)


class LaravelError(Exception):
    """An error answer: ``status`` and Laravel's JSON body ``{"message": …}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.errors, self.headers = errors, dict(headers or {})

    def body(self) -> dict[str, Any]:
        """Return the JSON body (``errors`` only on validation errors)."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class LaravelValidationError(LaravelError):
    """A 422 answer: ``{"message": <summary>, "errors": {attribute: [messages]}}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(422, summarize(errors), errors=errors)


def summarize(errors: Mapping[str, Sequence[str]]) -> str:
    """Return Laravel's summary: the first message, then ``(and N more error[s])``."""
    messages = [message for field_messages in errors.values() for message in field_messages]
    if not messages:
        return "The given data was invalid."
    rest = len(messages) - 1
    if not rest:
        return messages[0]
    return f"{messages[0]} (and {rest} more error{'' if rest == 1 else 's'})"


def message(key: str, attribute: str, **params: Any) -> str:
    """Return Laravel's English message ``key`` (``"max.string"``…) for ``attribute``."""
    return _MESSAGES[key].format(a=attribute.replace("_", " "), **params)


def clean(value: Any) -> Any:
    """Trim strings and turn empty ones into ``None``, recursively (Laravel's middleware)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    return value


def is_boolean(value: Any) -> bool:
    """Whether Laravel's ``boolean`` rule accepts ``value`` (true, false, 0, 1, "0", "1")."""
    if isinstance(value, bool):
        return True
    return (type(value) is int and value in (0, 1)) or value in ("0", "1")


def is_email(value: str) -> bool:
    """Whether ``value`` passes the sandbox's ``email`` rule."""
    return _EMAIL.fullmatch(value) is not None


def validate(
    data: Mapping[str, Any],
    rules: Mapping[str, Rules],
    *,
    partial: bool = False,
) -> dict[str, list[str]]:
    """Return the errors of ``data`` against ``rules`` (one message per attribute).

    ``partial`` is Laravel's ``sometimes``: absent attributes are not checked at all.
    Otherwise an absent attribute is only checked by ``required`` and ``required_if``.
    """
    errors: dict[str, list[str]] = {}
    for attribute, spec in rules.items():
        present = attribute in data
        if partial and not present:
            continue
        parsed: list[str | Check] = [*spec.split("|")] if isinstance(spec, str) else [*spec]
        failure = _failure(attribute, data.get(attribute), present, parsed, data)
        if failure is not None:
            errors[attribute] = [failure]
    return errors


def _failure(
    attribute: str,
    value: Any,
    present: bool,
    rules: list[str | Check],
    data: Mapping[str, Any],
) -> str | None:
    names = [rule.partition(":")[0] for rule in rules if isinstance(rule, str)]
    empty = value is None or value == [] or value == {}
    for rule in rules:
        if isinstance(rule, str) and rule.startswith("required_if:"):
            other, expected = rule.partition(":")[2].split(",", 1)
            if empty and str(data.get(other)) == expected:
                return message("required_if", attribute, other=other, value=expected)
    if "required" in names and empty:
        return message("required", attribute)
    if not present or (value is None and "nullable" in names):
        return None
    numeric = "integer" in names
    for rule in rules:
        failure = rule(value) if callable(rule) else _rule_failure(attribute, value, rule, numeric)
        if failure is not None:
            return failure
    return None


def _rule_failure(attribute: str, value: Any, rule: str, numeric: bool) -> str | None:
    name, _, arg = rule.partition(":")
    if name in ("max", "min"):
        return _size_failure(attribute, value, name, int(arg), numeric)
    passes: bool
    if name == "string":
        passes = isinstance(value, str)
    elif name == "integer":
        passes = type(value) is int or (isinstance(value, str) and bool(_INTEGER.fullmatch(value)))
    elif name == "boolean":
        passes = is_boolean(value)
    elif name == "array":
        passes = isinstance(value, list)
    elif name == "email":
        passes = isinstance(value, str) and is_email(value)
    elif name == "in":
        passes = isinstance(value, (str, int)) and str(value) in arg.split(",")
    elif name == "date_format":
        return None if _is_date(value) else message(name, attribute, format=arg)
    else:  # "nullable", "required…", "sometimes": handled by the caller
        return None
    return None if passes else message(name, attribute)


def _size_failure(attribute: str, value: Any, name: str, bound: int, numeric: bool) -> str | None:
    if numeric and isinstance(value, (int, str)) and not isinstance(value, bool):
        size, kind = int(value), "numeric"
    elif isinstance(value, str):
        size, kind = len(value), "string"
    elif isinstance(value, list):
        size, kind = len(value), "array"
    else:
        return None
    if (size > bound) if name == "max" else (size < bound):
        return message(f"{name}.{kind}", attribute, n=bound)
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# -- filters --------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """One entry of ``filters``: its ``type`` and the values it accepts (OR)."""

    type: str
    values: tuple[Any, ...]


def text_value(value: Any) -> str | None:
    """Normalise a filter value compared as text (strings and integers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def bool_value(value: Any) -> str | None:
    """Normalise a boolean filter value (0/1/true/false/"0"/"1"/"true"/"false") to "0"/"1"."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return {"0": "0", "1": "1", "false": "0", "true": "1"}.get(str(value).lower())


@dataclass(frozen=True)
class FilterField(Generic[T]):
    """How a filter ``type`` reads an item: its values as text, and how to normalise input."""

    values_of: Callable[[T], Iterable[str]]
    normalize: Callable[[Any], str | None] = text_value


def flag(get: Callable[[T], bool]) -> FilterField[T]:
    """Build a boolean filter field from a getter."""
    return FilterField(lambda item: ("1" if get(item) else "0",), bool_value)


def parse_filters(raw: str | None) -> tuple[list[Filter], list[str]]:
    """Parse the ``filters`` query parameter; return the filters and any error messages."""
    if raw is None or not raw.strip():
        return [], []
    try:
        entries = json.loads(raw)
    except ValueError:
        return [], [message("json", "filters")]
    if not isinstance(entries, list):
        return [], [message("array", "filters")]
    filters: list[Filter] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            return [], [message("required", f"filters.{index}.type")]
        if "values" not in entry:
            return [], [message("required", f"filters.{index}.values")]
        values = entry["values"]
        values = tuple(values) if isinstance(values, list) else (values,)
        if any(isinstance(value, (list, dict)) or value is None for value in values):
            return [], [message("in", f"filters.{index}.values")]
        filters.append(Filter(entry["type"], values))
    return filters, []


def apply_filters(
    items: Iterable[T], filters: Sequence[Filter], fields: Mapping[str, FilterField[T]]
) -> list[T]:
    """Keep the items matching every filter (AND); a filter matches any of its values (OR).

    Unknown filter types are ignored, as Laravel ignores unknown query keys.
    """
    tests: list[tuple[Callable[[T], Iterable[str]], set[str]]] = []
    for entry in filters:
        spec = fields.get(entry.type)
        if spec is not None:
            wanted = {value for value in map(spec.normalize, entry.values) if value is not None}
            tests.append((spec.values_of, wanted))
    if not tests:
        return list(items)
    return [item for item in items if all(not want.isdisjoint(get(item)) for get, want in tests)]


# -- pagination -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """A list request's ``paginate``, ``page`` and ``filters``."""

    per_page: int
    page: int
    filters: tuple[Filter, ...]


def list_query(args: Mapping[str, str]) -> ListQuery:
    """Read ``paginate`` (1..500, default 100), ``page`` and ``filters``; 422 when invalid.

    A ``page`` that is not a positive integer means page 1, as Laravel's paginator reads it.
    """
    paginate = clean(args.get("paginate"))
    errors = validate(
        {"paginate": paginate}, {"paginate": f"nullable|integer|min:1|max:{MAX_PER_PAGE}"}
    )
    filters, filter_errors = parse_filters(args.get("filters"))
    if filter_errors:
        errors["filters"] = filter_errors
    if errors:
        raise LaravelValidationError(errors)
    page_text = (args.get("page") or "").strip()
    page = int(page_text) if _INTEGER.fullmatch(page_text) else 1
    per_page = DEFAULT_PER_PAGE if paginate is None else int(paginate)
    return ListQuery(per_page, max(page, 1), tuple(filters))


def page_window(current: int, last: int, on_each_side: int = ON_EACH_SIDE) -> list[int | None]:
    """Return the page numbers Laravel's ``UrlWindow`` links (``None`` for ``"..."``)."""
    window = on_each_side + 4
    if last < on_each_side * 2 + 8:
        return list(range(1, last + 1))
    start, finish = [1, 2], [last - 1, last]
    if current <= window:
        return [*range(1, window + on_each_side + 1), None, *finish]
    if current > last - window:
        return [*start, None, *range(last - (window + on_each_side - 1), last + 1)]
    middle = range(current - on_each_side, current + on_each_side + 1)
    return [*start, None, *middle, None, *finish]


def paginate(
    items: Sequence[T], query: ListQuery, path: str, render: Callable[[T], Any]
) -> dict[str, Any]:
    """Return the page ``query`` asks for, in Laravel's resource-collection envelope.

    ``path`` is the absolute URL of the list without a query; link URLs carry ``page`` only.
    """
    page, per_page, total = query.page, query.per_page, len(items)
    last_page = max(math.ceil(total / per_page), 1)
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]

    def url(number: int) -> str:
        return f"{path}?page={number}"

    previous = url(page - 1) if page > 1 else None
    following = url(page + 1) if page < last_page else None
    links: list[dict[str, Any]] = [{"url": previous, "label": PREVIOUS_LABEL, "active": False}]
    for number in page_window(page, last_page):
        if number is None:
            links.append({"url": None, "label": "...", "active": False})
        else:
            links.append({"url": url(number), "label": str(number), "active": number == page})
    links.append({"url": following, "label": NEXT_LABEL, "active": False})
    return {
        "data": [render(item) for item in chunk],
        "links": {"first": url(1), "last": url(last_page), "prev": previous, "next": following},
        "meta": {
            "current_page": page,
            "from": start + 1 if chunk else None,
            "last_page": last_page,
            "links": links,
            "path": path,
            "per_page": per_page,
            "to": start + len(chunk) if chunk else None,
            "total": total,
        },
    }
