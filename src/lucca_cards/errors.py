"""One exception hierarchy for every API the SDK talks to.

.. code-block:: text

    LuccaCardsError
    ├── ConfigurationError        a setting is missing or invalid
    ├── TransportError            no HTTP answer: connection refused/reset, timeout
    └── ApiError                  the server answered with an error status
        ├── AuthenticationError   401
        ├── PermissionDeniedError 403
        ├── NotFoundError         404
        ├── ValidationError       400, 422 (and malformed webhook payloads, refused arguments)
        ├── RateLimitError        429, once retries are spent
        ├── ServerError           5xx, once retries are spent
        └── UnexpectedResponseError  an answer the SDK cannot use (shape, size, redirect …)

Every message says what failed and what to do, and never contains a secret: not in its
text, its attributes, the response it keeps, or its chain of causes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from ._redact import redact_url


class LuccaCardsError(Exception):
    """Base class of every error the SDK raises.

    Every error pickles and unpickles whole (its message and attributes), so it can cross
    a process boundary (a worker pool, a task queue) without losing what it says.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[LuccaCardsError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Recreate an error without calling its ``__init__`` (whose signature varies)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(LuccaCardsError):
    """A setting is missing or invalid; ``setting`` names it.

    >>> raise ConfigurationError("lucca_url", "must start with https://")
    Traceback (most recent call last):
    ...
    lucca_cards.errors.ConfigurationError: lucca_url: must start with https://
    """

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class TransportError(LuccaCardsError):
    """The request got no HTTP answer (connection refused or reset, DNS, timeout).

    ``request_sent`` is ``False`` only when the connection never opened, so the server
    cannot have acted on the request; otherwise it may have.
    """

    def __init__(self, message: str, *, method: str, url: str, request_sent: bool) -> None:
        self.method = method
        self.url = redact_url(url)
        self.request_sent = request_sent
        super().__init__(message)


class ApiError(LuccaCardsError):
    """The server answered with an error status.

    Attributes:
        status: the HTTP status code (``None`` for a payload that is not an HTTP answer,
            such as a malformed webhook body).
        method, url: the request that failed (secret query values masked).
        request_id: the server's request or trace id, to quote to its support.
        message: the server's own message, parsed from whichever dialect it speaks
            (problem+json ``title``/``detail``, legacy ``Message``, Laravel ``message``).
        errors: per-field validation messages (``{"email": ["The email has already
            been taken."]}``).
        body: the raw response body (truncated to 500 characters in messages only).
        response: the :class:`requests.Response`, for anything else.
        retry_after: seconds the server asked to wait, when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        url: str = "",
        request_id: str | None = None,
        server_message: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        body: str = "",
        response: requests.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = redact_url(url)
        self.request_id = request_id
        self.message = server_message
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.body = body
        self.response = response
        self.retry_after = retry_after


class AuthenticationError(ApiError):
    """401: the credentials were refused."""


class PermissionDeniedError(ApiError):
    """403: the credentials lack a right or a scope."""


class NotFoundError(ApiError):
    """404: no such resource, or not visible to these credentials."""


class ValidationError(ApiError, ValueError):
    """400 or 422: the request (or a payload, or an argument) was malformed or invalid.

    It is also a :class:`ValueError`: an argument the SDK refuses before sending anything
    (``errors`` names it) can be caught either way.
    """


class RateLimitError(ApiError):
    """429: the rate limit was still exceeded after every retry."""


class ServerError(ApiError):
    """5xx: the server failed, and kept failing through every retry."""


class UnexpectedResponseError(ApiError):
    """The server answered something the SDK cannot use, and it is not the caller's fault.

    A body that is not JSON or not of the documented shape, an answer larger than the
    configured limit, a redirect (never followed to another host, never followed by a
    write), a status HTTP does not define, or paging that does not advance. The message
    names the endpoint and what was wrong; retrying does not help.
    """


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[ApiError]:
    """Return the :class:`ApiError` subclass for an HTTP status."""
    if 500 <= status <= 599:
        return ServerError
    if not 400 <= status <= 499:
        return UnexpectedResponseError
    return _BY_STATUS.get(status, ApiError)


def sentence(*parts: str) -> str:
    """Join parts into sentences, each ending with exactly one full stop.

    >>> sentence("It failed: bad key.", "What to do: check it.")
    'It failed: bad key. What to do: check it.'
    """
    kept = [part.strip().rstrip(".").rstrip() for part in parts if part and part.strip()]
    return " ".join(f"{part}." for part in kept if part)


def without_advice(message: str) -> str:
    """Return a message without its closing "What to do: …" (to quote it in another).

    >>> without_advice("It failed: bad key. What to do: check it.")
    'It failed: bad key'
    """
    return message.split(" What to do:")[0].rstrip().rstrip(".")
