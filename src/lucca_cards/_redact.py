"""Keep credentials out of everything an error carries: texts, URLs, bodies, the response.

A server may echo the request in its error body (the token request's form, the
``Authorization`` header, the query), so masking the request's headers is not enough: every
text an error keeps goes through a :class:`Redactor` that knows the client's secrets and
masks them in every spelling they can take on the wire (raw, percent-encoded, form-encoded,
JSON-escaped). The response an error keeps is a copy built from redacted parts; the
original, with its live request and connection, is never kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import requests
from requests.structures import CaseInsensitiveDict

MASK = "********"
#: Query parameters whose values are masked whatever they hold.
_SENSITIVE_QUERY_WORDS = ("token", "secret", "key", "password", "signature")
#: Request headers that only ever hold credentials.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


def redact_url(url: str) -> str:
    """Mask the values of query parameters whose names suggest a secret.

    >>> redact_url("https://h/x?limit=10&access_token=abc")
    'https://h/x?limit=10&access_token=%2A%2A%2A'
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, "***" if any(w in k.lower() for w in _SENSITIVE_QUERY_WORDS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=",[]!.")))


class Redactor:
    """Masks known secret values, in every spelling they take on the wire.

    >>> Redactor(["s3cr+t/1"]).text("client_secret=s3cr%2Bt%2F1&x=s3cr+t/1")
    'client_secret=********&x=********'
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        spellings: set[str] = set()
        for secret in secrets:
            if secret:
                spellings.update(_spellings(secret))
        # Longest first, so that a secret containing another is masked whole.
        self._spellings = sorted(spellings, key=len, reverse=True)

    def text(self, value: str) -> str:
        """Return ``value`` with every secret masked."""
        for spelling in self._spellings:
            if spelling in value:
                value = value.replace(spelling, MASK)
        return value

    def optional(self, value: str | None) -> str | None:
        """Return ``None`` as it is, any text masked."""
        return None if value is None else self.text(value)

    def data(self, value: bytes) -> bytes:
        """Return bytes with every (UTF-8) secret masked."""
        mask = MASK.encode()
        for spelling in self._spellings:
            encoded = spelling.encode("utf-8", "surrogatepass")
            if encoded in value:
                value = value.replace(encoded, mask)
        return value

    def url(self, url: str) -> str:
        """Return ``url`` with secret-looking query values and known secrets masked."""
        return self.text(redact_url(url))

    def response(self, response: requests.Response, body: bytes) -> requests.Response:
        """Return a detached copy of ``response`` whose every part is redacted.

        The copy holds no connection and no live request; its ``request`` is a redacted
        copy too (credential headers masked, body masked), so it can be logged, pickled or
        shown whole.
        """
        copy = requests.Response()
        copy.status_code = response.status_code
        copy.reason = self.text(response.reason or "")
        copy.url = self.url(response.url or "")
        copy.encoding = response.encoding
        copy.headers = self._headers(response.headers)
        copy._content = self.data(body)
        copy._content_consumed = True  # type: ignore[attr-defined]
        copy.elapsed = response.elapsed
        if response.request is not None:
            copy.request = self._request(response.request)
        return copy

    def _headers(self, headers: Mapping[str, str]) -> CaseInsensitiveDict[str]:
        masked: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in headers.items():
            credential = str(name).lower() in _CREDENTIAL_HEADERS
            masked[str(name)] = MASK if credential else self.text(str(value))
        return masked

    def _request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        copy = requests.PreparedRequest()
        copy.method = request.method
        copy.url = self.url(request.url or "")
        copy.headers = self._headers(request.headers)
        body = request.body
        if isinstance(body, bytes):
            copy.body = self.data(body)
        elif isinstance(body, str):
            copy.body = self.text(body)
        return copy


def _spellings(secret: str) -> set[str]:
    """Every form ``secret`` takes in a URL, a form body, a JSON string or PHP's JSON."""
    escaped = json.dumps(secret)[1:-1]
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret),
        escaped,
        escaped.replace("/", "\\/"),
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
