"""Typed models from API JSON: one cattrs converter, snake_case attributes, unknown keys kept.

Every model subclasses :class:`ApiModel`. Its attributes are snake_case; the API key of
each is derived by the model's naming style (camelCase for Lucca, snake_case for Cards)
or given explicitly with ``attrs.field(metadata={"api": "cultureID"})``. Keys the model
does not know are kept in ``extra``, so a server that adds a field never breaks a read.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, ClassVar, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.v import format_exception

from .errors import ValidationError

M = TypeVar("M", bound="ApiModel")

_FRACTION = re.compile(r"\.(\d+)")


@attrs.frozen(kw_only=True)
class ApiModel:
    """Base of every model: ``extra`` holds the keys the server sent that we do not model."""

    api_naming: ClassVar[str] = "camel"

    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls: type[M], data: Any) -> M:
        """Build the model from the API's JSON object.

        Raises:
            ValidationError: the payload is not an object or lacks a required key.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"expected a JSON object for {cls.__name__}, got {type(data).__name__}"
            )
        try:
            return converter.structure(data, cls)
        except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
            raise ValidationError(
                f"could not read {cls.__name__} from the server's answer: "
                f"{_describe(exc)}. What to do: check the API version; the payload may "
                "have changed shape."
            ) from None


def parse_datetime(value: Any) -> datetime:
    """Parse the dates the three APIs send.

    Handles ``2024-04-15T23:12:54.0001Z`` (Lucca API), naive ``2014-09-01T00:00:00``
    (legacy, tenant-local), ``2024-01-20 09:10:00`` and ``…000000Z`` (Cards).
    """
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a date-time string, got {type(value).__name__}")
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


def unwrap_data(body: Any) -> Any:
    """Return the object inside a ``{"data": {...}}`` envelope; a bare object as it is.

    The legacy API wraps every answer so, and Cards (Laravel resources) wraps one object so.
    """
    if isinstance(body, Mapping) and isinstance(body.get("data"), Mapping):
        return body["data"]
    return body


def utc(value: datetime) -> datetime:
    """Return ``value`` in UTC, treating a naive datetime as UTC."""
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def camel(name: str) -> str:
    """``given_name`` → ``givenName``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def api_key(cls: type[ApiModel], field: attrs.Attribute[Any]) -> str:
    """Return the JSON key of ``field`` in ``cls``'s API."""
    explicit = field.metadata.get("api")
    if explicit:
        return str(explicit)
    return camel(field.name) if cls.api_naming == "camel" else field.name


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


def _text(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric ids and codes, sent as numbers by some endpoints
    raise TypeError(f"expected a string, got {json_kind(value)}")


def _whole(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected a whole number, got {json_kind(value)}")


def _real(value: Any, _: Any) -> float:
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


def _flag(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)  # PHP backends send booleans as 0/1
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise TypeError(f"expected true or false, got {json_kind(value)}")


def _when(value: Any, _: Any) -> datetime:
    if not isinstance(value, (str, datetime)):
        raise TypeError(f"expected a date-time string, got {json_kind(value)}")
    return parse_datetime(value)


def _day(value: Any, _: Any) -> date:
    if not isinstance(value, (str, date)):
        raise TypeError(f"expected a date string, got {json_kind(value)}")
    return parse_date(value)


def _is_collection(kind: Any, origin: type) -> bool:
    return typing.get_origin(kind) is origin


def _list_hook(kind: Any) -> Callable[[Any, Any], list[Any]]:
    (item,) = typing.get_args(kind) or (Any,)

    def structure(value: Any, _: Any) -> list[Any]:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {json_kind(value)}")
        return [converter.structure(entry, item) for entry in value]

    return structure


def _tuple_hook(kind: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    item = (typing.get_args(kind) or (Any,))[0]

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list, got {json_kind(value)}")
        return tuple(converter.structure(entry, item) for entry in value)

    return structure


def _dict_hook(kind: Any) -> Callable[[Any, Any], dict[Any, Any]]:
    def structure(value: Any, _: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {json_kind(value)}")
        return dict(value)

    return structure


converter = cattrs.Converter()
for _kind_of, _hook in ((str, _text), (int, _whole), (float, _real), (bool, _flag),
                        (datetime, _when), (date, _day)):
    converter.register_structure_hook(_kind_of, _hook)
converter.register_structure_hook_factory(lambda t: _is_collection(t, list), _list_hook)
converter.register_structure_hook_factory(lambda t: _is_collection(t, tuple), _tuple_hook)
converter.register_structure_hook_factory(lambda t: _is_collection(t, dict), _dict_hook)


def _model_hook(cls: type[ApiModel]) -> Callable[[Mapping[str, Any], Any], ApiModel]:
    keys = {f.name: api_key(cls, f) for f in attrs.fields(cls) if f.name != "extra"}
    overrides: dict[str, Any] = {name: override(rename=key) for name, key in keys.items()}
    build = make_dict_structure_fn(cls, converter, extra=override(omit=True), **overrides)
    known = frozenset(keys.values())

    def structure(data: Mapping[str, Any], _: Any) -> ApiModel:
        model = build(data, cls)
        extra = {k: v for k, v in data.items() if k not in known}
        return attrs.evolve(model, extra=extra) if extra else model

    return structure


converter.register_structure_hook_factory(
    lambda t: isinstance(t, type) and issubclass(t, ApiModel), _model_hook
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc, format_exception=_say)
        return "; ".join(notes[:5])
    return _say(exc, None)


def _say(exc: BaseException, kind: Any) -> str:
    """Word one refusal without the value itself (it may be long, or not ours to show)."""
    text = str(exc)
    if isinstance(exc, (TypeError, ValueError)) and text.startswith("expected"):
        return text
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ValueError):
        return f"invalid value for {getattr(kind, '__name__', kind)}"
    return format_exception(exc, kind)
