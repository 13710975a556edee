"""What every fake shares: request log, rate limit, fault injection, control endpoints.

A fake is a WSGI application (:class:`FakeService`). Before it routes a request it

1. answers ``/_sandbox/…`` control requests itself (never logged, limited or faulted);
2. counts the request against its rate-limit window (429 with ``Retry-After`` when over);
3. draws a fault for the request's API, deterministically from the fault seed and the
   request's number: 429, 500, 503, a connection reset, or a late answer;
4. routes it to the subclass, and logs ``method``, ``path`` and ``status``.

``GET``, ``POST`` and ``DELETE /_sandbox/faults`` show, set and clear the faults of the
fake's APIs while it runs (the body is read by :func:`~._faults.faults_from_body`).
"""

from __future__ import annotations

import abc
import contextlib
import json
import math
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from ._faults import FAULT_KINDS as FAULT_KINDS
from ._faults import NO_FAULTS as NO_FAULTS
from ._faults import Faults as Faults
from ._faults import faults_as_json, faults_from_body

Clock = Callable[[], float]
WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


class WindowLimiter:
    """At most ``limit`` requests per fixed window of ``window`` seconds; ``0`` = unlimited."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        if limit < 0 or window <= 0:
            raise ValueError("the rate limit must be >= 0 and its window > 0 seconds")
        self.limit, self.window, self._clock = limit, window, clock
        self._lock = threading.Lock()
        self._start = clock()
        self._count = 0

    def admit(self) -> float | None:
        """Count one request; return the seconds to wait if it is over the limit."""
        if not self.limit:
            return None
        with self._lock:
            now = self._clock()
            if now - self._start >= self.window:
                self._start, self._count = now, 0
            if self._count >= self.limit:
                return self._start + self.window - now
            self._count += 1
            return None

    def remaining(self) -> int:
        """Return how many requests are left in the current window."""
        return max(self.limit - self._count, 0)


class RequestLog:
    """Every request a fake answered: ``method``, ``path`` (no query) and ``status``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def add(self, method: str, path: str, status: int | None) -> None:
        """Record one exchange (``status`` ``None`` when the connection was cut)."""
        with self._lock:
            self._entries.append({"method": method, "path": path, "status": status})

    def entries(self) -> list[dict[str, Any]]:
        """Return a copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    def counts(self) -> dict[str, int]:
        """``{"GET /v1/users": 3, …}``."""
        return dict(Counter(f"{e['method']} {e['path']}" for e in self.entries()))

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._entries.clear()

    def as_json(self) -> dict[str, Any]:
        """Return the body of ``GET /_sandbox/requests``."""
        entries = self.entries()
        return {
            "counts": dict(Counter(f"{e['method']} {e['path']}" for e in entries)),
            "log": entries,
        }


def encode_json(body: Any) -> bytes | str:
    """Encode an answer's body: orjson's UTF-8 when it is exact, else ``json.dumps`` as before.

    orjson is some 20 times faster than ``json.dumps(body, ensure_ascii=False)`` on a big
    page, which otherwise costs more than building the page; both write UTF-8 as it is.
    orjson's text is kept only for a body of plain JSON values (:func:`_plain`): then it
    decodes to the value the standard library's does. Anything else is written, or
    refused, by the standard library exactly as before: what orjson refuses (integers
    beyond 64 bits, keys that are not strings, lone surrogates, nesting past 254 levels,
    cycles) and what it would write otherwise (``NaN`` and the infinities as ``null``
    where the standard library writes ``NaN`` and ``Infinity``; dataclasses, dates, enums
    and subclasses, which the standard library refuses or writes its own way).
    """
    try:
        encoded = orjson.dumps(body)
    except orjson.JSONEncodeError:
        pass  # refused: the standard library writes it, or raises as it always did
    else:
        # Checked after orjson, which refused cycles: the walk is sure to end.
        if _plain(body):
            return encoded
    return json.dumps(body, ensure_ascii=False)


def _plain(body: Any) -> bool:
    """Whether ``body`` is dicts, lists, tuples, strings, ints, bools, None, finite floats.

    Exact classes: a subclass may write itself otherwise. The keys are left to orjson,
    which refuses any that is not a string. This loop costs a third of ``json.dumps``,
    which is what being exact costs: orjson has no way to refuse ``NaN``, and reading its
    text back to compare would build as many objects as the page holds (and set off the
    garbage collector's full passes over the whole sandbox).
    """
    stack = [body]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is dict:  # the tests in the order of how often a page holds each kind
            extend(value.values())
        elif kind is str or value is None or kind is int or kind is bool:
            pass
        elif kind is list or kind is tuple:
            extend(value)
        elif kind is not float or not math.isfinite(value):
            return False
    return True


def json_response(
    body: Any,
    status: int = 200,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Response:
    """Build a JSON response (``body`` ``None`` gives an empty body)."""
    content = "" if body is None else encode_json(body)
    return Response(content, status=status, headers=headers, content_type=content_type)


def request_json(request: Request) -> Any:
    """Return the request's JSON body, or ``None`` when it is empty; raises ``ValueError``."""
    data = request.get_data(cache=True)
    return json.loads(data) if data.strip() else None


class FakeService(abc.ABC):
    """Base WSGI application of a fake; subclasses route in :meth:`dispatch`.

    Subclasses implement :meth:`api_of` (which API a path belongs to, ``None`` for no
    route), :meth:`dispatch`, :meth:`error` (a fault or 429 in the API's error dialect),
    :meth:`state` and optionally :meth:`control`, and name their APIs in :attr:`apis`.
    """

    #: The APIs (fault keys) this fake serves: the ones ``/_sandbox/faults`` sets.
    apis: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        rate_limit: int,
        rate_window: float = 60.0,
        faults: dict[str, Faults] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.log = RequestLog()
        self.clock = clock
        self.limiter = WindowLimiter(rate_limit, rate_window, clock)
        self.faults: dict[str, Faults] = dict(faults or {})
        self._numbers: Counter[str] = Counter()
        self._numbers_lock = threading.Lock()
        self._stopping = threading.Event()

    # -- to implement ------------------------------------------------------------------

    @abc.abstractmethod
    def api_of(self, path: str) -> str | None:
        """Return the API (fault key) serving ``path``; ``None`` when nothing is served there."""

    def limited(self, api: str) -> bool:
        """Whether requests to ``api`` count against the rate limit (all, by default)."""
        return True

    @abc.abstractmethod
    def dispatch(self, request: Request, api: str) -> Response:
        """Answer a request of ``api``."""

    @abc.abstractmethod
    def error(self, api: str, status: int, message: str, request: Request) -> Response:
        """Build an error response in ``api``'s dialect."""

    @abc.abstractmethod
    def state(self) -> dict[str, Any]:
        """Return the whole state, JSON-ready (``GET /_sandbox/state``)."""

    def control(self, request: Request) -> Response | None:
        """Extra ``/_sandbox/…`` endpoints; ``None`` when ``request`` is not one."""
        return None

    # -- the pipeline ------------------------------------------------------------------

    def set_faults(self, api: str, faults: Faults | None) -> None:
        """Inject ``faults`` into ``api`` from now on (``None`` stops them).

        The requests of ``api`` are numbered afresh from here, so the same faults set
        before the same requests fail the same ones.
        """
        with self.lock, self._numbers_lock:
            self._numbers.pop(api, None)
            if faults is None:
                self.faults.pop(api, None)
            else:
                self.faults[api] = faults

    def faults_json(self) -> dict[str, Any]:
        """Return every API's faults, ``null`` when calm (``GET /_sandbox/faults``)."""
        with self.lock:
            names = dict.fromkeys([*self.apis, *self.faults])
            return {api: faults_as_json(self.faults.get(api)) for api in names}

    def stop(self) -> None:
        """Release every late answer that is still waiting (the server is shutting down)."""
        self._stopping.set()

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_sandbox/"):
            response = self._control(request)
            return response(environ, start_response)
        api = self.api_of(request.path)
        if api is None:
            response = self.error("", 404, f"No route for {request.path}", request)
            self.log.add(request.method, request.path, response.status_code)
            return response(environ, start_response)
        response = self._answer(request, api, environ)
        return response(environ, start_response)

    def _answer(self, request: Request, api: str, environ: WSGIEnviron) -> Response:
        wait = self.limiter.admit() if self.limited(api) else None
        if wait is not None:
            response = self.error(api, 429, "Too many requests", request)
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            self.log.add(request.method, request.path, 429)
            return response
        faults, fault = self._draw(api)
        if fault == "reset":
            self.log.add(request.method, request.path, None)
            _cut(environ)
            return Response(b"", status=500)
        if fault in {"rate_limited", "server_error", "unavailable"}:
            status = {"rate_limited": 429, "server_error": 500, "unavailable": 503}[fault]
            response = self.error(api, status, f"Injected fault ({status})", request)
            if status == 429:
                response.headers["Retry-After"] = str(faults.retry_after)
            self.log.add(request.method, request.path, status)
            return response
        response = self._route(request, api)
        self.log.add(request.method, request.path, response.status_code)
        if fault == "timeout":
            self._stopping.wait(faults.delay)
        return response

    def _route(self, request: Request, api: str) -> Response:
        try:
            return self.dispatch(request, api)
        except HTTPException as exc:
            return self.error(api, exc.code or 500, exc.description or exc.name, request)

    def _draw(self, api: str) -> tuple[Faults, str | None]:
        """Return the API's faults and the fault of this request (``None``: no fault)."""
        with self._numbers_lock:
            faults = self.faults.get(api, NO_FAULTS)
            if not faults.total:
                return faults, None
            self._numbers[api] += 1
            number = self._numbers[api]
        return faults, faults.draw(number)

    def _control(self, request: Request) -> Response:
        if request.path == "/_sandbox/requests":
            if request.method == "DELETE":
                self.log.clear()
                return json_response(None, 204)
            return json_response(self.log.as_json())
        if request.path == "/_sandbox/state" and request.method == "GET":
            with self.lock:
                return json_response(self.state())
        if request.path == "/_sandbox/faults":
            return self._faults_control(request)
        response = self.control(request)
        if response is None:
            return json_response({"message": f"No sandbox control at {request.path}"}, 404)
        return response


    def _faults_control(self, request: Request) -> Response:
        """``GET`` shows the faults, ``POST`` sets those of some APIs, ``DELETE`` clears all."""
        if request.method == "POST":
            try:
                apis, faults = faults_from_body(_json_body(request), self.apis)
            except ValueError as exc:
                return json_response({"message": f"Bad faults: {exc}"}, 400)
            for api in apis:
                self.set_faults(api, faults)
        elif request.method == "DELETE":
            for api in [*self.apis, *self.faults]:
                self.set_faults(api, None)
        elif request.method != "GET":
            response = json_response({"message": "Use GET, POST or DELETE."}, 405)
            response.headers["Allow"] = "GET, POST, DELETE"
            return response
        return json_response(self.faults_json())


def _json_body(request: Request) -> Any:
    """Return the request's JSON body; raise ``ValueError`` saying so when it is not JSON."""
    try:
        return request_json(request)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise ValueError(f"the body is not JSON ({exc})") from None


def _cut(environ: WSGIEnviron) -> None:
    """Reset the client's connection: linger 0, then shut the socket down."""
    sock = environ.get("werkzeug.socket")
    if sock is None:  # pragma: no cover - only werkzeug's server is used
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):  # the client may have left first
        sock.shutdown(socket.SHUT_RDWR)
