"""The Lucca legacy API client (``/api/v3``, API key): users and their extended data.

The legacy API is the only one that writes an employee's custom ``e_…`` fields, so the
integration uses it to publish training statistics. Every v3 answer is wrapped as
``{"header": {…}, "data": …}``; the client returns what is in ``data``.

>>> legacy = LuccaLegacyApiClient(base_url="https://acme.ilucca.net", api_key="…")  # doctest: +SKIP
>>> for user in legacy.users.list(fields=["id", "mail"]):  # doctest: +SKIP
...     print(user.id, user.mail)
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .._auth import HeaderAuth
from .._client import BaseClient, TransportOptions, client_options
from .._http import Transport
from .._models import legacy_date_text, unwrap_data
from .._paging import Pager, RawPage, legacy_offset_pages
from .._paths import refused, whole_id
from .._secret import Secret
from ..config import Settings, check_setting
from .definitions import FieldDefinitions
from .legacy_models import LegacyUser, TrainingRecordsWrite
from .training_records import (
    StatsFieldCodes,
    StoredTrainingRecord,
    TrainingRecord,
    read_training_records,
    training_records_payload,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

SERVICE = "Lucca legacy API"
USERS_PATH = "/api/v3/users"
#: The largest page ``/api/v3/users`` serves (and its default).
MAX_PAGE_SIZE = 1000
#: The projection of ``users.list`` and ``users.get`` when ``fields`` is not given (identity,
#: contract, department and custom fields); v3 alone would return only id, name and url.
DEFAULT_USER_FIELDS = (
    "id",
    "name",
    "firstName",
    "lastName",
    "mail",
    "login",
    "employeeNumber",
    "departmentId",
    "dtContractStart",
    "dtContractEnd",
    "modifiedAt",
    "extendedData",
)
DEFAULT_CODES = StatsFieldCodes()
#: The projection that reads (and echoes) the training occurrences.
EXTENDED_DATA_FIELDS = "id,extendedData"

HINTS = {
    401: "the API key was refused: check LUCCA_API_KEY",
    403: "the API key lacks the 'Collaborators: view / create / edit users' right "
    "(or the right to see this HR-file section)",
    404: "check the user id; the user may be deleted, or hidden from this API key "
    "(a former employee needs the 'See former employees' right)",
}

Fields = str | Sequence[str]
FilterValue = str | int | float | bool | date | Iterable[str | int]


class LuccaLegacyApiClient(BaseClient):
    """Client of the Lucca legacy API (``/api/v3``), authenticated by an API key.

    Args:
        base_url: the tenant's root URL, e.g. ``https://acme.ilucca.net`` (paths
            ``/api/v3/…`` hang off it).
        api_key: the legacy API key (a ``str`` or a :class:`~lucca_cards.Secret`); sent
            as ``Authorization: lucca application=<key>``, never shown in a repr.
        requests_per_minute: client-side throttle; Lucca allows 50 a minute per tenant,
            shared with its other integrations, hence 40.
        retry, timeout, rate_limiter, clock, sleep, session: see
            :class:`~lucca_cards._client.ClientOptions`.

    Attributes:
        users: the ``/api/v3/users`` resource (:class:`LegacyUsers`).
        field_definitions: the tenant's employee-file field definitions, and the check of
            the statistics codes against them
            (:class:`~lucca_cards.lucca.definitions.FieldDefinitions`).

    Raises:
        ConfigurationError: a value :class:`~lucca_cards.Settings` would refuse (a blank
            or multi-line key, a URL that is not the tenant root over https, a rate that is
            not a number from 0 to 50 …), named as the setting (``lucca_api_key`` …).
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | Secret,
        requests_per_minute: float = 40,
        **transport_options: Unpack[TransportOptions],
    ) -> None:
        # The checks of Settings, under the same names (lucca_url, lucca_api_key, …).
        base_url = check_setting("lucca_url", base_url)
        key = check_setting("lucca_api_key", api_key)
        requests_per_minute = check_setting("lucca_requests_per_minute", requests_per_minute)
        options = client_options(requests_per_minute, **transport_options)
        self.base_url = base_url.rstrip("/")
        auth = HeaderAuth(
            headers={"Authorization": f"lucca application={key.reveal()}"},
            secrets=(key.reveal(),),
        )
        self._transport = options.transport(
            self.base_url,
            service=SERVICE,
            auth=auth,
            headers={"Accept": "application/json"},
            hints=HINTS,
            url_setting="LUCCA_URL (lucca_url)",
        )
        self._transports = (self._transport,)
        self.users = LegacyUsers(self._transport)
        self.field_definitions = FieldDefinitions(self._transport)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> LuccaLegacyApiClient:
        """Build the client from :class:`~lucca_cards.Settings` (``lucca_url``, ``lucca_api_key``).

        ``options`` are the constructor's keyword arguments; ``requests_per_minute``
        defaults to ``settings.lucca_requests_per_minute``.

        Raises:
            ConfigurationError: ``lucca_url`` or ``lucca_api_key`` is not set.
        """
        settings.require("lucca_url", "lucca_api_key")
        assert settings.lucca_url is not None
        assert settings.lucca_api_key is not None
        options.setdefault("requests_per_minute", settings.lucca_requests_per_minute)
        return cls(base_url=settings.lucca_url, api_key=settings.lucca_api_key, **options)

    def __repr__(self) -> str:
        return f"LuccaLegacyApiClient(base_url={self.base_url!r})"


