"""Typed models of the Lucca legacy API (``/api/v3``): users, entity references, results.

Legacy JSON is camelCase (``firstName``, ``dtContractStart``, ``extendedData``); the
attributes are snake_case. A ``fields=`` projection returns only what was asked for, so
every attribute but ``id`` is optional. Ids are integers in this API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

import attrs

from .._models import ApiModel, api_key
from .training_records import StatsFieldCodes, StoredTrainingRecord, read_training_records

U = TypeVar("U", bound="LegacyUser")
_DEFAULT_CODES = StatsFieldCodes()

# Other spellings of modelled keys: the v3 API matches names case-insensitively and real
# payloads mix ``departmentId`` (documented) with ``departmentID`` (seen in a connector's
# schema); older specs name ``modifiedAt`` ``modifiedOn`` (reference gap 13).
_ALIASES = {"modifiedon": "modifiedAt"}


@attrs.frozen(kw_only=True)
class LegacyRef(ApiModel):
    """A reference to another v3 entity, as ``{"id": 13, "name": "…", "url": "…"}``.

    Attributes:
        id: the entity's integer id.
        name: its display name.
        url: its ``/api/v3/…`` address.
    """

    api_naming: ClassVar[str] = "camel"

    id: int
    name: str | None = None
    url: str | None = None


@attrs.frozen(kw_only=True)
class LegacyUser(ApiModel):
    """A user (employee) of the legacy API, ``GET /api/v3/users/{id}``.

    Only the requested ``fields`` are filled; the others stay ``None`` (or ``{}`` for
    ``extended_data``). Keys that are not modelled land in ``extra``.

    >>> user = LegacyUser.from_api({"id": 416, "firstName": "John", "departmentID": 13})
    >>> user.first_name, user.department_id, user.extended_data
    ('John', 13, {})

    Attributes:
        id: the user's integer id.
        name: ``"John Doe"``; ``display_name`` is ``"Doe John"``.
        first_name, last_name, mail, login, employee_number, job_title: as on the file.
        dt_contract_start, dt_contract_end, birth_date: dates (contract from the
            applicable work contract; ``dt_contract_end`` is ``None`` while employed).
        modified_at: last change, tenant-local naive date-time.
        department_id, manager_id, legal_entity_id: integer ids of the related entities;
            ``department``, ``manager``, ``legal_entity`` the references when requested.
        extended_data: the ``e_…`` custom fields, raw, keyed by code.
    """

    api_naming: ClassVar[str] = "camel"

    id: int
    name: str | None = None
    url: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    mail: str | None = None
    login: str | None = None
    employee_number: str | None = None
    job_title: str | None = None
    dt_contract_start: date | None = None
    dt_contract_end: date | None = None
    birth_date: date | None = None
    modified_at: datetime | None = None
    department_id: int | None = None
    department: LegacyRef | None = None
    manager_id: int | None = None
    manager: LegacyRef | None = None
    legal_entity_id: int | None = None
    legal_entity: LegacyRef | None = None
    extended_data: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_api(cls: type[U], data: Any) -> U:
        """Build the user from v3 JSON, tolerating other key cases and a ``null`` extendedData.

        Raises:
            ValidationError: the payload is not an object or has no usable ``id``.
        """
        if isinstance(data, Mapping):
            data = _canonical_keys(cls, data)
        return super().from_api(data)

    def training_records(
        self, codes: StatsFieldCodes = _DEFAULT_CODES
    ) -> list[StoredTrainingRecord]:
        """Read the training occurrences of this user's file (needs ``extendedData`` fetched).

        >>> LegacyUser(id=1).training_records()
        []
        """
        return read_training_records(self.extended_data, codes)


@attrs.frozen(kw_only=True)
class TrainingRecordsWrite:
    """What :meth:`~lucca_cards.lucca.legacy.LegacyUsers.write_training_records` did.

    Attributes:
        user_id: the user whose file was written.
        written: ``False`` when the file already held exactly the desired records, so no
            request was sent.
        records: the occurrences now on the file: as read back from the PUT's answer
            when written, else the current ones.
        payload: the root-level body that was sent (``None`` when nothing was written).
        field_value: the training field as the PUT's answer holds it, raw JSON (``None``
            when nothing was written, or the answer did not hold it).
    """

    user_id: int
    written: bool
    records: list[StoredTrainingRecord]
    payload: Mapping[str, Any] | None = None
    field_value: Any = None


_SPELLINGS: dict[type[ApiModel], tuple[frozenset[str], dict[str, str]]] = {}


def _spellings(cls: type[ApiModel]) -> tuple[frozenset[str], dict[str, str]]:
    """Return the API keys of ``cls``, and each by its lower-case spelling (and aliases)."""
    if cls not in _SPELLINGS:  # worked out once per model, not once per user read
        known = frozenset(api_key(cls, f) for f in attrs.fields(cls) if f.name != "extra")
        _SPELLINGS[cls] = known, {key.lower(): key for key in known} | _ALIASES
    return _SPELLINGS[cls]


def _canonical_keys(cls: type[ApiModel], data: Mapping[str, Any]) -> dict[str, Any]:
    known, by_lower = _spellings(cls)
    result: dict[str, Any] = {}
    for key, value in data.items():
        canonical = key if key in known else by_lower.get(key.lower(), key)
        if canonical in data and canonical != key:
            canonical = key  # both spellings sent: keep the exact one, the other as extra
        result[canonical] = value
    if result.get("extendedData") is None and "extendedData" in result:
        result["extendedData"] = {}
    return result
