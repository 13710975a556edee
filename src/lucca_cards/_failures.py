"""The errors of an exchange that got no usable answer: what happened, where, what to do.

A connection failure names the host and the setting that holds its address
(``LUCCA_TOKEN_URL``, ``LUCCA_URL``, ``CARDS_URL``), and tells a name that does not
resolve from a refused connection, a timeout and a lost connection. An answer the SDK
cannot use (shape, size, redirect) becomes a redacted
:class:`~lucca_cards.errors.UnexpectedResponseError`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from ._redact import Redactor
from ._server_errors import path_of
from .errors import TransportError, UnexpectedResponseError, sentence


def transport_error(
    exc: BaseException, service: str, method: str, url: str, url_setting: str
) -> TransportError:
    """Describe an exchange that failed without an answer (built from ``exc``, not chained)."""
    chain = list(_causes(exc))
    never_sent = isinstance(exc, requests.ConnectTimeout) or any(
        isinstance(e, (NewConnectionError, ConnectTimeoutError)) for e in chain
    )
    parts = urlsplit(url)
    host = parts.hostname or "?"
    where = f"{host}:{parts.port}" if parts.port else host
    if any(isinstance(e, (NameResolutionError, socket.gaierror)) for e in chain):
        what = f"could not find the host {host} (the name does not resolve)"
    elif isinstance(exc, requests.Timeout):
        what = (f"timed out connecting to {where}" if never_sent
                else "timed out waiting for the answer")
    elif any(isinstance(e, ConnectionRefusedError) for e in chain):
        what = f"could not connect to {where} (connection refused)"
    elif never_sent:
        what = f"could not connect to {where}"
    else:
        what = "lost the connection before the whole answer arrived"
    check = f"check {url_setting} and the network" if url_setting else (
        "check the URL and the network")
    return TransportError(
        sentence(f"{service}: {method} {parts.path} {what} ({type(exc).__name__})",
                 f"What to do: {check}; the request was retried where that was safe"),
        method=method,
        url=url,
        request_sent=not never_sent,
    )


def unreadable(
    redactor: Redactor,
    service: str,
    method: str,
    url: str,
    problem: str,
    *,
    hint: str | None = None,
    response: requests.Response | None = None,
) -> UnexpectedResponseError:
    """Build the redacted error for an answer (or a link) the SDK cannot use."""
    shown = redactor.url(url)
    text = sentence(
        redactor.text(f"{service}: {method} {path_of(shown)} {problem}"),
        f"What to do: {hint or 'check the base URL and the API version; retrying will not help'}",
    )
    kept = redactor.response(response, response.content) if response is not None else None
    return UnexpectedResponseError(
        text,
        status=response.status_code if response is not None else None,
        method=method,
        url=shown,
        body=kept.text if kept is not None else "",
        response=kept,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Walk what ``exc`` wraps: ``reason``, ``args[0]``, ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (getattr(current, "reason", None),
                       current.args[0] if current.args else None,
                       current.__cause__, current.__context__):
            if isinstance(nested, BaseException):
                todo.append(nested)