class LegacyUsers:
    """``/api/v3/users``: list, read and partially update users; their training records."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"LegacyUsers({self._transport.base_url!r})"

    def list(
        self,
        fields: Fields | None = None,
        former_employees: bool = False,
        *,
        ids: Iterable[int] | None = None,
        mail: str | Iterable[str] | None = None,
        login: str | None = None,
        modified_since: datetime | date | str | None = None,
        department_id: int | Iterable[int] | None = None,
        order_by: str = "id,asc",
        page_size: int = MAX_PAGE_SIZE,
        **filters: FilterValue,
    ) -> Pager[LegacyUser]:
        """List users, 1000 a page (``paging=offset,limit``), lazily.

        Args:
            fields: the properties to return (names, or one comma-separated string;
                ``id`` is always added). Default :data:`DEFAULT_USER_FIELDS`.
            former_employees: include users whose contract has ended
                (``formerEmployees=true``); the API hides them by default.
            ids: only these users (``id=1,2``).
            mail: exact professional email(s) (``mail=a@x.com,b@x.com``); for a
                "contains" search pass ``mail="like,jdoe"``.
            login: exact login.
            modified_since: changed at or after this date-time
                (``modifiedAt=since,2025-01-01T08:45:23``).
            department_id: in these department(s) (``departmentId=13``; an inferred
                filter, see the assumptions in the docs).
            order_by: sort, ``"{property},{asc|desc}"``; a stable order keeps offset
                paging from skipping or repeating users.
            page_size: users per request, 1 to 1000.
            **filters: any other v3 filter, passed as is:
                ``**{"dtContractEnd": "notequal,null"}``; a list becomes ``1,2,3``.

        Returns:
            A lazy :class:`~lucca_cards._paging.Pager` of :class:`LegacyUser`.

        >>> legacy.users.list(modified_since="2025-01-01", jobTitle="like,dev")  # doctest: +SKIP
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}, got {page_size}")
        reserved = {key for key in filters if key.lower() in {"paging", "fields"}}
        if reserved:
            raise ValueError(f"pass {sorted(reserved)} through the arguments, not as filters")
        typed: dict[str, FilterValue | None] = {
            "id": ids,
            "mail": mail,
            "login": login,
            "modifiedAt": None if modified_since is None else f"since,{_wire(modified_since)}",
            "departmentId": department_id,
            "formerEmployees": True if former_employees else None,
        }
        params: dict[str, str] = {"fields": fields_param(fields), "orderBy": order_by}
        selects_nobody = False
        for key, value in {**typed, **filters}.items():
            if value is not None:
                params[key] = _wire(value)
                selects_nobody |= params[key] == "" and not isinstance(value, str)
        transport = self._transport
        if selects_nobody:
            # An empty list (ids=[]) selects nobody; sent as "id=" it would be a bad query.
            return Pager(lambda: iter(()), _parse_user)
        return Pager(
            lambda: legacy_offset_pages(transport, USERS_PATH, params, limit=page_size),
            _parse_user,
        )

    def get(self, user_id: int, fields: Fields | None = None) -> LegacyUser:
        """Read one user.

        >>> legacy.users.get(416, fields="id,mail,extendedData").mail  # doctest: +SKIP
        'jdoe@example.com'

        Raises:
            NotFoundError: no such user, or hidden from this key.
        """
        path = _user_path(user_id, "GET")
        body = self._transport.request_json("GET", path, params={"fields": fields_param(fields)})
        return self._transport.parse("GET", path, lambda: LegacyUser.from_api(unwrap_data(body)))

    def update(
        self, user_id: int, changes: Mapping[str, Any], fields: Fields | None = None
    ) -> LegacyUser:
        """Change only the given properties (a partial ``PUT``) and return the user.

        ``changes`` is sent as the bare body, keyed as the API names them; custom fields go
        at the root (``{"e_quote": {"id": 4896, "value": "x"}}``), never under
        ``extendedData``, which the API ignores. ``fields`` picks what the answer echoes.

        >>> legacy.users.update(416, {"lastName": "Doe"}).last_name  # doctest: +SKIP
        'Doe'

        Raises:
            ValueError: ``changes`` holds ``extendedData``.
            ValidationError: the API refused a value.
        """
        if "extendedData" in changes:
            raise ValueError(
                "write e_ fields at the root of changes, not under extendedData "
                "(the legacy API ignores that key on writes)"
            )
        path = _user_path(user_id, "PUT")
        body = self._transport.request_json(
            "PUT", path, params={"fields": fields_param(fields)}, json=dict(changes)
        )
        return self._transport.parse("PUT", path, lambda: LegacyUser.from_api(unwrap_data(body)))

    def read_training_records(
        self, user_id: int, codes: StatsFieldCodes = DEFAULT_CODES
    ) -> builtins.list[StoredTrainingRecord]:
        """Read the training occurrences on a user's file (one ``GET …?fields=id,extendedData``)."""
        return self.get(user_id, fields=EXTENDED_DATA_FIELDS).training_records(codes)

    def write_training_records(
        self,
        user_id: int,
        records: Iterable[TrainingRecord],
        codes: StatsFieldCodes = DEFAULT_CODES,
        current: Iterable[StoredTrainingRecord] | None = None,
    ) -> TrainingRecordsWrite:
        """Make the user's training field hold exactly ``records`` (one occurrence each).

        Occurrences are matched to the stored ones by title (case-insensitive): a kept one
        is updated under its id, a new one created, a stored one no longer wanted deleted
        (see :func:`~lucca_cards.lucca.training_records.training_records_payload` for the
        assumed body). Without ``current`` the stored occurrences are read first with one
        GET. When the file already holds exactly ``records`` (in any order), nothing is
        sent.

        >>> legacy.users.write_training_records(  # doctest: +SKIP
        ...     416, [TrainingRecord(title="RGPD", progress=100)]
        ... ).written
        True

        Returns:
            A :class:`~lucca_cards.lucca.legacy_models.TrainingRecordsWrite`.

        Raises:
            ValidationError: two records share a title (they could not be told apart
                later), or ``user_id`` is not an id; nothing is sent.
        """
        user_id = _user_id(user_id, "PUT")
        path = _user_path(user_id, "PUT")
        wanted = list(records)
        titles = Counter(record.title.strip().casefold() for record in wanted)
        repeated = sorted(title for title, count in titles.items() if count > 1)
        if repeated:
            raise refused("records", f"repeat the titles {repeated}; training titles must be "
                          "unique per user", f"{SERVICE}: PUT {USERS_PATH}/{{id}}")
        stored = self.read_training_records(user_id, codes) if current is None else list(current)
        if Counter(wanted) == Counter(item.record for item in stored):
            return TrainingRecordsWrite(user_id=user_id, written=False, records=stored)
        payload = training_records_payload(wanted, stored, codes)
        # Every PUT that reaches the API adds the id-0 occurrences again: such a PUT is
        # not idempotent, so it is never resent once it may have arrived (a rerun reads
        # the file first and finds them).
        adds = any(item["id"] == 0 for item in payload[codes.field])
        body = self._transport.request_json(
            "PUT", path, params={"fields": EXTENDED_DATA_FIELDS}, json=payload,
            idempotent=not adds,
        )
        data = unwrap_data(body)
        extended = data.get("extendedData") if isinstance(data, Mapping) else None
        return TrainingRecordsWrite(
            user_id=user_id,
            written=True,
            records=self._transport.parse(
                "PUT", path, lambda: read_training_records(extended, codes)
            ),
            payload=payload,
            field_value=extended.get(codes.field) if isinstance(extended, Mapping) else None,
        )


