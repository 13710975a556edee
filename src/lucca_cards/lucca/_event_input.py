r"""What a Lucca event body may hold before it becomes a :class:`.webhooks.LuccaEvent`.

The signature says Lucca sent the body, not that it is well formed (nor that a bug, a
proxy or an attacker with a leaked secret did not shape it). So
:func:`~lucca_cards.lucca.webhooks.parse` reads it through these checks:

* the body: UTF-8 (a leading byte-order mark is allowed), JSON without ``NaN`` or
  ``Infinity``, no lone surrogate escape (``\ud800`` is JSON but no text: no UTF-8
  database or log takes it), not nested beyond what the reader can take, an object;
* ``id`` and ``source``: non-blank strings without control, bidirectional or invisible
  characters (they are keys in the inbox and appear in logs), at most 256 and 2048
  characters; a number is refused, not converted (Lucca's ids are strings);
* ``topic``: ``resource.action`` in ASCII letters, digits, ``-`` and ``_``;
* ``occurredAt``: an ISO 8601 date-time; without a zone it is read as UTC (every Lucca
  timestamp is UTC), and it is always returned in UTC;
* ``data``: an object (absent or ``null`` only for ``ping`` and ``confirmation``), whose
  ``id``, and ``employee.id`` for ``employment.*`` and ``job-position.*``, are strings;
* ``type`` is ``event`` when present; ``apiVersion`` and ``url`` strings or ``null``;
  ``previousAttributes`` an object or ``null``; ``businessEstablishment`` ``null`` or a
  reference with a string id.

Messages name the field and what is wrong, never the value (it may be anything).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from .._models import json_kind
from .._untrusted import text_problem
from ..errors import ValidationError

# Topics that carry no resource (a ping, the endpoint's confirmation): data may be absent.
_BARE_TOPICS = frozenset({"ping", "confirmation"})
#: The resources whose data names the employee as ``data.employee`` (not as ``data.id``).
EMPLOYEE_REFERENCE = frozenset({"employment", "job-position"})
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,100}(\.[A-Za-z0-9_-]{1,100}){0,5}")
# ISO 8601 date-time in ASCII digits (``\d`` would take any script's); Python 3.11's
# fromisoformat alone also takes dates, week dates and the basic format.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?", re.ASCII)
_MAX_SOURCE = 2048
_MAX_ID = 256


def date_time(text: str) -> dt.datetime | None:
    """Read an ISO 8601 date-time (naive if it has no zone), or ``None``."""
    if len(text) > 64 or not _DATE_TIME.fullmatch(text):
        return None
    main, dot, rest = text.partition(".")
    if dot:  # fromisoformat wants at most 6 digits of fraction
        digits = re.match(r"[0-9]*", rest)
        assert digits is not None
        rest = digits.group()[:6].ljust(6, "0") + rest[len(digits.group()):]
        text = f"{main}.{rest}"
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:  # a 13th month, a 61st second, an offset of 99 hours
        return None



def read_json(raw: bytes) -> Any:
    """Return the JSON value of ``raw`` after the encoding and syntax checks."""
    try:
        text = raw.decode("utf-8-sig")  # strict: an invalid byte is an error, not U+FFFD
    except UnicodeDecodeError as exc:
        raise invalid("body", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                       f"{exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise invalid("body", f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise invalid("body", "is nested too deeply") from None
    if "\\u" in text:
        try:  # "\ud800" is valid JSON but no text: no UTF-8 database or log takes it
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise invalid("body", "escapes a lone surrogate (such as \\ud800), which is not "
                           "text") from None
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def check_event(payload: Any) -> dict[str, Any]:
    """Return :class:`~lucca_cards.lucca.webhooks.LuccaEvent`'s fields from a decoded event.

    Raises:
        ValidationError: a field is missing or wrong; ``errors`` names each one.
    """
    if not isinstance(payload, Mapping):
        raise invalid("body", f"must be a JSON object, not {_kind(payload)}")
    errors: dict[str, list[str]] = {}
    if payload.get("type", "event") != "event":
        errors["type"] = ["must be 'event' (is this a Lucca event?)"]
    event_id = _name(payload, "id", errors, _MAX_ID)
    source = _name(payload, "source", errors, _MAX_SOURCE)
    topic = payload.get("topic")
    if not isinstance(topic, str) or not _TOPIC.fullmatch(topic):
        errors["topic"] = [_wrong(topic, "a topic such as employee.created")]
        topic = ""
    occurred_at = _occurred_at(payload, errors)
    data = payload.get("data")
    if data is None and topic in _BARE_TOPICS:
        data = {}
    if not isinstance(data, Mapping):
        errors["data"] = [f"must be an object, not {_kind(data)}"]
        data = {}
    _check_employee(topic, data, errors)
    previous = _optional(payload, "previousAttributes", Mapping, "an object", errors)
    establishment = _establishment(payload.get("businessEstablishment"), errors)
    api_version = _optional(payload, "apiVersion", str, "a string", errors)
    url = _optional(payload, "url", str, "a string", errors)
    if errors:
        said = "; ".join(f"{path} {' '.join(problems)}" for path, problems in errors.items())
        raise ValidationError(f"Lucca event: cannot read the event: {said}", errors=errors)
    return {"id": event_id, "topic": topic, "occurred_at": occurred_at, "source": source,
            "api_version": api_version, "data": data, "previous_attributes": previous,
            "url": url, "business_establishment_id": establishment, "raw": payload}


def _name(payload: Mapping[str, Any], key: str, errors: dict[str, list[str]],
          longest: int) -> str:
    """Return ``payload[key]`` as a checked identifier (``""`` after noting a problem)."""
    value = payload.get(key)
    if not isinstance(value, str):
        what = "is missing" if key not in payload else f"must be a string, not {_kind(value)}"
        errors[key] = [what]
        return ""
    problem = text_problem(key, value.strip()) or (
        f"{key} is longer than {longest} characters" if len(value) > longest else None)
    if problem or value != value.strip():
        errors[key] = [problem.removeprefix(f"{key} ") if problem else
                       "has spaces around it"]
        return ""
    return value


def _occurred_at(payload: Mapping[str, Any], errors: dict[str, list[str]]) -> dt.datetime | None:
    value = payload.get("occurredAt")
    when = date_time(value) if isinstance(value, str) else None
    if when is None:
        errors["occurredAt"] = [_wrong(value, "an ISO 8601 date-time")]
        return None
    # Lucca's timestamps are UTC; one without a zone is read so rather than refused.
    if when.tzinfo is None:
        return when.replace(tzinfo=dt.timezone.utc)
    try:
        return when.astimezone(dt.timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past the last datetime in UTC
        errors["occurredAt"] = ["is out of the range of dates"]
        return None


def _check_employee(topic: str, data: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    """Check the ids an event names its resource and employee by: strings, as in Lucca."""
    resource = topic.rpartition(".")[0]
    if "id" in data or resource == "employee":
        _id(data.get("id"), "data.id", errors)
    if resource in EMPLOYEE_REFERENCE and data.get("employee") is not None:
        employee = data["employee"]
        if not isinstance(employee, Mapping):
            errors["data.employee"] = [f"must be an object, not {_kind(employee)}"]
        else:
            _id(employee.get("id"), "data.employee.id", errors)


def _id(value: Any, path: str, errors: dict[str, list[str]]) -> None:
    if value is None:
        errors[path] = ["is missing"]
    elif not isinstance(value, str):
        errors[path] = [f"must be a string (Lucca's ids are strings), not {_kind(value)}"]
    elif not value.strip() or len(value) > _MAX_ID:
        errors[path] = ["is blank" if not value.strip() else f"is longer than {_MAX_ID} characters"]
    elif text_problem(path, value) is not None:
        errors[path] = ["holds a character that is not text"]


def _establishment(value: Any, errors: dict[str, list[str]]) -> str | None:
    if value is None:
        return None
    found = value.get("id") if isinstance(value, Mapping) else None
    if isinstance(found, str) and found.strip() and len(found) <= _MAX_ID:
        return found
    errors["businessEstablishment"] = ["must be null or a reference with a string id"]
    return None


def _optional(payload: Mapping[str, Any], key: str, kind: type, named: str,
              errors: dict[str, list[str]]) -> Any:
    value = payload.get(key)
    if value is not None and not isinstance(value, kind):
        errors[key] = [f"must be {named} or null, not {_kind(value)}"]
        return None
    return value


def _kind(value: Any) -> str:
    """Name what a JSON value is, never showing it (it may be anything)."""
    return json_kind(value)


def _wrong(value: Any, expected: str) -> str:
    """Say why ``value`` is not ``expected``, without quoting it."""
    if value is None:
        return "is missing"
    if isinstance(value, str):
        return f"is not {expected}"
    return f"must be {expected}, not {_kind(value)}"


def invalid(field: str, problem: str) -> ValidationError:
    """Return the error for a body (or one field) that cannot be read as an event."""
    return ValidationError(f"Lucca event: the {field} {problem}", errors={field: [problem]})
