"""What a webhook request may hold before it becomes a typed event: the strict checks.

A webhook body arrives from the internet; the signature says who sent it, not that it is
well formed. So :func:`~lucca_cards.cards.webhooks.parse` reads it through these checks
first: the models check types, but not a webhook's own rules (an id may not be ``null`` or
blank, a progress is a fraction, a number given as text is not a count), and Python's JSON
reader accepts ``NaN`` and ``Infinity``:

* the body (its size is checked by ``parse`` before it comes here): UTF-8 (a leading
  byte-order mark is allowed), JSON without ``NaN``/``Infinity``, not nested beyond what
  the reader can take;
* ids (the event's and ``data.user``/``training``/``training.chapter``'s): a non-blank
  string or a number (never a boolean, object, list or ``null``); a number becomes text;
* ``data.score.progress``: a finite number from 0 to 1; counts (``points``,
  ``max_points``, ``chapters_count``, ``position``): whole numbers; texts: strings.

The header side is forgiving instead, since frameworks hand headers over in many shapes:
see :func:`signature_values` and :func:`signature_text`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import ValidationError

_SIGNATURE_PREFIX = "sha256="
_ENVELOPE_KEYS = ("id", "type", "created_at", "data")

# The kinds of value a field may hold, and the shape of a training-activity ``data``.
_ID, _TEXT, _COUNT, _FRACTION = "id", "text", "count", "fraction"
_ACTIVITY: dict[str, Any] = {
    "points": _COUNT,
    "user": {"id": _ID, "firstname": _TEXT, "lastname": _TEXT, "email": _TEXT,
             "company": _TEXT, "lang": _TEXT},
    "training": {"id": _ID, "title": _TEXT, "description": _TEXT, "image": _TEXT,
                 "chapters_count": _COUNT,
                 "chapter": {"id": _ID, "title": _TEXT, "position": _COUNT}},
    "score": {"points": _COUNT, "max_points": _COUNT, "progress": _FRACTION},
}


# -- the body -------------------------------------------------------------------------------


def read_json(raw: bytes) -> Any:
    """Return the JSON value of the body ``raw`` after the encoding and syntax checks."""
    try:
        text = raw.decode("utf-8-sig")  # strict: an invalid byte is an error, not U+FFFD
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "Cards webhook: the body is not valid JSON: it is not UTF-8 text (byte "
            f"0x{raw[exc.start]:02x} at position {exc.start})",
            errors={"body": ["is not UTF-8"]}) from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise ValidationError(f"Cards webhook: the body is not valid JSON ({exc})",
                              errors={"body": ["is not valid JSON"]}) from None
    except RecursionError:
        raise ValidationError("Cards webhook: the body is not valid JSON: it is nested too "
                              "deeply", errors={"body": ["is nested too deeply"]}) from None
    if _LONE_SURROGATE.search(text) and _holds_lone_surrogate(value):
        # JSON may escape half of a surrogate pair ("\ud800"): valid JSON, but no text,
        # and no UTF-8 database or log can take it.
        raise ValidationError("Cards webhook: the body escapes a lone surrogate (such as "
                              "\\ud800), which is not text", errors={"body": [
                                  "holds a lone surrogate escape"]})
    return value


#: A surrogate escape such as \ud800; only a body holding one is searched once decoded.
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _holds_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def as_bytes(body: object) -> bytes:
    """Return the body as bytes (``str`` encoded as UTF-8); refuse any other type."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 body could have held it
            raise ValidationError("Cards webhook: the body is not valid JSON: it is not "
                                  "UTF-8 text", errors={"body": ["is not UTF-8"]}) from None
    raise TypeError(f"parse() needs the request body as bytes or str, not {type(body).__name__}")


def _no_constant(name: str) -> Any:
    # Python reads NaN, Infinity and -Infinity; JSON has no such values, and a NaN progress
    # would compare false with everything downstream.
    raise ValueError(f"{name} is not a JSON value")


# -- the event ------------------------------------------------------------------------------


