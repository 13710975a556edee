"""The one transport every client uses: session, timeouts, auth, throttling, retries, errors.

A client builds one :class:`Transport` for its API and asks it for JSON. The transport
owns the :class:`requests.Session` (connection pooling), the per-host
:class:`~lucca_cards._ratelimit.RateLimiter`, the retries of
:mod:`lucca_cards._retry`, the mapping of error statuses to
:mod:`lucca_cards.errors`, and the one-time credential refresh on a 401.
Nothing here logs a header or a body, so secrets never reach a log.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import attrs
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ._ratelimit import Clock, RateLimiter, Sleep
from ._retry import RetryPolicy, call_with_retries
from ._version import __version__
from .errors import ApiError, TransportError, api_error_from_response

log = logging.getLogger("lucca_cards.http")

USER_AGENT = f"lucca-cards/{__version__}"
Params = Mapping[str, str | int | float | bool | None]


@attrs.frozen
class Timeout:
    """Per-request timeouts in seconds: to open the connection, and between bytes read."""

    connect: float = 5.0
    read: float = 30.0


class Auth(Protocol):
    """How a client authenticates; the transport asks it for headers on every attempt."""

    def headers(self) -> Mapping[str, str]:
        """Return the authentication headers for the next request."""

    def refresh(self) -> bool:
        """Renew the credentials after a 401; ``True`` if a retry may now succeed."""


@attrs.frozen(repr=False)
class HeaderAuth:
    """Fixed credentials sent as headers (an API key); a 401 cannot be cured by retrying."""

    _headers: Mapping[str, str] = attrs.field(alias="headers")

    def headers(self) -> Mapping[str, str]:
        """Return the fixed headers."""
        return self._headers

    def refresh(self) -> bool:
        """Refuse: an API key cannot be renewed, so a 401 is never retried."""
        return False

    def __repr__(self) -> str:
        return f"HeaderAuth(headers=[{', '.join(self._headers)}])"


class Transport:
    """Sends requests to one API (one base URL) for one client.

    Args:
        base_url: the API root; relative paths are joined to it, and absolute URLs (paging
            links) must stay on its scheme and host, so credentials never leave it.
        service: the API's name in error messages ("Lucca API").
        auth: the credentials.
        limiter: the throttle (usually the host's shared one).
        headers: headers sent on every request (``Api-Version``, ``X-Tenant`` …).
        hints: status → what the user should do, for error messages.
        retry, timeout: see :class:`~lucca_cards._retry.RetryPolicy` and :class:`Timeout`.
        clock, sleep: injectable, so tests never wait.
        session: an existing :class:`requests.Session` to use (and not to close).
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
        self.session = session or _new_session()

    def __repr__(self) -> str:
        return f"Transport({self.service!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections (if the transport created the session)."""
        if self._owns_session:
            self.session.close()

    def url_for(self, path_or_url: str) -> str:
        """Resolve ``path_or_url`` against the base URL, refusing other hosts."""
        url = (
            urljoin(self.base_url, path_or_url.lstrip("/"))
            if "://" not in path_or_url
            else path_or_url
        )
        here, there = urlsplit(self.base_url), urlsplit(url)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise TransportError(
                f"{self.service}: refusing to send credentials to {there.scheme}://"
                f"{there.netloc}, which is not {here.scheme}://{here.netloc}",
                method="GET",
                url=url,
                request_sent=False,
            )
        return url

    def request_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send a request and return its decoded JSON body (``None`` for an empty body).

        ``idempotent`` defaults to ``True`` for GET, PUT, DELETE and HEAD; a request that
        is not idempotent is retried only when it cannot have taken effect.
        """
        response = self.request(
            method, path_or_url, params=params, json=json, form=form, idempotent=idempotent
        )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"{self.service}: {method} {urlsplit(response.url).path} answered "
                f"{response.status_code} with a body that is not JSON. What to do: check "
                "the base URL points at the API, not at a web page.",
                status=response.status_code,
                method=method,
                url=response.url,
                body=response.text,
                response=response,
            ) from None

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send a request with throttling, retries and error mapping; return the response."""
        method = method.upper()
        url = self.url_for(path_or_url)
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        refreshed = False

        def attempt() -> requests.Response:
            nonlocal refreshed
            response = self._send(method, url, query, json, form)
            if response.status_code == 401 and not refreshed and self._auth.refresh():
                refreshed = True
                response = self._send(method, url, query, json, form)
            if response.status_code >= 400:
                raise api_error_from_response(
                    response,
                    service=self.service,
                    hints=self._hints,
                    retry_after=retry_after_seconds(response),
                )
            return response

        if idempotent is None:
            idempotent = method in {"GET", "PUT", "DELETE", "HEAD"}
        response: requests.Response = call_with_retries(
            attempt,
            policy=self.retry,
            idempotent=idempotent,
            clock=self._clock,
            sleep=self._sleep,
            describe=f"{self.service} {method} {urlsplit(url).path}",
        )
        return response

    def _send(
        self,
        method: str,
        url: str,
        query: Mapping[str, str],
        json: Any,
        form: Mapping[str, str] | None,
    ) -> requests.Response:
        self.limiter.acquire()
        headers = {**self._headers, **self._auth.headers()}
        started = self._clock()
        try:
            response = self.session.request(
                method,
                url,
                params=query,
                json=json,
                data=form,
                headers=headers,
                timeout=(self.timeout.connect, self.timeout.read),
            )
        except requests.RequestException as exc:
            raise _transport_error(exc, self.service, method, url) from None
        # The path only: query strings can carry people's emails (filters).
        log.debug(
            "%s %s -> %s in %.3fs",
            method,
            urlsplit(url).path,
            response.status_code,
            self._clock() - started,
        )
        return response


def retry_after_seconds(response: requests.Response) -> float | None:
    """Parse ``Retry-After`` (seconds, or an HTTP date measured against the ``Date`` header)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    server_now = response.headers.get("Date")
    now = (
        email.utils.parsedate_to_datetime(server_now) if server_now else datetime.now(timezone.utc)
    )
    return max((when - now).total_seconds(), 0.0)


def _transport_error(
    exc: requests.RequestException, service: str, method: str, url: str
) -> TransportError:
    never_sent = isinstance(exc, requests.ConnectTimeout) or _connection_never_opened(exc)
    if isinstance(exc, requests.Timeout):
        what = "timed out connecting" if never_sent else "timed out waiting for the answer"
    elif never_sent:
        what = "could not connect"
    else:
        what = "lost the connection"
    return TransportError(
        f"{service}: {method} {urlsplit(url).path} {what} ({type(exc).__name__}). What to "
        "do: check the URL and the network; the request was retried where that was safe.",
        method=method,
        url=url,
        request_sent=not never_sent,
    )


def _connection_never_opened(exc: BaseException) -> bool:
    """Tell whether the error chain shows the TCP connection was never established."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, (NewConnectionError, ConnectTimeoutError)):
            return True
        reason = getattr(seen, "reason", None)
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = reason if isinstance(reason, BaseException) else nested
    return False


def _query_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _new_session() -> requests.Session:
    session = requests.Session()
    # The transport retries by itself; urllib3 must not retry behind its back.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
