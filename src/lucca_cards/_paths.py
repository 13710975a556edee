"""Ids become path segments: checked, then percent-encoded, so no id can reach another route.

``users.delete("x/../" + id)`` must delete nothing but a user whose id is that text: a
slash is encoded (``%2F``), and the dot segments ``.`` and ``..``, which URL resolution
would apply however they are encoded by us, are refused outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from .errors import ValidationError

#: The longest id accepted (ids of the three APIs are short: numbers and UUIDs).
MAX_ID_LENGTH = 200


def segment(value: Any, *, name: str = "id", where: str = "") -> str:
    """Return ``value`` as one percent-encoded path segment.

    Accepts a non-empty string (surrounding blanks trimmed) or a whole number.

    >>> segment("a/b"), segment(416)
    ('a%2Fb', '416')

    Raises:
        ValidationError: ``value`` is not a string or a whole number, is empty, too long,
            or a dot segment; nothing is sent.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise refused(name, f"must be a string or a whole number, not {type(value).__name__}",
                      where)
    text = str(value).strip()
    if not text:
        raise refused(name, "is empty", where)
    if text in {".", ".."}:
        raise refused(name, f"{text!r} is not an id (it would change the route)", where)
    if len(text) > MAX_ID_LENGTH:
        raise refused(name, f"is {len(text)} characters long; ids are at most "
                      f"{MAX_ID_LENGTH}", where)
    return quote(text, safe="")


def whole_id(value: Any, *, name: str = "user_id", where: str = "") -> int:
    """Return a legacy (integer) id: a positive ``int``, or a string of ASCII digits.

    >>> whole_id("416")
    416

    Raises:
        ValidationError: anything else (a bool, a float, ``"1_000"``, ``" 12a"``, 0).
    """
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise refused(name, f"must be a whole number, not {type(value).__name__} "
                      f"{_shown(value)}", where)
    if value < 1:
        raise refused(name, f"must be positive, got {value}", where)
    return value


def refused(name: str, problem: str, where: str = "") -> ValidationError:
    """Build the error for an argument refused before anything is sent."""
    prefix = f"{where}: " if where else ""
    return ValidationError(f"{prefix}{name} {problem}; nothing was sent.",
                           errors={name: [problem]})


def _shown(value: Any) -> str:
    return repr(value)[:40] if isinstance(value, (str, float)) else ""


def id_list(value: Any, *, name: str, where: str = "") -> list[str]:
    """Return a collection of ids as distinct strings, in the order given.

    A ``str`` or an ``int`` alone is refused: ``department_ids="12"`` would otherwise mean
    departments 1 and 2. Each id is a non-empty string or a whole number.

    >>> id_list(["12", 31, "12"], name="department_ids")
    ['12', '31']

    Raises:
        ValidationError: ``value`` is not a collection, or holds something that is not an id.
    """
    if isinstance(value, (str, bytes, int, Mapping)) or not isinstance(value, Iterable):
        example = f"[{value!r:.30}]" if isinstance(value, (str, int)) else "['12', '31']"
        raise refused(name, f"must be a collection of ids such as {example}, not "
                      f"{type(value).__name__}", where)
    ids: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
            raise refused(name, f"holds {item!r:.40}, which is not an id (a non-empty string or a "
                          "whole number)", where)
        ids.append(str(item).strip())
    return list(dict.fromkeys(ids))
