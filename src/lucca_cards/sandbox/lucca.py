"""The fake Lucca tenant: token endpoint, Lucca API and legacy API on one host.

Paths hang off the host root as on a real tenant: ``/lucca-api/…`` (bearer tokens,
problem+json), ``/api/v3/…`` (API key, ``{"Message", "Status"}`` errors) and the token
endpoint ``/connect/token`` (which really lives on Lucca's global accounts host, so it is
neither rate limited nor counted in the tenant's budget). Both APIs share one rate-limit
window, as all integrations of a tenant do (lucca-api.md §B11, gap 6).

The tenant also changes as an HR administrator would change it (:meth:`LuccaFake.hire`,
``move``, ``change_email``, ``leave``, ``delete_employee``, or ``/_sandbox/lucca/…``), each
change emitting Lucca's events (``GET /lucca-api/events``), which are signed and delivered
to the declared webhook endpoints (``/lucca-api/webhook-endpoints``) by a background
thread (:attr:`LuccaFake.deliveries`).

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
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._legacy_api import LegacyApi, legacy_error
from lucca_cards.sandbox._legacy_query import LegacyError
from lucca_cards.sandbox._lucca_api import (
    RESOURCES,
    LuccaApi,
    check_api_version,
    problem_response,
    request_uri,
    route,
)
from lucca_cards.sandbox._lucca_control import lucca_control
from lucca_cards.sandbox._lucca_delivery import Deliveries
from lucca_cards.sandbox._lucca_events import Change, Event, EventLog
from lucca_cards.sandbox._lucca_hooks_api import HOOK_RESOURCES, HooksApi, allowed_methods
from lucca_cards.sandbox._lucca_hr import HrAdmin
from lucca_cards.sandbox._lucca_query import ProblemError
from lucca_cards.sandbox._lucca_render import Renderer
from lucca_cards.sandbox._lucca_webhooks import EndpointRegistry, python_fields
from lucca_cards.sandbox._model import LuccaData, employee_status
from lucca_cards.sandbox._oauth import AccessError, TokenStore, oauth_error
from lucca_cards.sandbox._service import Clock, FakeService, Faults

TOKEN_PATH = "/connect/token"
#: The integration's scopes: read departments, read employees (and write their files
#: through the legacy API), declare webhook endpoints, and list the events.
DEFAULT_SCOPES = ("departments.readonly", "employees.readwrite",
                  "webhook-endpoints.readwrite", "events.readonly")
#: The topics of an endpoint declared by :meth:`LuccaFake.register_webhook`.
DEFAULT_TOPICS = ("employee.*", "employment.*", "job-position.*")
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
        now: aware wall-clock time (legacy ``modifiedAt`` and envelope headers, events,
            ``Lucca-Timestamp``).
        sleep: waits between delivery attempts.
        delivery_attempts, delivery_backoff: attempts per event and endpoint (5), and the
            first wait between them (0.2 s, doubling).
        challenge_parameter: ``echo`` or ``challenge`` for every endpoint's activation
            challenge; ``None`` alternates them from one endpoint to the next.
        root_url: the tenant's root URL, the ``source`` of its events; by default the
            first request's host (the :class:`~lucca_cards.Sandbox` sets it when serving).
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
        sleep: Callable[[float], None] = time.sleep,
        delivery_attempts: int = 5,
        delivery_backoff: float = 0.2,
        challenge_parameter: str | None = None,
        root_url: str | None = None,
    ) -> None:
        super().__init__(rate_limit=rate_limit, rate_window=rate_window, faults=faults,
                         clock=clock)
        self.data, self.today, self.now, self.root_url = data, today, now, root_url
        self.tokens = TokenStore(client_id=client_id, client_secret=client_secret,
                                 scopes=scopes, lifetime=token_lifetime, clock=clock)
        self._api_key = api_key
        self._lucca = LuccaApi(data, today)
        self._legacy = LegacyApi(data, today, now=now, principal=PRINCIPAL)
        self.hr = HrAdmin(data, today, now)
        #: Every event emitted, oldest first.
        self.events = EventLog(now=now)
        #: The declared webhook endpoints.
        self.webhooks = EndpointRegistry(challenge_parameter)
        #: The delivery queue, its thread, counters and test knobs.
        self.deliveries = Deliveries(self.webhooks, sleep=sleep, now=now,
                                     attempts=delivery_attempts, backoff=delivery_backoff)
        self._hooks = HooksApi(registry=self.webhooks, events=self.events,
                               deliveries=self.deliveries,
                               establishments=data.business_establishments, now=now)

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
        self._learn_root(request)
        if api == "lucca":
            return self._lucca_answer(request)
        with self.lock:
            return self._legacy_answer(request)

    def control(self, request: Request) -> Response | None:
        """Serve ``/_sandbox/lucca/…`` (HR changes and deliveries: see ``_lucca_control``)."""
        self._learn_root(request)
        return lucca_control(self, request)

    def _learn_root(self, request: Request) -> None:
        if self.root_url is None:
            self.root_url = request.host_url.rstrip("/")

    def _lucca_answer(self, request: Request) -> Response:
        instance = request_uri(request)
        try:
            resource, ident = route(request.path, RESOURCES + HOOK_RESOURCES)
            allowed = allowed_methods(resource, ident)
            if request.method not in allowed:
                response = problem_response(405, f"{request.method} is not allowed.", instance)
                response.headers["Allow"] = ", ".join(allowed)
                return response
            check_api_version(request.headers.get("Api-Version"))
            self.tokens.authorize(request.headers.get("Authorization"), resource,
                                  write=request.method != "GET")
            renderer = Renderer(self.data, self.today, request.host_url.rstrip("/"))
            if resource in HOOK_RESOURCES:
                # Not under the lock: creating an endpoint calls the receiver back.
                return self._hooks.answer(request, renderer, resource, ident)
            with self.lock:
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
            "webhook_endpoints": [e.summary() for e in self.webhooks.endpoints()],
            "events": len(self.events),
            "deliveries": self.deliveries.as_json()["counts"],
        }

    def stop(self) -> None:
        """Release late answers and stop the delivery thread (the server is closing)."""
        super().stop()
        self.deliveries.stop()

    # -- an HR administrator's changes ---------------------------------------------------

    def renderer(self) -> Renderer:
        """Render records as the Lucca API does, with URLs under :attr:`root_url`."""
        root = self.root_url or f"https://{self.data.tenant}.ilucca.net"
        return Renderer(self.data, self.today, root)

    def _change(self, make: Callable[[Renderer], list[Change]]) -> list[Event]:
        """Make a change under the lock; log and queue its events in the same order."""
        with self.lock:
            renderer = self.renderer()
            events = self.events.record(make(renderer), renderer)
            self.deliveries.send(events)
        return events

    def hire(
        self,
        *,
        given_name: str,
        family_name: str,
        email: str | None,
        department_id: int,
        starts_on: dt.date | None = None,
        job_title: str | None = None,
    ) -> int:
        """Hire someone into a department from ``starts_on`` (today); return their id.

        Emits ``employee.created``, ``employment.created`` and ``job-position.created``.
        Raises ``ValueError`` (a bad name or email, an unknown or archived department).
        """
        hired: list[int] = []

        def make(renderer: Renderer) -> list[Change]:
            employee_id, changes = self.hr.hire(
                renderer, given_name=given_name, family_name=family_name, email=email,
                department_id=department_id, starts_on=starts_on, job_title=job_title)
            hired.append(employee_id)
            return changes

        self._change(make)
        return hired[0]

    def move(self, employee_id: int, department_id: int) -> list[Event]:
        """Move an employee to another department from today; return the events.

        A new job position (``job-position.created``), the previous one ending yesterday
        (``job-position.updated``). Raises ``LookupError`` (unknown employee) or
        ``ValueError`` (unknown department, the same one, an employee who left).
        """
        return self._change(lambda r: self.hr.move(r, employee_id, department_id))

    def change_email(self, employee_id: int, email: str | None) -> list[Event]:
        """Change an employee's email (``employee.updated``); return the events."""
        return self._change(lambda r: self.hr.change_email(r, employee_id, email))

    def leave(self, employee_id: int, ends_on: dt.date | None = None) -> list[Event]:
        """End an employee's contract on ``ends_on`` (today); return the events.

        ``employment.updated`` (``previousAttributes {"end": …}``), then
        ``job-position.updated`` for each of its positions that ends with it.
        """
        return self._change(lambda r: self.hr.leave(r, employee_id, ends_on))

    def delete_employee(self, employee_id: int) -> list[Event]:
        """Delete an employee, their employments and positions (``employee.deleted``)."""
        return self._change(lambda r: self.hr.delete(r, employee_id))

    def render_employee(self, employee_id: int) -> dict[str, Any]:
        """Return an employee as ``GET /lucca-api/employees/{id}`` renders it."""
        with self.lock:
            return self.renderer().employee(self.hr.employee(employee_id))

    # -- webhooks ------------------------------------------------------------------------

    def register_webhook(
        self,
        url: str,
        *,
        topics: Sequence[str] = DEFAULT_TOPICS,
        secret: str | None = None,
        name: str = "lucca-cards sandbox",
        challenge_parameter: str | None = None,
    ) -> tuple[str, str]:
        """Declare a webhook endpoint as ``POST /lucca-api/webhook-endpoints`` would.

        The activation challenge is tried at once, and again before each delivery until it
        succeeds. Returns the endpoint's id and its signing secret (``secret``, or a new
        random one). Raises ``ValueError`` for a bad URL or topic.
        """
        fields = python_fields(url, name=name, topics=topics,
                               establishments=self.data.business_establishments)
        endpoint = self.webhooks.create(
            fields, secret=secret or secrets.token_urlsafe(32), now=self.now(),
            challenge_parameter=challenge_parameter)
        self.deliveries.challenge(endpoint)
        return str(endpoint.id), endpoint.secret

    def delete_webhook(self, endpoint_id: str | int) -> None:
        """Delete a webhook endpoint (nothing more is sent to it); ``LookupError`` if none."""
        if self.webhooks.delete(endpoint_id) is None:
            raise LookupError(f"no webhook endpoint with id {endpoint_id}")

    def resend(self, event_id: str, endpoint_id: str | int | None = None) -> int:
        """Send an event again (same id, signed afresh), to one endpoint or all it is for.

        Returns how many deliveries were queued. Raises ``LookupError`` for an unknown id.
        """
        event = self.events.get(event_id)
        if event is None:
            raise LookupError(f"no event with id {event_id}")
        endpoint = None
        if endpoint_id is not None:
            endpoint = self.webhooks.get(endpoint_id)
            if endpoint is None:
                raise LookupError(f"no webhook endpoint with id {endpoint_id}")
        return self.deliveries.resend(event, endpoint)

    def redeliver(self) -> int:
        """Queue the undelivered events again, oldest first; return how many."""
        return self.deliveries.redeliver()


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
