"""Read an error answer, in any of the three APIs' dialects, into its typed :class:`ApiError`.

Lucca's API speaks problem+json (``title``, ``detail``, ``errors``, ``extensions.traceId``),
the legacy API ``{"Message": …}``, Cards Laravel's ``{"message", "errors"}``, the token
endpoint OAuth's ``error``/``error_description``. Whatever the dialect, the error keeps
only redacted text: the server may have echoed the request, credentials included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from ._redact import Redactor
from .errors import ApiError, error_class_for, sentence

#: How much of a body that is not JSON is quoted in a message.
BODY_EXCERPT = 500
#: How many field errors a message lists (all are kept on ``error.errors``).
_ERRORS_SHOWN = 10

_DEFAULT_HINTS: dict[int, str] = {
    400: "the request was rejected as malformed; see the errors for the fields at fault",
    401: "check the credentials",
    403: "the credentials lack the right to do this",
    404: "check the id; the resource may be deleted or hidden from these credentials",
    408: "the server timed out; retry later",
    422: "the server refused the values; see the errors for the fields at fault",
    429: "the rate limit is exhausted; lower requests_per_minute or retry later",
}


def api_error_from_response(
    response: requests.Response,
    body: bytes,
    *,
    service: str,
    redactor: Redactor,
    hints: Mapping[int, str] | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """Build the typed, redacted error of an error answer.

    ``service`` names the API in the message ("Lucca API", "Cards API"); ``hints`` maps a
    status to what the user should do, overriding the generic advice.
    """
    status = response.status_code
    method = (response.request.method if response.request is not None else None) or ""
    url = redactor.url(response.url or "")
    text = redactor.text(body.decode("utf-8", "replace"))
    payload = _json_or_none(text)
    server_message, errors = _server_message(payload, text)
    request_id = redactor.optional(_request_id(response, payload))
    hint = (
        (hints or {}).get(status)
        or _DEFAULT_HINTS.get(status)
        or ("the service failed; retry later" if status >= 500 else "see the response body")
    )
    reason = redactor.text(response.reason or "")[:100]
    what = f"{service}: {method} {path_of(url)} failed with {status} {reason}"
    message = sentence(
        what.rstrip() + (f": {server_message}" if server_message else "") + _listed(errors),
        f"What to do: {hint}",
    )
    if request_id:
        message += f" [request id {request_id}]"
    return error_class_for(status)(
        message,
        status=status,
        method=method,
        url=url,
        request_id=request_id,
        server_message=server_message,
        errors=errors,
        body=text,
        response=redactor.response(response, body),
        retry_after=retry_after,
    )


def path_of(url: str) -> str:
    """Return the path and query of ``url`` (what a message shows of a request)."""
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, "")) or url


def _listed(errors: Mapping[str, list[str]]) -> str:
    if not errors:
        return ""
    shown = list(errors.items())[:_ERRORS_SHOWN]
    more = len(errors) - len(shown)
    listed = "; ".join(f"{k}: {' '.join(v)}" for k, v in shown)
    return f" ({listed}{f'; and {more} more' if more else ''})"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None


def _server_message(payload: Any, body: str) -> tuple[str | None, dict[str, list[str]]]:
    """Read the message and field errors of problem+json, legacy and Laravel bodies."""
    if not isinstance(payload, dict):
        excerpt = body.strip()[:BODY_EXCERPT]
        return (excerpt or None), {}
    parts = [
        _short_text(payload[key])
        for key in ("title", "detail", "Message", "message", "error_description", "error")
        if isinstance(payload.get(key), (str, int, float)) and payload.get(key)
    ]
    errors: dict[str, list[str]] = {}
    raw_errors = payload.get("errors")
    if isinstance(raw_errors, dict):
        for field, messages in raw_errors.items():
            items = messages if isinstance(messages, list) else [messages]
            errors[_short_text(field)] = [_short_text(m) for m in items]
    return (" - ".join(dict.fromkeys(parts)) or None), errors


def _short_text(value: Any) -> str:
    """Return a server value as text for a message, cut to a readable length."""
    if isinstance(value, str):
        return value[:BODY_EXCERPT]
    try:
        return json.dumps(value, default=str)[:BODY_EXCERPT]
    except (RecursionError, ValueError, TypeError):  # absurdly nested: say what it is
        return f"({type(value).__name__})"


def _request_id(response: requests.Response, payload: Any) -> str | None:
    for header in ("X-Request-Id", "X-Correlation-Id", "Request-Id", "X-Trace-Id"):
        if response.headers.get(header):
            return str(response.headers[header])[:200]
    if isinstance(payload, dict):
        extensions = payload.get("extensions")
        if isinstance(extensions, dict) and isinstance(extensions.get("traceId"), str):
            return str(extensions["traceId"])[:200]
        if isinstance(payload.get("traceId"), str):
            return str(payload["traceId"])[:200]
    return None
