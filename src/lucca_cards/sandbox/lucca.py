"""The fake Lucca tenant: token endpoint, Lucca API and legacy API on one host.

Paths hang off the host root as on a real tenant: ``/lucca-api/…`` (bearer tokens,
problem+json), ``/api/v3/…`` (API key, ``{"Message", "Status"}`` errors) and the token
endpoint ``/connect/token`` (which really lives on Lucca's global accounts host, so it is
neither rate limited nor counted in the tenant's budget). Both APIs share one rate-limit
window, as all integrations of a tenant do (lucca-api.md §B11, gap 6).

>>> import datetime as dt
>>> from lucca_cards.sandbox._model import LuccaData
>>> fake = LuccaFake(LuccaData(tenant="acme"), today=dt.date(2025, 1, 1),
...                  client_id="id", client_secret="secret", api_key="key")
>>> fake.api_of("/lucca-api/employees"), fake.api_of("/api/v3/users"), fake.limited("token")
('lucca', 'legacy', False)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._legacy_api import LegacyApi, legacy_error
from lucca_cards.sandbox._legacy_query import LegacyError
from lucca_cards.sandbox._lucca_api import (
    LuccaApi,
    check_api_version,
    problem_response,
    request_uri,
    route,
)
from lucca_cards.sandbox._lucca_query import ProblemError
from lucca_cards.sandbox._model import LuccaData, employee_status
from lucca_cards.sandbox._oauth import AccessError, TokenStore, oauth_error
from lucca_cards.sandbox._service import Clock, FakeService, Faults

TOKEN_PATH = "/connect/token"
DEFAULT_SCOPES = ("departments.readonly", "employees.readwrite")
#: The name the legacy API's envelope gives the caller (the key itself is never echoed).
PRINCIPAL = "Sandbox API key"
_API_KEY = re.compile(r"\s*lucca\s+application\s*=\s*(\S+)\s*", re.IGNORECASE)
_OAUTH_ERRORS = {429: "temporarily_unavailable", 503: "temporarily_unavailable"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class LuccaFake(FakeService):
    """A stateful fake Lucca tenant over ``data`` (a WSGI application; serve it on loopback).

    Args:
        data: the tenant's records; PUTs through the legacy API change them in place.
        today: the date employee statuses and former employees are computed on.
        client_id, client_secret, scopes: the one OAuth client the token endpoint knows.
        api_key: the legacy API key.
        token_lifetime: seconds (of ``clock``) an access token lives.
        rate_limit, rate_window: the tenant's budget shared by both APIs (0 = unlimited).
        faults: injected faults per API: ``"token"``, ``"lucca"``, ``"legacy"``.
        clock: monotonic seconds (token expiry, rate-limit window).
        now: aware wall-clock time (legacy ``modifiedAt`` and envelope headers).
    """

    apis = ("token", "lucca", "legacy")

    def __init__(
        self,
        data: LuccaData,
        *,
        today: dt.date,
        client_id: str,
        client_secret: str,
        api_key: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        token_lifetime: int = 1800,
        rate_limit: int = 50,
        rate_window: float = 60.0,
        faults: dict[str, Faults] | None = None,
        clock: Clock = time.monotonic,
        now: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        super().__init__(rate_limit=rate_limit, rate_window=rate_window, faults=faults,
                         clock=clock)
        self.data, self.today = data, today
        self.tokens = TokenStore(client_id=client_id, client_secret=client_secret,
                                 scopes=scopes, lifetime=token_lifetime, clock=clock)
        self._api_key = api_key
        self._lucca = LuccaApi(data, today)
        self._legacy = LegacyApi(data, today, now=now, principal=PRINCIPAL)

    def api_of(self, path: str) -> str | None:
        """Return ``token``, ``lucca`` or ``legacy`` by path prefix (``None`` elsewhere)."""
        if path.rstrip("/") == TOKEN_PATH:
            return "token"
        for prefix, api in (("/lucca-api", "lucca"), ("/api/v3", "legacy")):
            if path == prefix or path.startswith(prefix + "/"):
                return api
        return None

    def limited(self, api: str) -> bool:
        """Count both tenant APIs against the budget; the global token host is apart."""
        return api != "token"

    def dispatch(self, request: Request, api: str) -> Response:
        """Answer a request of ``api``."""
        if api == "token":
            return self.tokens.token_response(request)
        with self.lock:
            if api == "lucca":
                return self._lucca_answer(request)
            return self._legacy_answer(request)

    def _lucca_answer(self, request: Request) -> Response:
        instance = request_uri(request)
        try:
            resource, ident = route(request.path)
            if request.method != "GET":
                response = problem_response(405, f"{request.method} is not allowed.", instance)
                response.headers["Allow"] = "GET"
                return response
            check_api_version(request.headers.get("Api-Version"))
            self.tokens.authorize(request.headers.get("Authorization"), resource)
            return self._lucca.answer(request, resource, ident)
        except ProblemError as problem:
            return problem_response(problem.status, problem.detail, instance, problem.errors)
        except AccessError as denied:
            return problem_response(denied.status, denied.detail, instance)

    def _legacy_answer(self, request: Request) -> Response:
        try:
            match = _API_KEY.fullmatch(request.headers.get("Authorization", ""))
            if match is None or not hmac.compare_digest(
                match[1].encode(), self._api_key.encode()
            ):
                raise LegacyError(401, "A valid 'lucca application=<API key>' is required.")
            return self._legacy.answer(request)
        except LegacyError as error:
            return legacy_error(error.status, error.message)

    def error(self, api: str, status: int, message: str, request: Request) -> Response:
        """Build an error in the API's own dialect (OAuth JSON, problem+json or legacy)."""
        if api == "token":
            code = _OAUTH_ERRORS.get(status, "server_error" if status >= 500 else "invalid_request")
            return oauth_error(status, code, message)
        if api == "legacy":
            return legacy_error(status, message)
        return problem_response(status, message, request_uri(request))

    def state(self) -> dict[str, Any]:
        """Return the tenant's records as JSON (no credential, no token)."""
        data, today = self.data, self.today
        employees = []
        for employee in data.employees.values():
            record = _record(employee)
            position = data.job_positions.get(employee.job_position_id)
            employment = data.employments.get(employee.employment_id)
            record["status"] = employee_status(employment, today) if employment else None
            record["department_id"] = position.department_id if position else None
            employees.append(record)
        return {
            "tenant": data.tenant,
            "today": today.isoformat(),
            "legal_entities": _jsonable(data.legal_entities),
            "business_establishments": _jsonable(data.business_establishments),
            "job_qualifications": _jsonable(data.job_qualifications),
            "departments": [_record(d) for d in data.departments.values()],
            "employees": employees,
            "employments": [_record(e) for e in data.employments.values()],
            "job_positions": [_record(p) for p in data.job_positions.values()],
            "extended_fields": [_record(f) for f in data.extended_fields.values()],
        }


def _record(record: Any) -> dict[str, Any]:
    """Return a dataclass record as JSON (shallower, so faster, than ``asdict``)."""
    return {f.name: _jsonable(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _jsonable(value: Any) -> Any:
    """Turn dates, tuples and integer keys into their JSON forms."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
