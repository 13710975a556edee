"""One exception hierarchy for every API the SDK talks to.

.. code-block:: text

    LuccaCardsError
    ├── ConfigurationError        a setting is missing or invalid
    ├── TransportError            no HTTP answer: connection refused/reset, timeout
    └── ApiError                  the server answered with an error status
        ├── AuthenticationError   401
        ├── PermissionDeniedError 403
        ├── NotFoundError         404
        ├── ValidationError       400, 422 (and malformed webhook payloads)
        ├── RateLimitError        429, once retries are spent
        └── ServerError           5xx, once retries are spent

Every message says what failed and what to do, and never contains a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

_SENSITIVE_QUERY_WORDS = ("token", "secret", "key", "password", "signature")
_BODY_EXCERPT = 500


class LuccaCardsError(Exception):
    """Base class of every error the SDK raises."""


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


class ValidationError(ApiError):
    """400 or 422: the request (or a payload) was malformed or invalid."""


class RateLimitError(ApiError):
    """429: the rate limit was still exceeded after every retry."""


class ServerError(ApiError):
    """5xx: the server failed, and kept failing through every retry."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
}

_DEFAULT_HINTS: dict[int, str] = {
    400: "the request was rejected as malformed; see the errors for the fields at fault",
    401: "check the credentials",
    403: "the credentials lack the right to do this",
    404: "check the id; the resource may be deleted or hidden from these credentials",
    408: "the server timed out; retry later",
    422: "the server refused the values; see the errors for the fields at fault",
    429: "the rate limit is exhausted; lower requests_per_minute or retry later",
}


def error_class_for(status: int) -> type[ApiError]:
    """Return the :class:`ApiError` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


def api_error_from_response(
    response: requests.Response,
    *,
    service: str,
    hints: Mapping[int, str] | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """Build the typed error for an error response, in any of the three API dialects.

    ``service`` names the API in the message ("Lucca API", "Cards API"); ``hints`` maps a
    status to what the user should do, overriding the generic advice.
    """
    _mask_credentials(response)
    status = response.status_code
    method = (response.request.method if response.request is not None else None) or ""
    url = redact_url(response.url or "")
    body = response.text or ""
    payload = _json_or_none(body)
    server_message, errors = _server_message(payload, body)
    request_id = _request_id(response, payload)
    hint = (
        (hints or {}).get(status)
        or _DEFAULT_HINTS.get(status)
        or ("the service failed; retry later" if status >= 500 else "see the response body")
    )
    text = (
        f"{service}: {method} {_path_of(url)} failed with {status} {response.reason or ''}".rstrip()
    )
    if server_message:
        text += f": {server_message}"
    if errors:
        text += " (" + "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()) + ")"
    text += f". What to do: {hint}."
    if request_id:
        text += f" [request id {request_id}]"
    return error_class_for(status)(
        text,
        status=status,
        method=method,
        url=url,
        request_id=request_id,
        server_message=server_message,
        errors=errors,
        body=body,
        response=response,
        retry_after=retry_after,
    )


def _mask_credentials(response: requests.Response) -> None:
    """Mask the credentials of the request the error keeps (``error.response.request``).

    The request has been sent; its ``Authorization`` header is of no further use, and an
    error object is often logged or inspected whole.
    """
    request = response.request
    if request is None:
        return
    for header in ("Authorization", "Cookie", "Proxy-Authorization"):
        if header in request.headers:
            request.headers[header] = "********"


def redact_url(url: str) -> str:
    """Mask the values of query parameters whose names suggest a secret."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, "***" if any(w in k.lower() for w in _SENSITIVE_QUERY_WORDS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=",[]!.")))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, "")) or url


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _server_message(payload: Any, body: str) -> tuple[str | None, dict[str, list[str]]]:
    """Read the message and field errors of problem+json, legacy and Laravel bodies."""
    if not isinstance(payload, dict):
        text = body.strip()
        return (text[:_BODY_EXCERPT] or None), {}
    parts = [
        str(payload[key])
        for key in ("title", "detail", "Message", "message", "error_description", "error")
        if payload.get(key)
    ]
    raw_errors = payload.get("errors")
    errors: dict[str, list[str]] = {}
    if isinstance(raw_errors, dict):
        for field, messages in raw_errors.items():
            if isinstance(messages, list):
                errors[str(field)] = [str(m) for m in messages]
            else:
                errors[str(field)] = [str(messages)]
    return (" - ".join(dict.fromkeys(parts)) or None), errors


def _request_id(response: requests.Response, payload: Any) -> str | None:
    for header in ("X-Request-Id", "X-Correlation-Id", "Request-Id", "X-Trace-Id"):
        if response.headers.get(header):
            return str(response.headers[header])
    if isinstance(payload, dict):
        extensions = payload.get("extensions")
        if isinstance(extensions, dict) and extensions.get("traceId"):
            return str(extensions["traceId"])
        if payload.get("traceId"):
            return str(payload["traceId"])
    return None
