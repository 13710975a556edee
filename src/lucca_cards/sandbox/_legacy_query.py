"""The legacy API's query language: ``fields`` selections, filters, ``paging``, ``orderBy``.

It knows nothing about users: a filter or a sort compares values that the caller resolves
from a dotted property path (``department.id``). Every parse error is a :class:`LegacyError`
(``400``) whose message names the offending parameter.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_PAGING, MAX_PAGE = (0, 1000), 1000
#: Query keys the framework never takes as filters (compared case-insensitively).
RESERVED = frozenset({
    "fields", "paging", "orderby", "callback", "metadata", "notify", "accept", "groupby",
    "httpmethod", "template", "_", "randomnumber", "authtoken", "longtoken", "formeremployees",
})
_ONE_OPERAND = frozenset({
    "like", "starts", "since", "until",
    "greaterthan", "greaterthanorequal", "lessthan", "lessthanorequal",
})
OPERATORS = _ONE_OPERAND | {"equals", "notequal", "between"}
_DATE_OPS = frozenset({"since", "until", "between"})
_COMPARATORS = {
    "greaterthan": operator.gt,
    "greaterthanorequal": operator.ge,
    "lessthan": operator.lt,
    "lessthanorequal": operator.le,
}
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?")

#: A ``fields`` selection: requested name -> sub-selection (``None``: the default shape).
Selection = dict[str, "Selection | None"]


class LegacyError(Exception):
    """A legacy API refusal, answered as ``{"Message": …, "Status": …}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def parse_fields(text: str) -> Selection:
    """Parse ``id,department[id,name],manager.name`` into a nested selection."""
    selection: Selection = {}
    for part in _split_top_level(text):
        head, bracket, rest = part.partition("[")
        sub: Selection | None = None
        if bracket:
            if not rest.endswith("]"):
                raise LegacyError(400, f"fields: unbalanced brackets in {part!r}")
            sub = parse_fields(rest[:-1])
        names = [name.strip() for name in head.split(".")]
        if not all(names):
            raise LegacyError(400, f"fields: empty property name in {part!r}")
        _merge(selection, names, sub)
    return selection


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth < 0:
            raise LegacyError(400, "fields: unbalanced brackets")
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if depth:
        raise LegacyError(400, "fields: unbalanced brackets")
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _merge(selection: Selection, names: list[str], sub: Selection | None) -> None:
    head, rest = names[0], names[1:]
    current = selection.get(head)
    if rest:
        child = current if current is not None else {}
        _merge(child, rest, sub)
        selection[head] = child
    elif current is not None and sub is not None:
        for name, value in sub.items():
            _merge(current, [name], value)
    else:
        selection[head] = current if current is not None else sub


def child(value: Any, name: str) -> Any:
    """Return the property ``name`` (any case) of a value; lists are mapped over."""
    if isinstance(value, list):
        return [child(item, name) for item in value]
    if isinstance(value, dict):
        key = next((k for k in value if k.lower() == name.lower()), None)
        return None if key is None else value[key]
    return None


def narrow(value: Any, selection: Selection | None) -> Any:
    """Keep what a sub-selection asks for of a value (absent properties as null)."""
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [narrow(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    narrowed = {}
    for name, sub in selection.items():
        key = next((k for k in value if k.lower() == name.lower()), name)
        narrowed[key] = narrow(value.get(key), sub)
    return narrowed


def parse_paging(text: str | None) -> tuple[int, int]:
    """Parse ``paging=offset,limit`` (default ``0,1000``; limit 1 to 1000)."""
    if text is None:
        return DEFAULT_PAGING
    match = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[2]) <= MAX_PAGE:
        raise LegacyError(400, f"paging must be 'offset,limit' with a limit of 1 to {MAX_PAGE}")
    return int(match[1]), int(match[2])


def parse_order(text: str | None) -> list[tuple[list[str], bool]]:
    """Parse ``orderBy=lastName,asc,id,desc`` into ``(path, descending)`` pairs."""
    if text is None:
        return []
    tokens = [token.strip() for token in text.split(",")]
    if len(tokens) % 2 or not all(tokens):
        raise LegacyError(400, "orderBy must be pairs of 'property,asc|desc'")
    pairs = []
    for prop, direction in zip(tokens[::2], tokens[1::2], strict=True):
        if direction.lower() not in ("asc", "desc"):
            raise LegacyError(400, f"orderBy: direction {direction!r} is not asc or desc")
        pairs.append((prop.split("."), direction.lower() == "desc"))
    return pairs


def sort_key(value: Any) -> tuple[int, float, str]:
    """Order any JSON values: nulls first, then numbers, then text (case-insensitive)."""
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value), "")
    if isinstance(value, str):
        return (2, 0.0, value.casefold())
    return (3, 0.0, json.dumps(value, sort_keys=True))


