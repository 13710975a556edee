"""The Lucca API's webhook resources: ``/lucca-api/webhook-endpoints`` and ``/events``.

``webhook-endpoints``: ``GET`` (collection, ``status`` filter), ``POST`` (201, ``Location``,
the endpoint with its ``secret``, after the activation challenge was tried), ``GET /{id}``
(no secret) and ``DELETE /{id}`` (204). ``events``: ``GET`` (every event, oldest first)
and ``GET /{id}``. Collections page like the others (``limit``, ``page``, ``include``);
``embedded`` is empty. The caller has checked the route, method, version and scope.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from lucca_cards.sandbox._lucca_api import API_VERSION, page_response
from lucca_cards.sandbox._lucca_delivery import Deliveries
from lucca_cards.sandbox._lucca_events import EventLog
from lucca_cards.sandbox._lucca_query import ProblemError, Query
from lucca_cards.sandbox._lucca_render import Renderer
from lucca_cards.sandbox._lucca_webhooks import (
    STATUSES,
    EndpointRegistry,
    WebhookEndpoint,
    endpoint_fields,
    render_endpoint,
)
from lucca_cards.sandbox._service import json_response, request_json

HOOK_RESOURCES = ("webhook-endpoints", "events")
_METHODS = {
    ("webhook-endpoints", False): ("GET", "POST"),
    ("webhook-endpoints", True): ("GET", "DELETE"),
}


def allowed_methods(resource: str, ident: str | None) -> tuple[str, ...]:
    """Return the methods a Lucca API path accepts (``GET`` alone, but for endpoints)."""
    return _METHODS.get((resource, ident is not None), ("GET",))


def _no_embed(page: list[Any]) -> dict[str, Any]:
    return {}


class HooksApi:
    """Answer the webhook resources over an endpoint registry and an event log."""

    def __init__(
        self,
        *,
        registry: EndpointRegistry,
        events: EventLog,
        deliveries: Deliveries,
        establishments: Mapping[int, str],
        now: Callable[[], dt.datetime],
    ) -> None:
        self.registry, self.events, self.deliveries = registry, events, deliveries
        self.establishments, self._now = establishments, now

    def answer(self, request: Request, renderer: Renderer, resource: str, ident: str | None
               ) -> Response:
        """Answer an authorised request to ``resource`` (``ident`` ``None``: the collection)."""
        if request.method == "POST":
            return self._create(request, renderer)
        if request.method == "DELETE":
            return self._delete(self._endpoint(ident or ""))
        query = Query(request.args)
        if ident is not None:
            includes = query.includes()
            query.raise_errors()
            body = self._single(renderer, resource, ident)
            if "embedded" in includes:
                body["embedded"] = {}
            return json_response(body, headers={"Api-Version": API_VERSION})
        includes, limit = query.includes(), query.limit()
        offset = query.offset(limit)
        matching, render = self._collection(query, renderer, resource)
        query.raise_errors()
        return page_response(request, resource, matching, (includes, limit, offset), render,
                             _no_embed)

    def _single(self, renderer: Renderer, resource: str, ident: str) -> dict[str, Any]:
        if resource == "events":
            event = self.events.get(ident)
            if event is None:
                raise ProblemError(404, f"No event with id {ident}.")
            return dict(event)
        return render_endpoint(renderer, self._endpoint(ident))

    def _collection(self, query: Query, renderer: Renderer, resource: str
                    ) -> tuple[list[Any], Callable[[Any], dict[str, Any]]]:
        if resource == "events":
            return self.events.events(), dict
        wanted = query.choices("status", STATUSES)
        endpoints = [endpoint for endpoint in self.registry.endpoints()
                     if wanted is None or endpoint.status in wanted]
        return endpoints, lambda endpoint: render_endpoint(renderer, endpoint)

    def _endpoint(self, ident: str) -> WebhookEndpoint:
        endpoint = self.registry.get(ident)
        if endpoint is None:
            raise ProblemError(404, f"No webhook-endpoint with id {ident}.")
        return endpoint

    def _create(self, request: Request, renderer: Renderer) -> Response:
        try:
            body = request_json(request)
        except ValueError:
            raise ProblemError(400, "The body is not JSON.",
                               {"body": ["A JSON object is expected."]}) from None
        fields = endpoint_fields(body, self.establishments)
        endpoint = self.registry.create(fields, secret=secrets.token_urlsafe(32),
                                        now=self._now())
        # Tried at once; a receiver that is not up yet is challenged again before each
        # delivery attempt, so the endpoint may be declared first.
        self.deliveries.challenge(endpoint)
        answer = render_endpoint(renderer, endpoint, secret=True)
        return json_response(answer, 201, headers={
            "Api-Version": API_VERSION, "Location": answer["url"], "Cache-Control": "no-store"})

    def _delete(self, endpoint: WebhookEndpoint) -> Response:
        self.registry.delete(endpoint.id)
        return json_response(None, 204, headers={"Api-Version": API_VERSION})
