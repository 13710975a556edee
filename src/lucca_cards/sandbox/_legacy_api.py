"""The fake legacy Lucca API: users, their ``PUT``, and the field definitions.

Routes: ``GET /api/v3/users[/{id}]``, ``PUT /api/v3/users/{id}`` and
``GET /api/v3/extensionuserdefinitions[/{code}]`` (see :mod:`._definitions` for the
definitions' assumed shape).

A legacy user is an :class:`Employee` seen through the v3 API: its properties are computed
one by one (only those a projection, filter or sort needs), every answer is wrapped in
``{"header": {"generated", "principal"}, "data": …}`` and errors are
``{"Message", "Status"}`` (lucca-api.md Part A).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._definitions import ROUTE as DEFINITIONS
from lucca_cards.sandbox._definitions import answer_definitions
from lucca_cards.sandbox._extended_data import ValueIds, write_extended
from lucca_cards.sandbox._legacy_query import (
    RESERVED,
    Filter,
    LegacyError,
    Selection,
    child,
    narrow,
    parse_fields,
    parse_order,
    parse_paging,
    sort_key,
)
from lucca_cards.sandbox._list_cache import ListCache
from lucca_cards.sandbox._model import Employee, Employment, JobPosition, LuccaData
from lucca_cards.sandbox._service import json_response, request_json

Getter = Callable[["UserView", Employee], Any]

_COMPUTED: dict[str, Getter] = {
    "id": lambda view, e: e.id,
    "name": lambda view, e: f"{e.given_name} {e.family_name}",
    "url": lambda view, e: view.url("users", e.id),
    "displayName": lambda view, e: f"{e.family_name} {e.given_name}",
    "firstName": lambda view, e: e.given_name,
    "lastName": lambda view, e: e.family_name,
    "mail": lambda view, e: e.email or None,
    "login": lambda view, e: e.login,
    "employeeNumber": lambda view, e: e.employee_number or None,
    "dtContractStart": lambda view, e: _day(view.employment(e).start),
    "dtContractEnd": lambda view, e: _day(view.employment(e).end),
    "birthDate": lambda view, e: _day(e.birth_date),
    "departmentId": lambda view, e: view.position(e).department_id,
    "department": lambda view, e: view.department(view.position(e).department_id),
    "managerId": lambda view, e: view.position(e).manager_id,
    "manager": lambda view, e: view.user(view.position(e).manager_id),
    "legalEntityId": lambda view, e: view.employment(e).legal_entity_id,
    "legalEntity": lambda view, e: view.legal_entity(view.employment(e).legal_entity_id),
    "jobTitle": lambda view, e: view.position(e).job_title or None,
    "modifiedAt": lambda view, e: naive(e.last_updated_at),
    "extendedData": lambda view, e: view.extended_data(e),
}
#: Other documented user properties (lucca-api.md §A9): stored as written, else null.
_DOCUMENTED = (
    "address", "bankName", "iban", "bic", "rib", "directLine", "gender", "nationality",
    "nationalityId", "personalEmail", "personalMobile", "professionalMobile", "quote",
    "civilTitle", "seniorityDate", "externalId", "cspId", "csp", "allowsElectronicPayslip",
    "frenchCarTaxHorsePower", "frenchMotocyclesTaxHorsePower", "attributes", "calendarId",
    "calendar", "cultureID", "culture", "picture", "rolePrincipalId", "rolePrincipal",
    "habilitedRoles", "userWorkCycles", "applicationData",
)
_DYNAMIC = re.compile(r"userAxisValues_\d+|profile_\w+", re.IGNORECASE)
_NAMES = {name.lower(): name for name in (*_COMPUTED, *_DOCUMENTED)} | {"modifiedon": "modifiedAt"}
#: PUT keys that change the Employee record itself.
_CORE_WRITES = {"firstName": "given_name", "lastName": "family_name", "mail": "email",
                "login": "login", "employeeNumber": "employee_number"}
#: PUT keys ignored: computed here, or (``extendedData``) not a way to write (§A10.3).
_IGNORED_WRITES = frozenset({"id", "name", "url", "displayName", "modifiedAt",
                             "department", "manager", "legalEntity", "extendedData"})
_DEFAULT_FIELDS = "id,name,url"
#: Properties computed afresh from other records, whatever their sub-property.
_COMPUTED_REFS = frozenset({"department", "manager", "legalEntity"})
Order = list[tuple[list[str], bool]]


def naive(moment: dt.datetime) -> str:
    """Format a timestamp as the legacy API does: naive UTC ISO with milliseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds")


