"""Lucca webhook endpoints (reference ``lucca-api.md`` §B13-B14): where events are sent.

A ``webhook-endpoint`` is created by ``POST /lucca-api/webhook-endpoints`` (body ``name``,
``webhookUrl``, ``apiVersion``, ``topics``, optional ``businessEstablishments``); the 201
answer alone carries its signing ``secret``. Lucca then activates it with a challenge
(``GET {webhookUrl}?echo=<value>``, expecting 200 and the value as the body).

Where the reference is silent, this fake settles:

* ``webhookUrl`` must be ``https://``, except ``http://`` to a loopback host (the
  sandbox's receivers); ``topics`` are ``resource.action`` (``employee.created``) or
  ``resource.*``, for the resources ``employee``, ``employment``, ``job-position`` and
  ``employee-extension`` and the actions ``created``, ``updated``, ``deleted``;
  ``apiVersion`` defaults to 2024-11-01; ``name`` is 1 to 255 characters.
* The challenge's parameter is ``echo`` for the first endpoint, ``challenge`` for the
  second, and so on alternately (the two copies of Lucca's page disagree), unless the fake
  is told which one to use.
* ``status`` is ``inactive`` until the challenge succeeds, then ``active``; a delivery
  answered 404 or 410 makes it ``suspended`` (events are kept; a redelivery tries the
  challenge again).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lucca_cards.sandbox._lucca_events import (
    ACTIONS,
    API_VERSION,
    TOPIC_RESOURCES,
    Event,
    topic_matches,
)
from lucca_cards.sandbox._lucca_query import ProblemError
from lucca_cards.sandbox._lucca_render import Renderer, utc

CHALLENGE_PARAMETERS = ("echo", "challenge")
STATUSES = ("active", "suspended", "inactive")
MAX_TOPICS = 100
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(slots=True)
class WebhookEndpoint:
    """A declared endpoint; ``secret`` signs its deliveries (never in a repr or a GET)."""

    id: int
    name: str
    webhook_url: str
    api_version: str
    topics: list[str]
    establishment_ids: list[int]
    secret: str = field(repr=False)
    challenge_parameter: str = "echo"
    status: str = "inactive"
    created_at: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    last_updated_at: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

    def wants(self, event: Event) -> bool:
        """Whether ``event`` is for this endpoint: a topic matches, and the establishment."""
        if not any(topic_matches(pattern, event["topic"]) for pattern in self.topics):
            return False
        site = event.get("businessEstablishment")
        return not self.establishment_ids or site is None or int(
            site["id"]) in self.establishment_ids

    def summary(self) -> dict[str, Any]:
        """Return the endpoint for ``/_sandbox/state`` (no secret)."""
        return {"id": self.id, "name": self.name, "webhook_url": self.webhook_url,
                "topics": list(self.topics), "status": self.status,
                "challenge_parameter": self.challenge_parameter}


def webhook_url_error(url: object) -> str | None:
    """Return why ``url`` cannot receive webhooks, or ``None`` when it can."""
    if not isinstance(url, str) or not url.strip():
        return "An absolute https:// URL is expected."
    parts = urlsplit(url)
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        return "The URL's port is not a number from 0 to 65535."
    if parts.scheme not in ("https", "http") or not host:
        return "An absolute https:// URL is expected."
    if parts.fragment:
        return "The URL must not have a fragment."
    if parts.scheme == "http" and not is_loopback(host):
        return "The URL must use https:// (http:// only to a loopback host)."
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def topic_error(topic: object) -> str | None:
    """Return why ``topic`` is not a topic an endpoint can ask for, or ``None``."""
    if not isinstance(topic, str):
        return "Each topic must be a string."
    resource, dot, action = topic.partition(".")
    if not dot or resource not in TOPIC_RESOURCES or (action != "*" and action not in ACTIONS):
        return (f"Unknown topic {topic!r}: expected resource.action, resource one of "
                f"{list(TOPIC_RESOURCES)}, action one of {[*ACTIONS, '*']}.")
    return None


def _establishments(value: object, known: Mapping[int, str], errors: dict[str, list[str]]
                    ) -> list[int]:
    if value is None:
        return []
    ids: list[int] = []
    items = value if isinstance(value, list) else None
    for item in items or []:
        raw = item.get("id") if isinstance(item, dict) else None
        text = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
        if not text.isdecimal() or int(text) not in known:
            errors.setdefault("businessEstablishments", []).append(
                f"Unknown business establishment {raw!r}.")
        elif int(text) not in ids:
            ids.append(int(text))
    if items is None:
        errors["businessEstablishments"] = ['A list of references ({"id": "1"}) is expected.']
    return ids


def _topics(value: object, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > MAX_TOPICS:
        errors["topics"] = [f"A list of 1 to {MAX_TOPICS} topics is expected."]
        return []
    problems = [problem for topic in value if (problem := topic_error(topic))]
    if problems:
        errors["topics"] = problems
    return list(dict.fromkeys(str(topic) for topic in value))


def _api_version(value: object, errors: dict[str, list[str]]) -> str:
    if value is None:
        return API_VERSION
    try:
        valid = isinstance(value, str) and len(value) == 10 and (
            dt.date.fromisoformat(value) >= dt.date.fromisoformat(API_VERSION))
    except ValueError:
        valid = False
    if not valid:
        errors["apiVersion"] = [f"A version date on or after {API_VERSION} is expected."]
    return API_VERSION  # a later date is served as the one version there is


def endpoint_fields(body: object, establishments: Mapping[int, str]) -> dict[str, Any]:
    """Check a creation body; return the endpoint's fields or raise a 400 problem."""
    if not isinstance(body, dict):
        raise ProblemError(400, "The body must be a JSON object.",
                           {"body": ["A JSON object is expected."]})
    errors: dict[str, list[str]] = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        errors["name"] = ["A name of 1 to 255 characters is expected."]
    url_problem = webhook_url_error(body.get("webhookUrl"))
    if url_problem:
        errors["webhookUrl"] = [url_problem]
    fields = {
        "name": name.strip() if isinstance(name, str) else "",
        "webhook_url": body.get("webhookUrl"),
        "api_version": _api_version(body.get("apiVersion"), errors),
        "topics": _topics(body.get("topics"), errors),
        "establishment_ids": _establishments(
            body.get("businessEstablishments"), establishments, errors),
    }
    if errors:
        raise ProblemError(400, "The webhook endpoint is invalid.", errors)
    return fields


