"""How the models read JSON values: dates, and strict leaf types (no silent coercion).

:mod:`lucca_cards._models` registers the leaf hooks on its converter; the date functions
are also what other modules use to read and write the APIs' dates.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

_FRACTION = re.compile(r"\.(\d+)")
#: What the Lucca API sends; read without the general rewriting below, to the same result.
_UTC_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)Z", re.ASCII)


def parse_datetime(value: Any) -> datetime:
    """Parse the dates the three APIs send.

    Handles ``2024-04-15T23:12:54.0001Z`` (Lucca API), naive ``2014-09-01T00:00:00``
    (legacy, tenant-local), ``2024-01-20 09:10:00`` and ``…000000Z`` (Cards).
    """
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a date-time string, got {type(value).__name__}")
    try:  # Python 3.11 reads every form above itself, ten times faster than below
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    stamp = _UTC_STAMP.fullmatch(value)
    if stamp is not None:
        return datetime.fromisoformat(f"{stamp[1]}.{(stamp[2] + '000000')[:6]}+00:00")
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    return datetime.fromisoformat(text)


def parse_date(value: Any) -> date:
    """Parse ``YYYY-MM-DD`` (or a date-time, keeping its date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a date string, got {type(value).__name__}")
    text = value.strip()
    return date.fromisoformat(text) if len(text) == 10 else parse_datetime(text).date()


def legacy_date_text(value: date) -> str:
    """Write a date or date-time as the legacy API reads it: ``YYYY-MM-DDTHH:MM:SS``, no offset.

    >>> legacy_date_text(date(2024, 6, 10))
    '2024-06-10T00:00:00'
    """
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.strftime("%Y-%m-%dT00:00:00")


def utc(value: datetime) -> datetime:
    """Return ``value`` in UTC, treating a naive datetime as UTC."""
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def json_kind(value: Any) -> str:
    """Name what a JSON value is, for a message that must not show the value.

    >>> json_kind({"x": 1}), json_kind(None)
    ('an object', 'null')
    """
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# Strict leaf hooks: cattrs' defaults call str(), int(), bool() on whatever comes, which
# turns an object into "{'x': 1}", "false" into True and a string into a list of letters.
# A server that sends the wrong type gets a clear refusal instead.


def text(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric ids and codes, sent as numbers by some endpoints
    raise TypeError(f"expected a string, got {json_kind(value)}")


def whole(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected a whole number, got {json_kind(value)}")


def real(value: Any, _: Any) -> float:
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise TypeError(f"expected a number, got the text {value[:20]!r}") from None
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise TypeError(f"expected a number, got {json_kind(value)}")
    if not math.isfinite(number):
        raise TypeError("expected a finite number")
    return float(number)


_FLAGS = {"true": True, "false": False, "1": True, "0": False}


def flag(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)  # PHP backends send booleans as 0/1
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise TypeError(f"expected true or false, got {json_kind(value)}")


def when(value: Any, _: Any) -> datetime:
    if not isinstance(value, (str, datetime)):
        raise TypeError(f"expected a date-time string, got {json_kind(value)}")
    return parse_datetime(value)


def day(value: Any, _: Any) -> date:
    if not isinstance(value, (str, date)):
        raise TypeError(f"expected a date string, got {json_kind(value)}")
    return parse_date(value)


#: The leaf hooks, by the type each reads.
LEAF_HOOKS = ((str, text), (int, whole), (float, real), (bool, flag), (datetime, when),
              (date, day))
