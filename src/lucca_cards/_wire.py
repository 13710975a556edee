"""One exchange on the wire, bounded in time and in size, never redirected.

``requests`` bounds the wait for each read, not the whole answer: a server dripping a
byte every half second keeps a 30 s read timeout happy for ever. So every exchange runs
under a :class:`_Watch`: a timer that, when the exchange's deadline passes, shuts down the
socket the exchange is using, which ends any blocked read at once. The pool classes below
tell the watch which connection its exchange took from the pool (and forget it when the
connection goes back, so a late timer can never cut another exchange's connection).

The body is read in chunks and abandoned past ``max_bytes``, so memory stays bounded
whatever the server sends. Redirects are never followed here: the transport decides.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import attrs
import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ._proxies import EnvironmentSession
from ._watchdog import WATCHDOG

#: How often an expired watch looks again for a socket still being opened.
_RECHECK = 0.05
_CHUNK = 64 * 1024


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Timeout.{attribute.name} must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"Timeout.{attribute.name} must be a positive number of seconds")


@attrs.frozen
class Timeout:
    """Timeouts in seconds.

    Attributes:
        connect: to open the connection.
        read: the longest silence between two bytes of the answer.
        total: the most one exchange (send, then read the whole answer) may take, however
            the server paces its bytes; a retry gets a new one, within the call's
            :attr:`~lucca_cards.RetryPolicy.max_elapsed`.
    """

    connect: float = attrs.field(default=5.0, validator=_positive)
    read: float = attrs.field(default=30.0, validator=_positive)
    total: float = attrs.field(default=120.0, validator=_positive)


class DeadlineExceededError(Exception):
    """The exchange outlived its deadline and its connection was cut."""


class BodyTooLargeError(Exception):
    """The answer was larger than allowed; reading stopped there."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


@attrs.frozen
class Exchange:
    """What came back: the response (status, headers) and its whole body."""

    response: requests.Response
    body: bytes


class _Watch:
    """Cuts the connection of one exchange when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._conn: Any = None
        self._sock: socket.socket | None = None
        self._done = False
        self.expired = False
        self._timer = WATCHDOG.schedule(seconds, self._expire)

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conn, self._sock = conn, getattr(conn, "sock", None)
            conn._lucca_cards_watch = self

    def opened(self, conn: Any) -> None:
        # http.client lets go of the socket (conn.sock = None) as soon as the headers of
        # an answer that closes the connection are read, so the watch keeps its own hold.
        with self._lock:
            if self._conn is conn:
                self._sock = getattr(conn, "sock", None)

    def detach(self, conn: Any) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = self._sock = None

    def _expire(self) -> float | None:
        with self._lock:
            if self._done:
                return None
            self.expired = True
            if self._sock is None:
                # The connection is still being opened (or not taken yet): its connect
                # timeout bounds that; look again shortly.
                return _RECHECK
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also for TLS: it ends a blocked read in the
                # other thread without touching the TLS state that thread is using.
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            return None

    def close(self) -> None:
        with self._lock:
            self._done = True
            self._timer.cancel()


_ACTIVE: ContextVar[_Watch | None] = ContextVar("lucca_cards_watch", default=None)


def _attach(conn: Any) -> None:
    watch = _ACTIVE.get()
    if watch is None:
        return
    watch.attach(conn)
    if not getattr(conn, "_lucca_cards_connect", None):
        # Wrapped on the instance, not by subclassing the connection class: test recorders
        # (vcrpy) replace that class, and must keep doing so.
        connect = conn.connect

        def watched_connect() -> None:
            connect()
            current = getattr(conn, "_lucca_cards_watch", None)
            if current is not None:
                current.opened(conn)

        conn.connect = watched_connect
        conn._lucca_cards_connect = True


def _detach(conn: Any) -> None:
    watch = getattr(conn, "_lucca_cards_watch", None)
    if watch is not None:
        watch.detach(conn)


class _Watched:
    """Pool behaviour: tell the exchange's watch which connection it took.

    The watch forgets the connection when it goes back to the pool, so a late timer can
    never cut another exchange's connection.
    """

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        _attach(conn)
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            _detach(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _WatchedHTTPPool(_Watched, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, HTTPSConnectionPool):
    pass


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose pools report their connections to the exchange's watch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def new_session() -> requests.Session:
    """Return a pooled session whose connections can be cut at a deadline.

    It honours the environment's proxies and CA bundle as ``requests`` does, read once
    per origin, and never ``~/.netrc`` (:class:`~lucca_cards._proxies.EnvironmentSession`).
    """
    session = EnvironmentSession()
    # The transport retries by itself; urllib3 must not retry behind its back.
    adapter = _WatchedAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@contextlib.contextmanager
def _watched(seconds: float) -> Iterator[_Watch]:
    watch = _Watch(seconds)
    token = _ACTIVE.set(watch)
    try:
        yield watch
    finally:
        _ACTIVE.reset(token)
        watch.close()


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    deadline: float,
    max_bytes: int,
    **request: Any,
) -> Exchange:
    """Send one request and read its whole answer within ``deadline`` seconds.

    ``request`` goes to :meth:`requests.Session.request` (params, json, data, headers,
    timeout). Redirects are not followed.

    Raises:
        DeadlineExceededError: the deadline passed; the connection was cut.
        BodyTooLargeError: the body is larger than ``max_bytes`` (reading stopped there).
        requests.RequestException: the connection failed or timed out.
    """
    with _watched(deadline) as watch:
        try:
            response = session.request(
                method, url, stream=True, allow_redirects=False, **request
            )
            try:
                body = _read(response, max_bytes)
            finally:
                response.close()
        except requests.RequestException:
            if watch.expired:
                raise DeadlineExceededError() from None
            raise
        if watch.expired:
            raise DeadlineExceededError()
    return Exchange(response, body)


def _read(response: requests.Response, max_bytes: int) -> bytes:
    declared = _declared_length(response.headers)
    if declared is not None and declared > max_bytes:
        raise BodyTooLargeError(max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError(max_bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    # What requests would have stored had it read the body itself: .content, .text and
    # .json() work on the response as usual.
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]
    return body


def _declared_length(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers.get("Content-Length", ""))
    except ValueError:
        return None