class EndpointRegistry:
    """The tenant's webhook endpoints; thread-safe.

    ``challenge_parameter`` fixes the challenge's query parameter (``echo`` or
    ``challenge``); ``None`` alternates them from one endpoint to the next.
    """

    def __init__(self, challenge_parameter: str | None = None) -> None:
        if challenge_parameter not in (None, *CHALLENGE_PARAMETERS):
            raise ValueError(f"challenge_parameter must be one of {CHALLENGE_PARAMETERS}")
        self.challenge_parameter = challenge_parameter
        self._lock = threading.Lock()
        self._endpoints: dict[int, WebhookEndpoint] = {}
        self._last_id = 0

    def create(self, fields: Mapping[str, Any], *, secret: str, now: dt.datetime,
               challenge_parameter: str | None = None) -> WebhookEndpoint:
        """Add an endpoint of checked ``fields`` (see :func:`endpoint_fields`)."""
        with self._lock:
            self._last_id += 1
            ident = self._last_id
            parameter = (challenge_parameter or self.challenge_parameter
                         or CHALLENGE_PARAMETERS[(ident - 1) % 2])
            endpoint = WebhookEndpoint(
                id=ident, secret=secret, challenge_parameter=parameter, created_at=now,
                last_updated_at=now, **fields)
            self._endpoints[ident] = endpoint
            return endpoint

    def get(self, ident: int | str) -> WebhookEndpoint | None:
        """Return the endpoint of id ``ident``, or ``None``."""
        key = int(ident) if str(ident).isdecimal() else -1
        with self._lock:
            return self._endpoints.get(key)

    def delete(self, ident: int | str) -> WebhookEndpoint | None:
        """Remove and return the endpoint of id ``ident`` (``None`` when there is none)."""
        key = int(ident) if str(ident).isdecimal() else -1
        with self._lock:
            return self._endpoints.pop(key, None)

    def exists(self, endpoint: WebhookEndpoint) -> bool:
        """Whether ``endpoint`` is still declared (not deleted)."""
        with self._lock:
            return self._endpoints.get(endpoint.id) is endpoint

    def endpoints(self) -> list[WebhookEndpoint]:
        """Return every endpoint, by id."""
        with self._lock:
            return [self._endpoints[key] for key in sorted(self._endpoints)]

    def matching(self, event: Event) -> list[WebhookEndpoint]:
        """Return the endpoints ``event`` is for, by id."""
        return [endpoint for endpoint in self.endpoints() if endpoint.wants(event)]

    def set_status(self, endpoint: WebhookEndpoint, status: str, now: dt.datetime) -> None:
        """Change an endpoint's status (and ``lastUpdatedAt`` when it changes)."""
        with self._lock:
            if endpoint.status != status:
                endpoint.status, endpoint.last_updated_at = status, now


def render_endpoint(renderer: Renderer, endpoint: WebhookEndpoint, *, secret: bool = False
                    ) -> dict[str, Any]:
    """Render an endpoint as the API does; ``secret`` only in the creation's answer."""
    body: dict[str, Any] = {
        "id": str(endpoint.id),
        "type": "webhook-endpoint",
        "url": f"{renderer.api}/webhook-endpoints/{endpoint.id}",
        "name": endpoint.name,
        "webhookUrl": endpoint.webhook_url,
        "apiVersion": endpoint.api_version,
        "topics": list(endpoint.topics),
        "businessEstablishments": [renderer.ref("business-establishment", ident)
                                   for ident in endpoint.establishment_ids],
        "status": endpoint.status,
        "createdAt": utc(endpoint.created_at),
        "lastUpdatedAt": utc(endpoint.last_updated_at),
    }
    if secret:
        body["secret"] = endpoint.secret
    return body


def python_fields(url: str, *, name: str, topics: Sequence[str],
                  establishments: Mapping[int, str]) -> dict[str, Any]:
    """Check the arguments of :meth:`LuccaFake.register_webhook`; raise ``ValueError``."""
    try:
        return endpoint_fields({"name": name, "webhookUrl": url, "topics": list(topics)},
                               establishments)
    except ProblemError as problem:
        reasons = "; ".join(f"{key}: {' '.join(value)}"
                            for key, value in (problem.errors or {}).items())
        raise ValueError(f"cannot register the webhook endpoint ({reasons})") from None