def fields_param(fields: Fields | None) -> str:
    """Build the ``fields=`` value from names or a comma-separated string; ``id`` first.

    >>> fields_param(["mail", "department[id,name]"]) == fields_param("mail, department[id,name]")
    True
    >>> fields_param("mail")
    'id,mail'
    """
    if fields is None:
        names = list(DEFAULT_USER_FIELDS)
    else:
        parts = fields.split(",") if isinstance(fields, str) else fields
        names = [name.strip() for name in parts if name.strip()]
    if not any(name.lower() == "id" for name in names):
        names.insert(0, "id")  # a user without its id could not be parsed or written
    return ",".join(names)


def _wire(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return legacy_date_text(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    return ",".join(str(item) for item in value)


def _user_id(user_id: Any, method: str) -> int:
    """Return the id as a positive whole number, or refuse it naming the request."""
    return whole_id(user_id, where=f"{SERVICE}: {method} {USERS_PATH}/{{id}}")


def _user_path(user_id: Any, method: str) -> str:
    # Only a positive whole number can become the path segment.
    return f"{USERS_PATH}/{_user_id(user_id, method)}"


def _parse_user(item: Mapping[str, Any], _: RawPage) -> LegacyUser:
    return LegacyUser.from_api(item)


__all__ = [
    "DEFAULT_USER_FIELDS",
    "LegacyUsers",
    "LuccaLegacyApiClient",
    "fields_param",
]
