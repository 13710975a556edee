"""Training statistics on the Lucca employee file: the compound field and its wire format.

The integration writes one occurrence per training into a compound, multi-occurrence
extended field of the legacy API (default ``e_formation``). Reading and writing that
field's JSON lives here, in one place, because its exact write shape is an assumption
(see :func:`training_records_payload`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from .._models import legacy_date_text, parse_date

# Re-exported: StatsFieldCodes lives in _values, below config and the clients.
from .._values import StatsFieldCodes as StatsFieldCodes
from ..errors import ValidationError

_DEFAULT_CODES = StatsFieldCodes()


def _scalar(value: Any) -> float | str | None:
    """Read a sub-value as a number when it is one (``"80"`` too), else as text.

    A blank text or a value of another kind (a list, an object) reads as ``None``.
    """
    number = _number(value)
    if number is not None:
        return number
    if isinstance(value, str) and value.strip():
        return value
    return None


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str) and ("%" in value or "/" in value):
        return None  # "80 %", "8/10": float() refuses them, after an exception (slow)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


@attrs.frozen(kw_only=True, cache_hash=True)  # hashed often: counted, looked up
class TrainingRecord:
    """One occurrence of the training field: one training, for one employee.

    ``progress`` and ``score`` are numbers for numeric sub-fields, or texts for text ones
    (``"80 %"``, ``"8/10"``: what :class:`~lucca_cards.StatsPublisher` writes by default,
    see :class:`~lucca_cards.StatsFormat`). A text that reads as a number is kept as that
    number (:func:`normalized`), so a record compares equal to itself read back.

    Attributes:
        title: the training's title; it identifies the occurrence (the field's sort key).
        link: where the employee opens the training.
        progress: how much of the training is done (``80`` or ``"80 %"``).
        score: the employee's score (``8`` or ``"8/10"``), when the training has quizzes.
        last_completion_date: when the employee last finished the training.
    """

    title: str
    link: str | None = None
    progress: float | str | None = attrs.field(default=None, converter=_scalar)
    score: float | str | None = attrs.field(default=None, converter=_scalar)
    last_completion_date: date | None = None


@attrs.frozen(kw_only=True)
class StoredTrainingRecord:
    """An occurrence already on the employee file, with the id Lucca gave it."""

    id: int
    record: TrainingRecord


def read_training_records(
    extended_data: Mapping[str, Any] | None, codes: StatsFieldCodes = _DEFAULT_CODES
) -> list[StoredTrainingRecord]:
    """Read the occurrences of the training field from a legacy user's ``extendedData``.

    Tolerant of every shape seen or assumed: a list of ``{"id", "value": {...}}``
    occurrences or a single one, sub-values wrapped (``{"value": x}``) or bare, missing or
    ``null`` sub-fields, an unreadable date or number (read as ``None``). Occurrences
    without a title or without a positive id are skipped: they cannot be matched or
    addressed, and treating a missing id as ``0`` would create a duplicate on the next write.
    """
    if extended_data is None:
        return []
    if not isinstance(extended_data, Mapping):
        raise ValidationError(f"extendedData is {type(extended_data).__name__}, not an object")
    raw = extended_data.get(codes.field)
    occurrences = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    stored: list[StoredTrainingRecord] = []
    sub_fields = codes.sub_fields().items()
    for occurrence in occurrences:
        if not isinstance(occurrence, dict) or not isinstance(occurrence.get("value"), dict):
            continue
        values = {attr: _unwrap(occurrence["value"].get(code)) for attr, code in sub_fields}
        occurrence_id = _number(occurrence.get("id"))
        title = values["title"]
        if not isinstance(title, str) or not title.strip() or not occurrence_id or (
                occurrence_id < 1):
            continue
        stored.append(
            StoredTrainingRecord(
                id=int(occurrence_id),
                record=TrainingRecord(
                    title=title,
                    link=values["link"] if isinstance(values["link"], str) else None,
                    progress=values["progress"],  # read by the field's converter
                    score=values["score"],
                    last_completion_date=_date(values["last_completion_date"]),
                ),
            )
        )
    return stored


def training_records_payload(
    records: Sequence[TrainingRecord],
    current: Iterable[StoredTrainingRecord],
    codes: StatsFieldCodes = _DEFAULT_CODES,
) -> dict[str, list[dict[str, Any]]]:
    """Build the root-level ``PUT /api/v3/users/{id}`` body that makes the field hold ``records``.

    ASSUMPTION (``reference/lucca-api.md``, gaps 1 and 2; verify on a test tenant): Lucca's
    guide gives the rules but not the exact JSON for a compound multi-occurrence field. We
    send the full desired list: an occurrence whose title is already stored keeps its
    ``id``; a new one goes with ``id: 0``; a stored one that is no longer wanted goes as
    ``{"id": X, "value": null}``; each sub-value is wrapped as ``{"value": …}``, dates as
    ``YYYY-MM-DDT00:00:00``. This is correct whether the server merges by id or replaces,
    except for occurrences :func:`read_training_records` skips (no title, or no usable
    id): they are not sent, so a server that replaces the list would drop them.
    If a real tenant rejects wrapped sub-values, change :func:`_wire_value` only.
    """
    by_title: dict[str, StoredTrainingRecord] = {}
    duplicates: list[StoredTrainingRecord] = []  # a title stored twice keeps one occurrence
    for stored in current:
        key = stored.record.title.strip().casefold()
        if key in by_title:
            duplicates.append(stored)
        else:
            by_title[key] = stored
    occurrences: list[dict[str, Any]] = []
    for record in records:
        match = by_title.pop(record.title.strip().casefold(), None)
        occurrences.append(
            {
                "id": match.id if match else 0,
                "value": {
                    code: {"value": _wire_value(getattr(record, attr))}
                    for attr, code in codes.sub_fields().items()
                },
            }
        )
    dropped = [*by_title.values(), *duplicates]
    occurrences.extend({"id": stored.id, "value": None} for stored in dropped)
    return {codes.field: occurrences}


def _wire_value(value: Any) -> Any:
    return legacy_date_text(value) if isinstance(value, date) else value


def _unwrap(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else value


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except (TypeError, ValueError):
        return None
