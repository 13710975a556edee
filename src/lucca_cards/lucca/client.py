"""The Lucca API client (``/lucca-api``, OAuth 2.0 client credentials): employees and org.

>>> lucca = LuccaOAuthClient(base_url="https://acme.ilucca.net",
...                          client_id="…", client_secret="…")
>>> for employee in lucca.employees.list(status="active"):  # doctest: +SKIP
...     print(employee.email, employee.department_id)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._client import BaseClient, TransportOptions, client_options
from .._http import Transport
from .._models import ApiModel
from .._paging import Pager, RawPage, lucca_cursor_pages
from .._paths import segment
from .._secret import Secret
from ..config import (
    DEFAULT_API_VERSION,
    DEFAULT_SCOPES,
    DEFAULT_TOKEN_URL,
    Settings,
    check_setting,
)
from ._filters import (
    DEPARTMENT_FILTERS,
    EMPLOYEE_FILTERS,
    JOB_POSITION_FILTERS,
    Filter,
    Values,
    sweeps,
)
from ._token import ClientCredentialsAuth
from .endpoints import Events, WebhookEndpoints
from .models import Department, Employee, JobPosition

if TYPE_CHECKING:
    from typing_extensions import Unpack

SERVICE = "Lucca API"
#: The page size asked for: the largest the Lucca API serves.
PAGE_SIZE = 100
#: ``links`` is needed to page (``links.next``), ``embedded`` to read each employee's
#: department from its job position without another request.
INCLUDE = "links,embedded"

HINTS = {
    401: "the access token was refused even after fetching a new one: check the client id "
    "and secret (Lucca's integration keys) and that the client is not revoked",
    403: "the OAuth client lacks the scope (needs departments.readonly and "
    "employees.readwrite; job positions need job-positions.readonly, webhook endpoints "
    "webhook-endpoints.readwrite, events events.readonly) or the business "
    "establishment: check the API client in Lucca's integration keys, and scopes=",
    404: "check the id; the resource may be deleted, or outside the business "
    "establishments the API client may see",
}

M = TypeVar("M", bound=ApiModel)


class LuccaOAuthClient(BaseClient):
    """Client of the Lucca API (``/lucca-api``), authenticated by an OAuth client.

    Every request carries ``Api-Version``, ``Accept: application/json`` and
    ``Authorization: Bearer <token>``; the token is fetched on first use, cached until a
    minute before it expires, and renewed once on a 401.

    Args:
        base_url: the tenant's root URL, e.g. ``https://acme.ilucca.net``.
        client_id, client_secret: the API client from Lucca's integration keys (the secret
            as a ``str`` or a :class:`~lucca_cards.Secret`; never shown in a repr).
        token_url: the OAuth token endpoint (one for every tenant).
        scopes: the scopes to request, space separated or a sequence.
        api_version: the ``Api-Version`` header.
        requests_per_minute: client-side throttle; Lucca allows 50 a minute per tenant,
            shared with its other integrations, hence 40.
        retry, timeout, rate_limiter, clock, sleep, session: see
            :class:`~lucca_cards._client.ClientOptions`.

    Attributes:
        employees: ``/lucca-api/employees`` (:class:`Employees`).
        departments: ``/lucca-api/departments`` (:class:`Departments`).
        job_positions: ``/lucca-api/job-positions`` (:class:`JobPositions`).
        webhook_endpoints: ``/lucca-api/webhook-endpoints``
            (:class:`~lucca_cards.lucca.endpoints.WebhookEndpoints`).
        events: ``/lucca-api/events`` (:class:`~lucca_cards.lucca.endpoints.Events`).

    Raises:
        ConfigurationError: a value :class:`~lucca_cards.Settings` would refuse (a blank
            or multi-line credential, a URL that is not the tenant root over https, a rate
            that is not a number from 0 to 50 …), named as the setting (``lucca_url`` …).
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str | Secret,
        token_url: str = DEFAULT_TOKEN_URL,
        scopes: str | Sequence[str] = DEFAULT_SCOPES,
        api_version: str = DEFAULT_API_VERSION,
        requests_per_minute: float = 40,
        **transport_options: Unpack[TransportOptions],
    ) -> None:
        # The checks of Settings, under the same names: a client built by hand refuses
        # what Settings refuses, with the same message.
        base_url = check_setting("lucca_url", base_url)
        client_id = check_setting("lucca_client_id", client_id)
        secret = check_setting("lucca_client_secret", client_secret)
        token_url = check_setting("lucca_token_url", token_url)
        scopes = check_setting("lucca_scopes", scopes)
        api_version = check_setting("lucca_api_version", api_version)
        requests_per_minute = check_setting("lucca_requests_per_minute", requests_per_minute)
        options = client_options(requests_per_minute, **transport_options)
        self.base_url = base_url.rstrip("/")
        self.auth = ClientCredentialsAuth(
            client_id=client_id,
            client_secret=secret,
            options=options,
            token_url=token_url,
            scopes=scopes,
        )
        self._transport = options.transport(
            self.base_url,
            service=SERVICE,
            auth=self.auth,
            headers={"Api-Version": api_version, "Accept": "application/json"},
            hints=HINTS,
            url_setting="LUCCA_URL (lucca_url)",
        )
        self._transports = (self._transport, self.auth.transport)
        self.employees = Employees(self._transport)
        self.departments = Departments(self._transport)
        self.job_positions = JobPositions(self._transport)
        self.webhook_endpoints = WebhookEndpoints(self._transport, api_version=api_version)
        self.events = Events(self._transport)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> LuccaOAuthClient:
        """Build the client from :class:`~lucca_cards.Settings`.

        Uses ``lucca_url``, ``lucca_client_id``, ``lucca_client_secret``,
        ``lucca_token_url``, ``lucca_scopes``, ``lucca_api_version`` and
        ``lucca_requests_per_minute``; ``options`` are constructor keyword arguments and
        win over the settings.

        Raises:
            ConfigurationError: ``lucca_url``, ``lucca_client_id`` or
                ``lucca_client_secret`` is not set.
        """
        settings.require("lucca_url", "lucca_client_id", "lucca_client_secret")
        url, client_id, secret = (
            settings.lucca_url,
            settings.lucca_client_id,
            settings.lucca_client_secret,
        )
        assert url is not None  # require() has checked all three
        assert client_id is not None
        assert secret is not None
        values: dict[str, Any] = {
            "token_url": settings.lucca_token_url,
            "scopes": settings.lucca_scopes,
            "api_version": settings.lucca_api_version,
            "requests_per_minute": settings.lucca_requests_per_minute,
            **options,
        }
        return cls(base_url=url, client_id=client_id, client_secret=secret, **values)

    def __repr__(self) -> str:
        return f"LuccaOAuthClient(base_url={self.base_url!r})"


