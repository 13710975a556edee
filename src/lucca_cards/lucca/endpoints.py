"""Lucca webhook endpoints and events: where Lucca sends its events, and the events themselves.

A webhook endpoint tells Lucca to POST the events of some topics to a URL, signed with a
secret Lucca shows **once**, in the answer to the creation::

    lucca = LuccaOAuthClient.from_settings(settings, scopes="webhook-endpoints.readwrite")
    endpoint = lucca.webhook_endpoints.create("https://hooks.acme.example/lucca")
    print(endpoint.id, endpoint.secret.reveal())  # store it: LUCCA_WEBHOOK_SECRET

The OAuth client needs the ``webhook-endpoints.readwrite`` scope (granted to the API
client in Lucca's integration keys, then requested with ``scopes=``); listing events
needs ``events.readonly``. Read the events a delivery carries with
:mod:`lucca_cards.lucca.webhooks`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from .._http import Transport
from .._models import ApiModel, json_kind
from .._paging import Pager, RawPage, lucca_cursor_pages
from .._paths import segment
from .._secret import Secret
from ..errors import ValidationError
from .models import Reference
from .webhooks import LIFECYCLE_TOPICS, LuccaEvent

W = TypeVar("W", bound="WebhookEndpoint")
T = TypeVar("T")

#: The page size asked for: the largest the Lucca API serves.
PAGE_SIZE = 100
#: The scope to create and delete webhook endpoints (and to list them).
SCOPE = "webhook-endpoints.readwrite"
_HINTS = {
    403: f"the OAuth client lacks the {SCOPE} scope (or webhook-endpoints.readonly to "
    "read): grant it to the API client in Lucca's integration keys "
    "(https://{tenant}/identity/admin/integration-keys) and request it with scopes=",
    404: "no such webhook endpoint: check the id (lucca-cards lucca-webhooks list)",
}


@attrs.frozen(kw_only=True)
class WebhookEndpoint(ApiModel):
    """Where Lucca sends the events of some topics (``/lucca-api/webhook-endpoints``).

    Attributes:
        id: the endpoint's id.
        name: its name, as shown in Lucca.
        webhook_url: where Lucca POSTs the events.
        api_version: the API version of the events' ``data``.
        topics: the topics sent (``employee.created`` …).
        status: ``active``, ``suspended`` (too many failed deliveries; events are kept) or
            ``inactive`` (nothing sent or kept).
        business_establishments, business_establishment_ids: the establishments whose
            events are sent (empty: all those the API client may see).
        created_at, last_updated_at: timestamps (UTC).
        url: the endpoint's address in the Lucca API.
        secret: the signing secret: only in the answer to the creation, never in a repr;
            ``None`` otherwise.
    """

    id: str
    name: str | None = None
    webhook_url: str | None = None
    api_version: str | None = None
    topics: tuple[str, ...] = ()
    status: str | None = None
    business_establishments: tuple[Reference, ...] = ()
    created_at: datetime | None = None
    last_updated_at: datetime | None = None
    url: str | None = None
    secret: Secret | None = attrs.field(default=None, repr=False)

    @property
    def business_establishment_ids(self) -> tuple[str, ...]:
        """The ids of :attr:`business_establishments`."""
        return tuple(reference.id for reference in self.business_establishments)

    @classmethod
    def from_api(cls: type[W], data: Any) -> W:
        """Build the endpoint from the API's JSON object, its ``secret`` wrapped.

        Raises:
            ValidationError: the payload is not an endpoint, or its secret not a string.
        """
        if not isinstance(data, Mapping):
            return super().from_api(data)  # raises the usual refusal
        # Null lists mean none; the secret never stays in ``extra`` as plain text.
        rest = {key: value for key, value in data.items() if key != "secret" and not (
            key in ("topics", "businessEstablishments") and value is None)}
        endpoint = super().from_api(rest)
        secret = data.get("secret")
        if secret is None:
            return endpoint
        if not isinstance(secret, str) or not secret.strip():
            raise ValidationError(f"the endpoint's secret is {json_kind(secret)}, not a "
                                  "non-blank string")
        return attrs.evolve(endpoint, secret=Secret(secret))


def check_webhook_url(url: str) -> str:
    """Return ``url`` if Lucca may send events to it: ``https://``, or ``http://`` on loopback.

    Lucca itself takes only ``https``; plain ``http`` to a loopback host (``localhost``,
    ``127.0.0.1``, ``[::1]``) is for a local sandbox.

    Raises:
        ValidationError: another scheme, no host, a bad port, a fragment, or blanks or
            control characters.

    >>> check_webhook_url("http://127.0.0.1:8080/lucca")
    'http://127.0.0.1:8080/lucca'
    """
    if not isinstance(url, str):
        raise ValidationError(f"the webhook URL must be a string, not {json_kind(url)}",
                              errors={"webhook_url": ["must be a string"]})
    problem = None
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname or "", parts.port
    except ValueError:  # an unbalanced [ or a port that is no number
        parts, host = None, ""
    if parts is None or not host or any(ch.isspace() or ord(ch) < 32 for ch in url):
        problem = "must be an absolute URL such as https://hooks.example.com/lucca"
    elif parts.fragment:
        problem = "must not have a #fragment (it is never sent)"
    elif parts.scheme == "http" and not _loopback(host):
        problem = "must use https:// (http:// only for a loopback host such as 127.0.0.1)"
    elif parts.scheme not in ("https", "http"):
        problem = "must use https://"
    if problem:
        raise ValidationError(f"the webhook URL {problem}", errors={"webhook_url": [problem]})
    return url


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookEndpoints:
    """``/lucca-api/webhook-endpoints``: list, read, create and delete webhook endpoints.

    Needs the ``webhook-endpoints.readwrite`` scope (``.readonly`` to list and read).
    """

    path = "/lucca-api/webhook-endpoints"

    def __init__(self, transport: Transport, *, api_version: str) -> None:
        self._transport = transport
        self._api_version = api_version

    def __repr__(self) -> str:
        return f"WebhookEndpoints({self._transport.base_url.rstrip('/')}{self.path})"

    def list(self, *, status: str | None = None) -> Pager[WebhookEndpoint]:
        """List the endpoints (of every application, unless Lucca limits it), 100 a page.

        Args:
            status: ``active``, ``suspended`` or ``inactive``; ``None`` for all.
        """
        return _pager(self._transport, self.path, {"status": status},
                      lambda item, page: WebhookEndpoint.from_api(item))

    def get(self, endpoint_id: str | int) -> WebhookEndpoint:
        """Read one endpoint (without its secret: Lucca shows it only once).

        Raises:
            NotFoundError: no such endpoint, or not visible to the API client.
        """
        path = f"{self.path}/{segment(endpoint_id, where=f'GET {self.path}/{{id}}')}"
        return self._one("GET", path, self._transport.request_json("GET", path, hints=_HINTS))

    def create(
        self,
        url: str,
        *,
        name: str = "lucca-cards",
        topics: Sequence[str] = LIFECYCLE_TOPICS,
        api_version: str | None = None,
        business_establishment_ids: Sequence[str] | None = None,
    ) -> WebhookEndpoint:
        """Declare an endpoint; the answer holds its ``secret``, shown this once only.

        Sent once and never retried once it may have reached Lucca: a retry could declare
        a second endpoint, and every event would then arrive twice.

        Args:
            url: where Lucca will POST the events (see :func:`check_webhook_url`); Lucca
                first sends it an activation challenge (``GET url?echo=…``).
            name: the endpoint's name in Lucca.
            topics: the topics to receive (the life-cycle ones by default).
            api_version: the API version of the events' data (the client's by default).
            business_establishment_ids: only these establishments' events (all the API
                client may see by default).

        Raises:
            ValidationError: a refused argument (nothing is sent), or Lucca refused it.
            PermissionDeniedError: the OAuth client lacks ``webhook-endpoints.readwrite``.
        """
        body: dict[str, Any] = {
            "name": _text(name, "name"),
            "webhookUrl": check_webhook_url(url),
            "apiVersion": _text(api_version or self._api_version, "api_version"),
            "topics": _texts(topics, "topics"),
        }
        if business_establishment_ids is not None:
            ids = _texts(business_establishment_ids, "business_establishment_ids", empty=True)
            body["businessEstablishments"] = [{"id": each} for each in ids]
        answer = self._transport.request_json("POST", self.path, json=body,
                                              idempotent=False, hints=_HINTS)
        return self._one("POST", self.path, answer)

    def delete(self, endpoint_id: str | int) -> None:
        """Delete an endpoint: Lucca stops sending its events.

        Raises:
            NotFoundError: no such endpoint (already deleted, or never visible).
        """
        path = f"{self.path}/{segment(endpoint_id, where=f'DELETE {self.path}/{{id}}')}"
        self._transport.request("DELETE", path, hints=_HINTS)

    def _one(self, method: str, path: str, answer: Any) -> WebhookEndpoint:
        if not isinstance(answer, Mapping):
            raise self._transport.unexpected(method, path, "answered with "
                                             f"{json_kind(answer)}, not a JSON object")
        return self._transport.parse(method, path, lambda: WebhookEndpoint.from_api(answer))


class Events:
    """``/lucca-api/events``: the events of the last two months (scope ``events.readonly``)."""

    path = "/lucca-api/events"

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"Events({self._transport.base_url.rstrip('/')}{self.path})"

    def list(self, *, status: str | None = None) -> Pager[LuccaEvent]:
        """List events as :class:`~lucca_cards.lucca.webhooks.LuccaEvent`, 100 a page.

        Each is checked as a delivered one is (:func:`~lucca_cards.lucca.webhooks.parse`);
        one that is not readable stops the listing with an
        :class:`~lucca_cards.UnexpectedResponseError` naming the field.
        """
        return _pager(self._transport, self.path, {"status": status},
                      lambda item, page: LuccaEvent.from_object(item))


def _pager(transport: Transport, path: str, filters: Mapping[str, Any],
           parse: Callable[[Mapping[str, Any], RawPage], T]) -> Pager[T]:
    params = {key: value for key, value in filters.items() if value is not None}

    def fetch() -> Iterator[RawPage]:
        yield from lucca_cursor_pages(transport, path,
                                      {**params, "include": "links", "limit": PAGE_SIZE})

    return Pager(fetch, parse)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-blank string, not {json_kind(value)}",
                              errors={name: ["must be a non-blank string"]})
    return value


def _texts(values: Any, name: str, *, empty: bool = False) -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValidationError(f"{name} must be a list of strings, not {json_kind(values)}",
                              errors={name: ["must be a list of strings"]})
    checked = [_text(value, name) for value in values]
    if not checked and not empty:
        raise ValidationError(f"{name} must not be empty", errors={name: ["is empty"]})
    return checked
