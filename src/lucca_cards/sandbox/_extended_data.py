"""Writes to employee-file fields (``e_…``) sent at the root of ``PUT /api/v3/users/{id}``.

The rules (lucca-api.md §A10.3 and gaps 1-3): a single field takes ``{"id", "value"}`` or a
bare value; a multiple field takes a list merged by value id (an existing id updates that
occurrence, id ``0`` or absent creates one, ``{"id": X, "value": null}`` deletes X, unlisted
occurrences stay); a composite value is an object keyed by sub-field code whose sub-values
come bare or as ``{"value": …}`` and are stored as ``{"value": …}`` (missing ones as null).
Nothing is changed until the whole body is valid.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from lucca_cards.sandbox._legacy_query import LegacyError
from lucca_cards.sandbox._model import ExtendedField, LuccaData

_SCALARS = (str, int, float, bool, type(None))


class ValueIds:
    """Hand out extended-data value ids, unique across the tenant."""

    def __init__(self, data: LuccaData) -> None:
        self._lock = threading.Lock()
        used = (
            value["id"]
            for employee in data.employees.values()
            for stored in employee.extended_data.values()
            for value in (stored if isinstance(stored, list) else [stored])
            if isinstance(value, dict) and isinstance(value.get("id"), int)
        )
        self._last = max(used, default=0)

    def take(self) -> int:
        """Return a value id never handed out before."""
        with self._lock:
            self._last += 1
            return self._last


def write_extended(
    current: Mapping[str, Any],
    writes: Mapping[str, Any],
    fields: Mapping[str, ExtendedField],
    ids: ValueIds,
) -> dict[str, Any]:
    """Return ``current`` extended data with ``writes`` applied; raise ``LegacyError`` (400)."""
    result = dict(current)
    for code, raw in writes.items():
        field = fields.get(code)
        if field is None:
            raise LegacyError(400, f"Unknown extended field {code!r}")
        if field.multiple:
            stored: Any = _write_multiple(field, result.get(code), raw, ids)
        else:
            stored = _write_single(field, result.get(code), raw, ids)
        if stored:
            result[code] = stored
        else:
            result.pop(code, None)
    return result


def _write_single(field: ExtendedField, current: Any, raw: Any, ids: ValueIds) -> Any:
    if isinstance(raw, list):
        raise LegacyError(400, f"{field.code} holds a single value, not a list")
    ident, value = _unpack(field, raw)
    current_id = current.get("id") if isinstance(current, dict) else None
    if ident and ident != current_id:
        raise LegacyError(400, f"{field.code}: no value with id {ident}")
    if value is None:
        return None
    return {"id": current_id or ids.take(), "value": _value(field, value)}


def _write_multiple(field: ExtendedField, current: Any, raw: Any, ids: ValueIds) -> Any:
    if raw is None:  # a bare null empties the field
        return []
    occurrences = [dict(item) for item in current if isinstance(item, dict)] if isinstance(
        current, list
    ) else []
    by_id = {item.get("id"): item for item in occurrences}
    deleted: set[Any] = set()
    for item in raw if isinstance(raw, list) else [raw]:
        ident, value = _unpack(field, item)
        if not ident:
            if value is not None:
                occurrences.append({"id": ids.take(), "value": _value(field, value)})
        elif ident not in by_id or ident in deleted:
            raise LegacyError(400, f"{field.code}: no value with id {ident}")
        elif value is None:
            deleted.add(ident)
        else:
            by_id[ident]["value"] = _value(field, value)
    return [item for item in occurrences if item.get("id") not in deleted]


def _unpack(field: ExtendedField, raw: Any) -> tuple[int | None, Any]:
    """Split ``{"id", "value"}`` (or a bare value) into its value id and value."""
    if not (isinstance(raw, dict) and ("value" in raw or "id" in raw)):
        return None, raw
    ident = raw.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, int)):
        raise LegacyError(400, f"{field.code}: the value id must be an integer")
    if "value" not in raw:
        raise LegacyError(400, f"{field.code}: 'value' is required next to 'id'")
    return ident, raw["value"]


def _value(field: ExtendedField, value: Any) -> Any:
    """Check a value against the field's kind; return it in its stored shape."""
    if not field.sub_fields:
        if not isinstance(value, _SCALARS):
            raise LegacyError(400, f"{field.code} takes a plain value")
        return value
    if not isinstance(value, dict):
        raise LegacyError(400, f"{field.code} takes an object keyed by sub-field code")
    unknown = sorted(set(value) - set(field.sub_fields))
    if unknown:
        raise LegacyError(400, f"{field.code}: unknown sub-fields {unknown}")
    return {code: {"value": _sub_value(field.code, code, value.get(code))}
            for code in field.sub_fields}


def _sub_value(code: str, sub: str, raw: Any) -> Any:
    if isinstance(raw, dict):
        if "value" not in raw:
            raise LegacyError(400, f"{code}.{sub}: expected a value or {{'value': …}}")
        raw = raw["value"]
    if not isinstance(raw, _SCALARS):
        raise LegacyError(400, f"{code}.{sub} takes a plain value")
    return raw