def _day(value: dt.date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00"


def legacy_error(status: int, message: str) -> Response:
    """Build a legacy error answer."""
    return json_response({"Message": message, "Status": status}, status)


class UserView:
    """The legacy API's view of a tenant: users as bags of lazily computed properties."""

    def __init__(self, data: LuccaData, today: dt.date, root: str) -> None:
        self.data, self.today, self.root = data, today, f"{root}/api/v3"

    def url(self, collection: str, ident: int) -> str:
        """Return the v3 URL of a resource."""
        return f"{self.root}/{collection}/{ident}"

    def employment(self, employee: Employee) -> Employment:
        """Return the employee's applicable employment."""
        return self.data.employments[employee.employment_id]

    def position(self, employee: Employee) -> JobPosition:
        """Return the employee's applicable job position."""
        return self.data.job_positions[employee.job_position_id]

    def _ref(self, collection: str, ident: int | None, name: str | None) -> dict[str, Any] | None:
        if ident is None:
            return None
        return {"id": ident, "name": name, "url": self.url(collection, ident)}

    def department(self, ident: int | None) -> dict[str, Any] | None:
        """Return ``{id, name, url}`` of a department."""
        department = self.data.departments.get(ident) if ident is not None else None
        return self._ref("departments", ident, department.name if department else None)

    def user(self, ident: int | None) -> dict[str, Any] | None:
        """Return ``{id, name, url}`` of a user."""
        other = self.data.employees.get(ident) if ident is not None else None
        name = f"{other.given_name} {other.family_name}" if other else None
        return self._ref("users", ident, name)

    def legal_entity(self, ident: int | None) -> dict[str, Any] | None:
        """Return ``{id, name, url}`` of a legal entity."""
        name = self.data.legal_entities.get(ident) if ident is not None else None
        return self._ref("legalentities", ident, name)

    @functools.cached_property
    def _no_extended_data(self) -> dict[str, None]:
        """Every defined ``e_`` field, null, in the tenant's order: once per request."""
        return dict.fromkeys(self.data.extended_fields)

    def extended_data(self, employee: Employee) -> dict[str, Any]:
        """Return every defined ``e_`` field of the employee (null when it has no value).

        The defined fields first, in the tenant's order, then any other the employee holds.
        """
        return self._no_extended_data | employee.extended_data

    def is_former(self, employee: Employee) -> bool:
        """Whether the employee's contract ended before today."""
        end = self.employment(employee).end
        return end is not None and end < self.today

    def canonical(self, name: str) -> str:
        """Return a property's own spelling; raise a 400 for a property users do not have."""
        known = _NAMES.get(name.lower())
        if known is None and not _DYNAMIC.fullmatch(name):
            raise LegacyError(400, f"Unknown user property {name!r}")
        return known or name

    def value(self, employee: Employee, name: str) -> Any:
        """Return one property (canonical name); written values win over computed ones."""
        if name in employee.legacy_fields:
            return employee.legacy_fields[name]
        getter = _COMPUTED.get(name)
        return None if getter is None else getter(self, employee)

    def resolve(self, employee: Employee, path: list[str]) -> Any:
        """Return the value at a dotted property path (lists are mapped over)."""
        value = self.value(employee, self.canonical(path[0]))
        for name in path[1:]:
            value = child(value, name)
        return value

    def check(self, selection: Selection) -> None:
        """Raise a 400 if a ``fields`` selection names a property users do not have."""
        for name in selection:
            if name.lower() != "collection":
                self.canonical(name)

    def projector(self, selection: Selection) -> Callable[[Employee], dict[str, Any]]:
        """Return what gives a user's properties a ``fields`` selection asks for.

        The names, and which values are narrowed, are resolved once, not once per user of
        a page (a page holds up to 1 000).
        """
        plan: list[tuple[str, Selection | None]] = []
        for key, sub in selection.items():
            if key.lower() != "collection":
                name = self.canonical(key)
                # extendedData[...] sub-selections are tolerated, not applied (gap 9).
                plan.append((name, None if name == "extendedData" else sub))

        def project(employee: Employee) -> dict[str, Any]:
            projected: dict[str, Any] = {}
            for name, sub in plan:
                value = self.value(employee, name)
                projected[name] = value if sub is None else narrow(value, sub)
            return projected

        return project

    def project(self, employee: Employee, selection: Selection) -> dict[str, Any]:
        """Return the properties a ``fields`` selection asks for (empty ones as null)."""
        return self.projector(selection)(employee)


def _sorter(view: UserView, path: list[str]) -> Callable[[Employee], tuple[int, float, str]]:
    return lambda employee: sort_key(view.resolve(employee, path))


def _cacheable(view: UserView, paths: list[list[str]]) -> bool:
    """Whether a list filtered or sorted on ``paths`` may be kept until the data changes.

    Not when a path reads extended data or reaches inside a value stored as written:
    a change deep inside those does not move the data version.
    """
    for path in paths:
        head = view.canonical(path[0])
        if head == "extendedData" or (len(path) > 1 and head not in _COMPUTED_REFS):
            return False
    return True


def _options(args: MultiDict[str, str]) -> tuple[dict[str, str], list[Filter]]:
    """Split a query string into reserved options (lower-cased keys) and filters."""
    options: dict[str, str] = {}
    filters = []
    for key, value in args.items(multi=True):
        if key.lower() in RESERVED:
            options[key.lower()] = value
        else:
            filters.append(Filter.parse(key, value))
    return options, filters


def _counted(selection: Selection) -> bool:
    """Whether ``fields`` asks for ``collection.count``."""
    return any(
        name.lower() == "collection" and any(part.lower() == "count" for part in sub or {})
        for name, sub in selection.items()
    )


class LegacyApi:
    """Answer authorised requests to ``/api/v3/users`` and the field definitions."""

    def __init__(
        self, data: LuccaData, today: dt.date, *, now: Callable[[], dt.datetime], principal: str
    ) -> None:
        self.data, self.today, self.now, self.principal = data, today, now, principal
        self.value_ids = ValueIds(data)
        #: The filtered, ordered user lists of recent queries: a page only slices one.
        self.lists = ListCache()

    def answer(self, request: Request) -> Response:
        """Route a request; raise :class:`LegacyError` for refusals."""
        parts = request.path.strip("/").split("/")
        if len(parts) in (3, 4) and all(parts) and parts[2].lower() == DEFINITIONS:
            return self._definitions(request, parts[3] if len(parts) == 4 else None)
        if len(parts) not in (3, 4) or parts[2].lower() != "users" or not all(parts):
            raise LegacyError(404, f"No legacy API resource at {request.path}")
        view = UserView(self.data, self.today, request.host_url.rstrip("/"))
        allowed = ("GET",) if len(parts) == 3 else ("GET", "PUT")
        if request.method not in allowed:
            raise LegacyError(405, f"{request.method} is not allowed on {request.path}")
        if len(parts) == 3:
            return self._list(request, view)
        employee = self._employee(parts[3])
        fields = {key.lower(): value for key, value in request.args.items()}.get("fields")
        selection = parse_fields(fields or _DEFAULT_FIELDS)
        view.check(selection)  # before a PUT, so a bad projection changes nothing
        if request.method == "PUT":
            self._update(employee, request)
        return self._envelope(view.project(employee, selection))

    def _definitions(self, request: Request, code: str | None) -> Response:
        """Answer ``GET /api/v3/extensionuserdefinitions[/{code}]``."""
        if request.method != "GET":
            raise LegacyError(405, f"{request.method} is not allowed on {request.path}")
        options, filters = _options(request.args)
        root = f"{request.host_url.rstrip('/')}/api/v3"
        return self._envelope(
            answer_definitions(self.data.extended_fields, root, options, filters, code))

    def _envelope(self, data: Any) -> Response:
        header = {"generated": naive(self.now()), "principal": self.principal}
        return json_response({"header": header, "data": data})

    def _employee(self, ident: str) -> Employee:
        employee = self.data.employees.get(int(ident)) if ident.isdecimal() else None
        if employee is None:
            raise LegacyError(404, f"No user with id {ident}")
        return employee

    def _list(self, request: Request, view: UserView) -> Response:
        options, filters = _options(request.args)
        selection = parse_fields(options.get("fields") or _DEFAULT_FIELDS)
        offset, limit = parse_paging(options.get("paging"))
        order = parse_order(options.get("orderby"))
        view.check(selection)
        for path in [f.path for f in filters] + [path for path, _ in order]:
            view.canonical(path[0])
        former = options.get("formeremployees", "").lower() == "true" or any(
            f.path[0].lower() == "dtcontractend" for f in filters
        )
        users = self._users(view, filters, order, former)
        body: dict[str, Any] = {}
        items = {name: sub for name, sub in selection.items() if name.lower() != "collection"}
        if items or not _counted(selection):
            page = users[offset : offset + limit]
            body["items"] = list(map(view.projector(items), page))
        if _counted(selection):
            body["count"] = len(users)
        return self._envelope(body)

    def _users(
        self, view: UserView, filters: list[Filter], order: Order, former: bool
    ) -> Sequence[Employee]:
        """Return the users the filters keep, in order: kept from an earlier page if it can."""

        def build() -> list[Employee]:
            users = []
            for key in sorted(self.data.employees):
                employee = self.data.employees[key]
                if (former or not view.is_former(employee)) and all(
                    f.matches(view.resolve(employee, f.path)) for f in filters
                ):
                    users.append(employee)
            for path, descending in reversed(order):
                users.sort(key=_sorter(view, path), reverse=descending)
            return users

        if not _cacheable(view, [f.path for f in filters] + [path for path, _ in order]):
            return build()
        key = (view.root, former, tuple((tuple(f.path), f.operator, tuple(f.operands))
                                        for f in filters),
               tuple((tuple(path), descending) for path, descending in order))
        return self.lists.get(key, build)

    def _update(self, employee: Employee, request: Request) -> None:
        """Apply a partial update; nothing changes unless the whole body is valid."""
        try:
            body = request_json(request)
        except ValueError:
            raise LegacyError(400, "The body is not valid JSON") from None
        if isinstance(body, dict) and set(body) == {"data"} and isinstance(body["data"], dict):
            body = body["data"]
        if not isinstance(body, dict):
            raise LegacyError(400, "The body must be a user object")
        core, written, extended = _sort_writes(body)
        extended_data = write_extended(
            employee.extended_data, extended, self.data.extended_fields, self.value_ids
        )
        for attribute, value in core.items():
            setattr(employee, attribute, value)
        employee.legacy_fields.update(written)
        employee.extended_data = extended_data
        employee.last_updated_at = self.now()


def _sort_writes(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split a PUT body into Employee attributes, other properties and ``e_`` fields."""
    core: dict[str, Any] = {}
    written: dict[str, Any] = {}
    extended: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("e_"):
            extended[key] = value
            continue
        name = _NAMES.get(key.lower()) or (key if _DYNAMIC.fullmatch(key) else None)
        if name is None:
            raise LegacyError(400, f"Unknown user property {key!r}")
        if name in _CORE_WRITES:
            core[_CORE_WRITES[name]] = _core_value(name, value)
        elif name not in _IGNORED_WRITES:
            written[name] = value
    return core, written, extended


def _core_value(name: str, value: Any) -> Any:
    """Check a value written to the Employee record."""
    if name in ("firstName", "lastName", "login"):
        if not isinstance(value, str) or not value.strip():
            raise LegacyError(400, f"{name} must be a non-empty string")
        return value
    if value is not None and not isinstance(value, str):
        raise LegacyError(400, f"{name} must be a string or null")
    return value or None
