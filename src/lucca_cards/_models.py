"""Typed models from API JSON: one cattrs converter, snake_case attributes, unknown keys kept.

Every model subclasses :class:`ApiModel`. Its attributes are snake_case; the API key of
each is derived by the model's naming style (camelCase for Lucca, snake_case for Cards)
or given explicitly with ``attrs.field(metadata={"api": "cultureID"})``. Keys the model
does not know are kept in ``extra``, so a server that adds a field never breaks a read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, ClassVar, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

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
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    return datetime.fromisoformat(text)


def parse_date(value: Any) -> date:
    """Parse ``YYYY-MM-DD`` (or a date-time, keeping its date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
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


converter = cattrs.Converter()
converter.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
converter.register_structure_hook(date, lambda value, _: parse_date(value))


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
        notes = cattrs.transform_error(exc)
        return "; ".join(notes[:5])
    return str(exc)