@dataclass(frozen=True)
class Filter:
    """One ``?property=[operator,]operand[,operand…]`` condition."""

    path: list[str]
    operator: str
    operands: list[str]

    @classmethod
    def parse(cls, key: str, value: str) -> Filter:
        """Parse a filter; the operator defaults to ``equals`` (an IN list)."""
        tokens = value.split(",")
        operator = tokens[0].strip().lower()
        operands = tokens[1:] if operator in OPERATORS else tokens
        operator = operator if operator in OPERATORS else "equals"
        wanted = 2 if operator == "between" else 1
        exact = operator in _ONE_OPERAND or operator == "between"
        if len(operands) < wanted or (exact and len(operands) != wanted):
            raise LegacyError(400, f"{key}: {operator} takes {wanted} operand(s)")
        for operand in operands:
            if operator in _DATE_OPS and _datetime(operand) is None:
                raise LegacyError(400, f"{key}: {operand!r} is not a date")
            if operator.endswith(("than", "orequal")) and _ordinal(operand) is None:
                raise LegacyError(400, f"{key}: {operand!r} is not a number or a date")
        return cls(key.split("."), operator, operands)

    def matches(self, value: Any) -> bool:
        """Whether a resolved value (a list: any of its items) satisfies the condition."""
        if isinstance(value, list):
            return any(self.matches(item) for item in value) if value else self.matches(None)
        if self.operator in ("equals", "notequal"):
            found = any(_equal(value, operand) for operand in self.operands)
            return found == (self.operator == "equals")
        if value is None:
            return False
        text = str(value).casefold()
        if self.operator == "like":
            return self.operands[0].casefold() in text
        if self.operator == "starts":
            return text.startswith(self.operands[0].casefold())
        return self._compares(value)

    def _compares(self, value: Any) -> bool:
        if self.operator in _DATE_OPS:
            moment = _datetime(value) if isinstance(value, str) else None
            bounds = [_datetime(operand) for operand in self.operands]
            if moment is None or None in bounds:
                return False
            low, high = {"since": (bounds[0], None), "until": (None, bounds[0])}.get(
                self.operator, (bounds[0], bounds[-1])
            )
            return (low is None or moment >= low) and (high is None or moment <= high)
        mine, theirs = _ordinal(value), _ordinal(self.operands[0])
        if mine is None or theirs is None or type(mine) is not type(theirs):
            return False
        return bool(_COMPARATORS[self.operator](mine, theirs))


def _datetime(text: str) -> dt.datetime | None:
    if not _DATETIME.fullmatch(text.strip()):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip().removesuffix("Z"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)


def _ordinal(value: Any) -> float | dt.datetime | None:
    """Return a number or a date to compare ``value`` as, ``None`` when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        return _datetime(value)


def _equal(value: Any, operand: str) -> bool:
    if operand.strip().lower() == "null" or value is None:
        return value is None and operand.strip().lower() == "null"
    if isinstance(value, bool):
        return operand.strip().lower() == str(value).lower()
    if isinstance(value, int | float):
        try:
            return float(operand) == value
        except ValueError:
            return False
    if isinstance(value, str):
        moment, other = _datetime(value), _datetime(operand)
        if moment is not None and other is not None:
            return moment == other
        return value.casefold() == operand.casefold()
    return False