def check_envelope(payload: Any) -> dict[str, Any]:
    """Return the envelope with its ``id`` as text; refuse a missing or wrong key."""
    if not isinstance(payload, dict):
        raise ValidationError(
            f"Cards webhook: expected a JSON object, got {type(payload).__name__}")
    missing = [key for key in _ENVELOPE_KEYS if key not in payload]
    if missing:
        raise ValidationError(f"Cards webhook: the event lacks {', '.join(missing)}",
                              errors={key: ["is missing"] for key in missing})
    errors: dict[str, list[str]] = {}
    checked = {**payload, "id": _value(payload["id"], _ID, "id", errors)}
    if not isinstance(payload["type"], str) or not payload["type"].strip():
        errors["type"] = [f"must be a non-empty string, got {_shown(payload['type'])}"]
    _raise_if(errors, "WebhookEvent")
    return checked


def check_activity(data: Any, event: str) -> dict[str, Any]:
    """Return a training activity's ``data`` with its ids as text; refuse a wrong value.

    ``event`` (the model's name) starts the message.
    """
    errors: dict[str, list[str]] = {}
    checked = _object(data, _ACTIVITY, "data", errors)
    _raise_if(errors, event)
    assert checked is not None  # _raise_if raised for a null or non-object data
    return checked


def _object(value: Any, shape: dict[str, Any], path: str,
            errors: dict[str, list[str]]) -> dict[str, Any] | None:
    if value is None and path != "data":  # an absent part of the event: allowed
        return None
    if not isinstance(value, dict):
        errors[path] = [f"must be an object, got {_shown(value)}"]
        return None
    checked = dict(value)
    for key, kind in shape.items():
        where = f"{path}.{key}"
        if key not in value:
            if kind == _ID:
                errors[where] = ["is missing"]
            continue
        if isinstance(kind, dict):
            checked[key] = _object(value[key], kind, where, errors)
        else:
            checked[key] = _value(value[key], kind, where, errors)
    return checked


def _value(value: Any, kind: str, path: str, errors: dict[str, list[str]]) -> Any:
    """Return ``value`` checked as ``kind`` (ids become text); note a problem in ``errors``."""
    # bool is an int to Python, not a number to JSON; an int is always finite (and may be
    # too large for a float, so it is never converted to one).
    whole = isinstance(value, int) and not isinstance(value, bool)
    real = isinstance(value, float) and math.isfinite(value)
    if kind == _ID:
        if isinstance(value, str) and value.strip():
            return value
        if whole or real:
            return str(int(value)) if whole or value.is_integer() else repr(value)
        problem = "must be a non-blank string or a number"
    elif kind == _FRACTION:
        if value is None or ((whole or real) and 0 <= value <= 1):
            return value
        problem = "must be a finite number from 0 to 1"
    elif kind == _COUNT:
        if value is None or whole or (real and value.is_integer()):
            return value if value is None else int(value)
        problem = "must be a whole number"
    else:
        if value is None or isinstance(value, str):
            return value
        problem = "must be a string"
    errors[path] = [f"{problem}, got {_shown(value)}"]
    return value


def _shown(value: Any) -> str:
    """Describe a refused value briefly (never a whole object, never raw control text)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:39] + "…")
    return repr(value)


def _raise_if(errors: dict[str, list[str]], event: str) -> None:
    if errors:
        said = "; ".join(f"{path} {' '.join(problems)}" for path, problems in errors.items())
        raise ValidationError(f"Cards webhook: cannot read {event}: {said}", errors=errors)


# -- the signature header -------------------------------------------------------------------


def signature_text(signature: object) -> str | None:
    """Return a signature header's value as lowercase hex, or ``None`` if it cannot be one.

    ``str`` or ``bytes`` (decoded as ASCII); a ``sha256=`` prefix, surrounding blanks and
    uppercase are tolerated; ``None``, blank or non-ASCII gives ``None``.

    Raises:
        TypeError: ``signature`` is neither text, bytes nor ``None``.
    """
    if signature is None:
        return None
    if isinstance(signature, (bytes, bytearray, memoryview)):
        try:
            signature = bytes(signature).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(signature, str):
        raise TypeError("the signature must be the header's value as str or bytes, not "
                        f"{type(signature).__name__}")
    if not signature.isascii():  # hex is ASCII; compare_digest refuses anything else
        return None
    text = signature.strip().lower().removeprefix(_SIGNATURE_PREFIX).strip()
    return text or None
