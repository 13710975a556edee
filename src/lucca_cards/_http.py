"""The one transport every client uses: session, timeouts, auth, throttling, retries, errors.

A client builds one :class:`Transport` for its API and asks it for JSON. The transport
owns the :class:`requests.Session` (connection pooling), the per-host
:class:`~lucca_cards._ratelimit.RateLimiter`, the retries and the per-call budget of
:mod:`lucca_cards._retry`, the bounded exchanges of :mod:`lucca_cards._wire`, the
mapping of error answers to :mod:`lucca_cards.errors`, and the one-time credential
refresh on a 401. It never sends anything to another origin than its base URL, never
replays a body to a redirect target, and every error it raises is redacted and carries
no foreign exception in its chain. Nothing here logs a header, a query or a body.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import attrs
import requests
import urllib3

from . import _json, _wire
from ._auth import Auth
from ._failures import transport_error, unreadable
from ._ratelimit import Clock, RateLimiter, Sleep
from ._redact import Redactor
from ._retry import CallBudget, RetryPolicy, call_budget, call_with_retries, retry_after_seconds
from ._server_errors import api_error_from_response, path_of
from ._version import __version__
from ._wire import Timeout
from .errors import (
    LuccaCardsError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
    without_advice,
)

log = logging.getLogger("lucca_cards.http")

USER_AGENT = f"lucca-cards/{__version__}"
Params = Mapping[str, str | int | float | bool | None]
T = TypeVar("T")
#: The largest answer read by default; reading stops past it (memory stays bounded).
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Same-origin redirects a GET follows before giving up.
MAX_REDIRECTS = 5
_SAFE_METHODS = frozenset({"GET", "HEAD"})
#: What a failed exchange can raise, from requests down to http.client: a hostile or
#: broken server must never make anything but the library's own errors leave a call.
_EXCHANGE_FAILURES = (requests.RequestException, http.client.HTTPException,
                      urllib3.exceptions.HTTPError, OSError, ValueError)


class Transport:
    """Sends requests to one API (one base URL) for one client.

    Args:
        base_url: the API root; relative paths are joined to it, and absolute URLs (paging
            links) must stay on its origin (scheme, host and port), so that credentials
            and bodies never leave it.
        service: the API's name in error messages ("Lucca API").
        auth: the credentials.
        limiter: the throttle (usually the host's shared one).
        headers: headers sent on every request (``Api-Version``, ``X-Tenant`` …).
        hints: status → what the user should do, for error messages.
        retry, timeout: see :class:`~lucca_cards.RetryPolicy` and :class:`Timeout`.
        clock, sleep: injectable, so tests never wait.
        session: an existing :class:`requests.Session` to use (and not to close), as it
            is: ``requests`` reads the environment (proxies, CA bundle, ``~/.netrc``) on
            each of its requests if it trusts it. The transport's own session reads the
            proxies and CA bundle once per origin, and never ``~/.netrc``.
        url_setting: the setting that holds ``base_url`` (``LUCCA_URL``), named in
            messages about a wrong base URL or an unreachable host.
        max_response_bytes: the largest answer read; past it reading stops.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        auth: Auth,
        limiter: RateLimiter,
        headers: Mapping[str, str] | None = None,
        hints: Mapping[int, str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        session: requests.Session | None = None,
        url_setting: str = "",
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.service = service
        self._auth = auth
        self.limiter = limiter
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self._hints = dict(hints or {})
        self.retry = retry or RetryPolicy()
        self.timeout = timeout or Timeout()
        self._clock = clock
        self._sleep = sleep
        self._owns_session = session is None
        self.session = session or _wire.new_session()
        self.url_setting = url_setting
        self.max_response_bytes = max_response_bytes

    def __repr__(self) -> str:
        return f"Transport({self.service!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections (if the transport created the session)."""
        if self._owns_session:
            self.session.close()

    def redactor(self) -> Redactor:
        """Return the redactor of this transport's current secrets."""
        return Redactor(self._auth.secrets())

    # -- where requests go -------------------------------------------------------------

    def url_for(self, path_or_url: str, *, method: str = "GET") -> str:
        """Resolve a path (ours) or a link (the server's) against the base URL.

        Raises:
            UnexpectedResponseError: the URL is on another origin; nothing is sent there.
        """
        if "://" in path_or_url or path_or_url.startswith("//"):
            url = urljoin(self.base_url, path_or_url)
        else:
            url = urljoin(self.base_url, path_or_url.lstrip("/"))
        if _origin(url) != _origin(self.base_url):
            raise self.unexpected(
                method, url,
                f"was not sent: {_shown_origin(url)} is not the configured "
                f"{_shown_origin(self.base_url)}, and credentials and bodies never leave it",
                hint=f"if the API really moved to {_shown_origin(url)}, set "
                f"{self.url_setting or 'the base URL'} to it",
            )
        return url

    def collection_hints(self, path: str) -> dict[int, str]:
        """Return the advice for errors on a collection route (a 404 means a wrong base URL)."""
        where = f"check {self.url_setting}" if self.url_setting else "check the base URL"
        return {404: f"{self.base_url.rstrip('/')} has no {path}: {where}, it must be the "
                     "API's root URL"}

    # -- sending -----------------------------------------------------------------------

    def request_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> Any:
        """Send a request and return its decoded JSON body (``None`` for an empty body).

        ``idempotent`` defaults to ``True`` for GET, PUT, DELETE and HEAD; a request that
        is not idempotent is retried only when it cannot have taken effect. ``hints``
        override the transport's advice for this request.

        Raises:
            UnexpectedResponseError: the body is not UTF-8 JSON, or is nested absurdly.
        """
        response = self.request(method, path_or_url, params=params, json=json, form=form,
                                idempotent=idempotent, hints=hints)
        content = response.content
        if not content.strip():
            return None
        try:
            return _json.loads(content)
        except UnicodeDecodeError:
            problem = "is not UTF-8 text"
        except RecursionError:
            problem = "is JSON nested too deeply to read"
        except ValueError:
            problem = "is not JSON"
        raise self.unexpected(  # outside the except: the decoder's error holds the body
            method, response.url,
            f"answered {response.status_code} with a body that {problem}",
            hint=f"check that {self.url_setting or 'the base URL'} points at the API, not "
            "at a web page",
            response=response,
        )

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> requests.Response:
        """Send a request with throttling, retries and error mapping; return the response."""
        method = method.upper()
        url = self.url_for(path_or_url, method=method)
        query = {k: ("true" if v else "false") if isinstance(v, bool) else str(v)
                 for k, v in (params or {}).items() if v is not None}
        payload = _Payload(query, json, form)
        all_hints = {**self._hints, **(hints or {})}
        if idempotent is None:
            idempotent = method in {"GET", "PUT", "DELETE", "HEAD"}
        with call_budget(self.retry, self._clock) as budget:
            return call_with_retries(
                lambda: self._attempt(method, url, payload, budget, all_hints),
                budget=budget,
                idempotent=idempotent,
                sleep=self._sleep,
                describe=f"{self.service} {method} {urlsplit(url).path}",
            )

    def _attempt(
        self, method: str, url: str, payload: _Payload, budget: CallBudget,
        hints: Mapping[int, str],
    ) -> requests.Response:
        exchange = self._follow(method, url, payload, budget)
        if exchange.response.status_code == 401 and not payload.refreshed:
            payload.refreshed = True
            if self._auth.refresh():
                exchange = self._follow(method, url, payload, budget)
        response = exchange.response
        if 200 <= response.status_code <= 299:
            return response
        raise api_error_from_response(
            response, exchange.body, service=self.service, redactor=self.redactor(),
            hints=hints, retry_after=retry_after_seconds(response.headers),
        )

    def _follow(
        self, method: str, url: str, payload: _Payload, budget: CallBudget
    ) -> _wire.Exchange:
        """Send, following same-origin redirects of a GET (never a write's)."""
        exchange = self._send(method, url, payload, budget)
        redirects = 0
        while 300 <= exchange.response.status_code <= 399:
            if redirects == MAX_REDIRECTS:
                raise self.unexpected(method, url, f"was redirected {MAX_REDIRECTS} times "
                                      "and still not answered", response=exchange.response)
            url = self._redirect_target(method, url, exchange)
            # The target's own query; a GET has no body to carry over.
            exchange = self._send(method, url, _Payload({}, None, None), budget)
            redirects += 1
        return exchange

    def _redirect_target(self, method: str, url: str, exchange: _wire.Exchange) -> str:
        status = exchange.response.status_code
        location = exchange.response.headers.get("Location")
        if not location:
            raise self.unexpected(method, url, f"answered {status} without a Location",
                                  response=exchange.response)
        target = urljoin(url, location)
        if _origin(target) != _origin(self.base_url):
            raise self.unexpected(
                method, url,
                f"answered {status}, a redirect to {_shown_origin(target)}, which is not "
                f"{_shown_origin(self.base_url)}; the redirect was not followed and nothing "
                "was sent there",
                hint=f"check {self.url_setting or 'the base URL'}: it may need the address "
                f"the server redirects to, if you trust {_shown_origin(target)}",
                response=exchange.response,
            )
        if method not in _SAFE_METHODS:
            raise self.unexpected(
                method, url,
                f"answered {status}, a redirect to {path_of(target)}; a {method} is never "
                "sent again to a redirect target, so it may not have taken effect",
                hint=f"check {self.url_setting or 'the base URL'}",
                response=exchange.response,
            )
        return target

    def _send(
        self, method: str, url: str, payload: _Payload, budget: CallBudget
    ) -> _wire.Exchange:
        self.limiter.acquire()
        headers = {**self._headers, **self._auth.headers()}  # may fetch a token: same budget
        deadline = min(self.timeout.total, budget.remaining())
        if deadline <= 0:
            raise TransportError(
                f"{self.service}: {method} {urlsplit(url).path} was not sent: the call's "
                f"time budget ({budget.policy.max_elapsed:g} s, RetryPolicy.max_elapsed) is "
                "spent. What to do: retry later, or allow more time.",
                method=method, url=url, request_sent=False,
            )
        budget.spend()
        started = self._clock()
        failure: LuccaCardsError | None = None
        try:
            exchange = _wire.exchange(
                self.session, method, url, deadline=deadline,
                max_bytes=self.max_response_bytes, params=payload.query, json=payload.json,
                data=payload.form, headers=headers,
                timeout=(self.timeout.connect, self.timeout.read),
            )
        except _wire.DeadlineExceededError:
            failure = self._too_slow(method, url, deadline)
        except _wire.BodyTooLargeError as too_large:
            failure = self.unexpected(
                method, url, f"answered with more than {too_large.limit:,} bytes; reading "
                "stopped there", hint="raise max_response_bytes if this answer is expected")
        except requests.exceptions.InvalidJSONError as exc:
            failure = ValidationError(
                f"{self.service}: {method} {urlsplit(url).path} was not sent: its body cannot "
                f"be written as JSON ({type(exc.__context__ or exc).__name__}). What to do: "
                "pass plain strings, numbers, booleans, lists and dicts.",
                method=method, url=url)
        except _EXCHANGE_FAILURES as exc:
            failure = transport_error(exc, self.service, method, url, self.url_setting)
        if failure is not None:
            raise failure  # outside the except block: no foreign exception in its chain
        # The path only: query strings can carry people's emails (filters).
        log.debug("%s %s -> %s in %.3fs", method, urlsplit(url).path,
                  exchange.response.status_code, self._clock() - started)
        return exchange

    def _too_slow(self, method: str, url: str, deadline: float) -> TransportError:
        return TransportError(
            f"{self.service}: {method} {urlsplit(url).path} took longer than {deadline:g} s "
            "in all and was cut off (Timeout.total, or what was left of the call's "
            "RetryPolicy.max_elapsed). What to do: retry later; the server is answering "
            "too slowly.",
            method=method, url=url, request_sent=True,
        )

    # -- reading answers ---------------------------------------------------------------

    def unexpected(
        self,
        method: str,
        url: str,
        problem: str,
        *,
        hint: str | None = None,
        response: requests.Response | None = None,
    ) -> UnexpectedResponseError:
        """Build the redacted error for an answer the SDK cannot use.

        The message names the API, the request and ``problem``, and says what to do.
        """
        if "://" not in url:
            url = urljoin(self.base_url, url.lstrip("/"))
        return unreadable(self.redactor(), self.service, method, url, problem,
                          hint=hint, response=response)

    def parse(self, method: str, url: str, build: Callable[[], T]) -> T:
        """Run ``build`` (a model reading the answer); a refusal names the endpoint.

        Raises:
            UnexpectedResponseError: the answer is not of the shape the model expects.
        """
        try:
            return build()
        except ValidationError as error:
            problem = f"answered with data the SDK cannot read ({without_advice(str(error))})"
        raise self.unexpected(method, url, problem)  # outside the except: a clean chain


@attrs.define
class _Payload:
    """What one call sends on every attempt (and whether its credentials were renewed)."""

    query: Mapping[str, str]
    json: Any
    form: Mapping[str, str] | None
    refreshed: bool = False


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` with the default port filled in; ``None`` if unreadable."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def _shown_origin(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.netloc.rpartition("@")[2] or "?")[:100]
    return f"{parts.scheme}://{host}" if parts.scheme else repr(url[:100])