class _Resource(Generic[M]):
    """A collection of the Lucca API: paged listing and read by id."""

    path: str
    model: type[M]
    filters: Mapping[str, Filter]

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._transport.base_url.rstrip('/')}{self.path})"

    def _parse(self, item: Mapping[str, Any], page: RawPage) -> M:
        return self.model.from_api(item)

    def _list(self, given: Mapping[str, Any]) -> Pager[M]:
        queries = sweeps(self.path, self.filters, given)

        def fetch() -> Iterator[RawPage]:
            for query in queries:
                params = {**query, "include": INCLUDE, "limit": PAGE_SIZE}
                yield from lucca_cursor_pages(self._transport, self.path, params)

        return Pager(fetch, self._parse)

    def _get(self, resource_id: str | int) -> M:
        path = f"{self.path}/{segment(resource_id, where=f'GET {self.path}/{{id}}')}"
        body = self._transport.request_json("GET", path, params={"include": "embedded"})
        if not isinstance(body, Mapping):
            raise self._transport.unexpected("GET", path, "answered with something other "
                                             "than a JSON object")
        if body.get("embedded") is not None and not isinstance(body["embedded"], Mapping):
            raise self._transport.unexpected("GET", path, "answered with embedded as "
                                             f"{type(body['embedded']).__name__}, not an object")
        # A single resource is its own page: it carries ``embedded`` at its root.
        page = RawPage([body], body, self._transport, path)
        return page.parse(self._parse)[0]


