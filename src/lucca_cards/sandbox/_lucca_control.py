"""``/_sandbox/lucca/…``: change the fake Lucca as an HR administrator would, over HTTP.

Each change emits the events Lucca would (see :mod:`._lucca_hr`) and answers at once; the
events are delivered by the fake's delivery thread. Bodies are JSON objects in the Lucca
API's naming; an unknown field, a bad value or an unknown department is a 400, an unknown
employee a 404, both as ``{"message": …}``.

========================================================  ==================================
``POST /_sandbox/lucca/employees``                        hire: ``givenName``, ``familyName``,
                                                          ``email``, ``departmentId``
                                                          (``startsOn``, ``jobTitle``); 201
``POST /_sandbox/lucca/employees/{id}/move``              ``departmentId``
``POST /_sandbox/lucca/employees/{id}/email``             ``email``
``POST /_sandbox/lucca/employees/{id}/leave``             (``endsOn``, default today)
``DELETE /_sandbox/lucca/employees/{id}``                 204
``GET``/``POST /_sandbox/lucca/deliveries``               counts, log; set ``duplicate_rate``,
                                                          ``shuffle``, ``seed``, ``paused``
``POST /_sandbox/lucca/redeliver``                        queue the undelivered again
``POST /_sandbox/lucca/events/{id}/resend``               send one event again
========================================================  ==================================

The employee changes answer the employee as the Lucca API renders it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._lucca_hr import HrError
from lucca_cards.sandbox._service import json_response, request_json

if TYPE_CHECKING:
    from lucca_cards.sandbox.lucca import LuccaFake

PREFIX = "/_sandbox/lucca/"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ROUTES = Map(
    [
        Rule("/_sandbox/lucca/employees", endpoint="hire", methods=["POST"]),
        Rule("/_sandbox/lucca/employees/<int:employee_id>", endpoint="delete",
             methods=["DELETE"]),
        Rule("/_sandbox/lucca/employees/<int:employee_id>/move", endpoint="move",
             methods=["POST"]),
        Rule("/_sandbox/lucca/employees/<int:employee_id>/email", endpoint="email",
             methods=["POST"]),
        Rule("/_sandbox/lucca/employees/<int:employee_id>/leave", endpoint="leave",
             methods=["POST"]),
        Rule("/_sandbox/lucca/deliveries", endpoint="deliveries", methods=["GET", "POST"]),
        Rule("/_sandbox/lucca/redeliver", endpoint="redeliver", methods=["POST"]),
        Rule("/_sandbox/lucca/events/<event_id>/resend", endpoint="resend", methods=["POST"]),
    ],
    strict_slashes=False,
)


class BadBodyError(Exception):
    """A control request's body that cannot be used (400)."""


def _message(status: int, text: str) -> Response:
    return json_response({"message": text}, status)


def lucca_control(fake: LuccaFake, request: Request) -> Response | None:
    """Answer a ``/_sandbox/lucca/…`` request; ``None`` for other paths."""
    if not request.path.startswith(PREFIX):
        return None
    try:
        endpoint, args = _ROUTES.bind("sandbox").match(request.path, request.method)
        return _HANDLERS[str(endpoint)](fake, request, args)
    except NotFound:
        return _message(404, f"No sandbox control at {request.path}")
    except MethodNotAllowed as exc:
        response = _message(405, "Method not allowed.")
        response.headers["Allow"] = ", ".join(exc.valid_methods or ())
        return response
    except BadBodyError as exc:
        return _message(400, str(exc))
    except HrError as exc:
        return _message(exc.status, exc.message)


def _body(request: Request, required: tuple[str, ...], optional: tuple[str, ...] = ()
          ) -> dict[str, Any]:
    """Return the JSON object body, with the ``required`` fields and no unknown one."""
    try:
        body = request_json(request)
    except ValueError:
        raise BadBodyError("The body is not JSON.") from None
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise BadBodyError("The body must be a JSON object.")
    missing = [name for name in required if name not in body]
    unknown = sorted(set(body) - set(required) - set(optional))
    if missing or unknown:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else [])
        raise BadBodyError(f"Bad body ({'; '.join(parts)}); expected {', '.join(required)}"
                      + (f" and optionally {', '.join(optional)}." if optional else "."))
    return body


def _department(body: Mapping[str, Any]) -> int:
    value = body["departmentId"]
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdecimal():
        raise BadBodyError("departmentId must be a department's id (an integer).")
    return int(text)


def _date(body: Mapping[str, Any], name: str) -> dt.date | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        if isinstance(value, str) and _DATE.fullmatch(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise BadBodyError(f"{name} must be a date like 2026-03-02.")


def _employee(fake: LuccaFake, employee_id: int, status: int = 200) -> Response:
    return json_response(fake.render_employee(employee_id), status)


def _hire(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    body = _body(request, ("givenName", "familyName", "email", "departmentId"),
                 ("startsOn", "jobTitle"))
    title = body.get("jobTitle")
    if title is not None and not isinstance(title, str):
        raise BadBodyError("jobTitle must be a text.")
    employee_id = fake.hire(
        given_name=body["givenName"], family_name=body["familyName"], email=body["email"],
        department_id=_department(body), starts_on=_date(body, "startsOn"), job_title=title)
    return _employee(fake, employee_id, 201)


def _move(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    body = _body(request, ("departmentId",))
    fake.move(args["employee_id"], _department(body))
    return _employee(fake, args["employee_id"])


def _email(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    body = _body(request, ("email",))
    fake.change_email(args["employee_id"], body["email"])
    return _employee(fake, args["employee_id"])


def _leave(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    body = _body(request, (), ("endsOn",))
    fake.leave(args["employee_id"], _date(body, "endsOn"))
    return _employee(fake, args["employee_id"])


def _delete(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    fake.delete_employee(args["employee_id"])
    return json_response(None, 204)


def _deliveries(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    deliveries = fake.deliveries
    if request.method == "POST":
        body = _body(request, (), ("duplicate_rate", "shuffle", "seed", "paused"))
        rate, shuffle, seed, paused = (body.get(name) for name in
                                       ("duplicate_rate", "shuffle", "seed", "paused"))
        if rate is not None and (not isinstance(rate, int | float) or isinstance(rate, bool)
                                 or not 0 <= rate <= 1):
            raise BadBodyError("duplicate_rate must be a number from 0 to 1.")
        if any(v is not None and not isinstance(v, bool) for v in (shuffle, paused)):
            raise BadBodyError("shuffle and paused must be true or false.")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise BadBodyError("seed must be an integer.")
        deliveries.configure(duplicate_rate=rate, shuffle=shuffle, seed=seed)
        if paused is not None:
            (deliveries.pause if paused else deliveries.resume)()
    return json_response({**deliveries.as_json(), "log": list(deliveries.log)})


def _redeliver(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    return json_response({"queued": fake.redeliver()})


def _resend(fake: LuccaFake, request: Request, args: Mapping[str, Any]) -> Response:
    try:
        queued = fake.resend(args["event_id"])
    except LookupError:
        return _message(404, f"No event with id {args['event_id']}.")
    return json_response({"queued": queued})


_HANDLERS: dict[str, Callable[[LuccaFake, Request, Mapping[str, Any]], Response]] = {
    "hire": _hire, "move": _move, "email": _email, "leave": _leave, "delete": _delete,
    "deliveries": _deliveries, "redeliver": _redeliver, "resend": _resend,
}