class Employees(_Resource[Employee]):
    """``/lucca-api/employees``: list (with each one's department) and read employees."""

    path = "/lucca-api/employees"
    model = Employee
    filters = EMPLOYEE_FILTERS

    def _parse(self, item: Mapping[str, Any], page: RawPage) -> Employee:
        # A list page embeds every item's job position once, in the page body.
        return Employee.from_api(item, embedded=page.body.get("embedded"))

    def _parse_fields(self, fields: Collection[str]) -> Callable[[Mapping[str, Any], RawPage],
                                                                  Employee]:
        Employee.from_api_fields({"id": "0"}, None, fields)  # names checked before any call

        def parse(item: Mapping[str, Any], page: RawPage) -> Employee:
            return Employee.from_api_fields(item, page.body.get("embedded"), fields)

        return parse

    def list(
        self,
        *,
        status: Values | None = None,
        email: Values | None = None,
        ids: Values | None = None,
        department_ids: Values | None = None,
        manager_ids: Values | None = None,
        business_establishment_ids: Values | None = None,
        legal_entity_ids: Values | None = None,
        search: str | None = None,
        sort: Values | None = None,
        fields: Collection[str] | None = None,
    ) -> Pager[Employee]:
        """List employees, 100 a page, with each one's ``department_id`` resolved.

        Every filter is optional; lists accept a sequence or one comma-separated string.
        A list filter with more than 100 values runs in several sweeps of 100 (results
        come sweep after sweep, so ``sort`` orders each sweep only). An empty list
        matches nothing and sends nothing. Without ``status``, Lucca is assumed to return
        every status (gap 10): pass ``status=["active", "upcoming"]`` for current staff.

        Args:
            status: ``active``, ``upcoming`` and/or ``deactivated``.
            email: exact professional emails; ``"null"`` matches employees without one.
            ids: employee ids.
            department_ids: departments of the applicable job position (not their
                sub-departments).
            manager_ids: managers of the applicable job position.
            business_establishment_ids: establishments of the applicable job position.
            legal_entity_ids: legal entities of the applicable employment.
            search: words the given or family name start with.
            sort: ``id``, ``familyName`` or ``createdAt``, ``-`` first for descending.
            fields: build only these attributes of each :class:`Employee` (and ``id``),
                e.g. ``["email", "department_id"]``; the others stay ``None``. Lucca sends
                the same answer (its API selects no fields): a sweep of many employees
                then holds a fraction of the memory.

        Returns:
            A lazy :class:`~lucca_cards._paging.Pager` of :class:`Employee`.

        Raises:
            ValidationError: a value is not among the documented ones (nothing is sent).

        >>> staff = lucca.employees.list(status="active", department_ids=["32"])  # doctest: +SKIP
        """
        pager = self._list(
            {
                "status": status,
                "email": email,
                "ids": ids,
                "department_ids": department_ids,
                "manager_ids": manager_ids,
                "business_establishment_ids": business_establishment_ids,
                "legal_entity_ids": legal_entity_ids,
                "search": search,
                "sort": sort,
            }
        )
        return pager if fields is None else pager.parsed_by(self._parse_fields(fields))

    def get(self, employee_id: str | int) -> Employee:
        """Read one employee, with its department resolved.

        Raises:
            NotFoundError: no such employee, or not visible to the API client.

        >>> lucca.employees.get("416").department_id  # doctest: +SKIP
        '32'
        """
        return self._get(employee_id)


class Departments(_Resource[Department]):
    """``/lucca-api/departments``: list and read departments."""

    path = "/lucca-api/departments"
    model = Department
    filters = DEPARTMENT_FILTERS

    def list(
        self, *, search: str | None = None, is_archived: bool | None = None
    ) -> Pager[Department]:
        """List departments, 100 a page.

        Args:
            search: part of the name or remote id (case-insensitive).
            is_archived: ``True`` only archived ones, ``False`` only active ones,
                ``None`` both.

        >>> names = [d.name for d in lucca.departments.list(is_archived=False)]  # doctest: +SKIP
        """
        return self._list({"search": search, "is_archived": is_archived})

    def get(self, department_id: str | int) -> Department:
        """Read one department.

        >>> lucca.departments.get("32").name  # doctest: +SKIP
        'Finances'
        """
        return self._get(department_id)


class JobPositions(_Resource[JobPosition]):
    """``/lucca-api/job-positions`` (needs the ``job-positions.readonly`` scope)."""

    path = "/lucca-api/job-positions"
    model = JobPosition
    filters = JOB_POSITION_FILTERS

    def list(
        self,
        *,
        ids: Values | None = None,
        department_ids: Values | None = None,
        employment_ids: Values | None = None,
        manager_ids: Values | None = None,
        business_establishment_ids: Values | None = None,
        remote_ids: Values | None = None,
        status: str | None = None,
        starts_on: date | str | None = None,
        sort: Values | None = None,
    ) -> Pager[JobPosition]:
        """List job positions, 100 a page; lists as in :meth:`Employees.list`.

        Args:
            ids: job position ids.
            department_ids: departments (not their sub-departments).
            employment_ids: employments the positions belong to.
            manager_ids: managers of the positions.
            business_establishment_ids: establishments of the positions.
            remote_ids: ids in a third-party system.
            status: one of ``active``, ``upcoming``, ``deactivated`` (a single value).
            starts_on: the exact start date.
            sort: ``id``, ``startsOn`` or ``endsOn``, ``-`` first for descending.

        >>> positions = lucca.job_positions.list(department_ids="32")  # doctest: +SKIP
        """
        return self._list(
            {
                "ids": ids,
                "department_ids": department_ids,
                "employment_ids": employment_ids,
                "manager_ids": manager_ids,
                "business_establishment_ids": business_establishment_ids,
                "remote_ids": remote_ids,
                "status": status,
                "starts_on": starts_on,
                "sort": sort,
            }
        )

    def get(self, job_position_id: str | int) -> JobPosition:
        """Read one job position."""
        return self._get(job_position_id)
