"""LuccaOAuthClient.webhook_endpoints and .events against the exact payloads of §B13 and §B14.

Every exchange is mocked with ``responses``; time is the fake clock, so nothing waits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from conftest import SECRET_MARK, FakeClock
from lucca_cards import (
    NotFoundError,
    PermissionDeniedError,
    RateLimiter,
    RetryPolicy,
    Secret,
    ServerError,
    Settings,
    UnexpectedResponseError,
    ValidationError,
)
from lucca_cards.lucca.client import LuccaOAuthClient
from lucca_cards.lucca.endpoints import WebhookEndpoint, check_webhook_url
from lucca_cards.lucca.webhooks import LIFECYCLE_TOPICS, LuccaEvent

BASE = "https://acme.ilucca.net"
TOKEN_URL = "https://accounts.world.luccasoftware.com/connect/token"
ENDPOINTS = f"{BASE}/lucca-api/webhook-endpoints"
EVENTS = f"{BASE}/lucca-api/events"
ENDPOINT_SECRET = f"{SECRET_MARK}-endpoint-secret"


def endpoint(id_: str = "7", **changes: Any) -> dict[str, Any]:
    body = {
        "id": id_, "type": "webhook-endpoint", "url": f"{ENDPOINTS}/{id_}",
        "name": "lucca-cards", "webhookUrl": "https://hooks.acme.example/lucca",
        "apiVersion": "2024-11-01", "topics": list(LIFECYCLE_TOPICS), "status": "active",
        "businessEstablishments": [{"id": "3", "type": "business-establishment",
                                    "url": f"{BASE}/lucca-api/business-establishments/3"}],
        "createdAt": "2025-01-01T08:34:23.0001Z", "lastUpdatedAt": "2025-01-01T08:34:23Z",
        "application": {"id": "app-1"}, "links": {},
    }
    body.update(changes)
    return body


def page(items: list[dict[str, Any]], next_href: str | None,
         url: str = ENDPOINTS) -> dict[str, Any]:
    return {"type": "collection", "url": url, "items": items,
            "links": {"prev": None, "next": {"href": next_href} if next_href else None}}


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": f"{SECRET_MARK}-token", "token_type": "Bearer",
                                   "expires_in": 1800})
        yield mock


def make_client(clock: FakeClock, **options: Any) -> LuccaOAuthClient:
    values: dict[str, Any] = {
        "base_url": BASE, "client_id": "cards-integration",
        "client_secret": f"{SECRET_MARK}-client", "rate_limiter": RateLimiter(0),
        "clock": clock, "sleep": clock.sleep, **options,
    }
    return LuccaOAuthClient(**values)


def api_calls(mocked: responses.RequestsMock) -> list[requests.PreparedRequest]:
    return [call.request for call in mocked.calls if "/lucca-api/" in str(call.request.url)]


def sent_json(request: requests.PreparedRequest) -> Any:
    body = request.body
    return json.loads(body.decode() if isinstance(body, bytes) else str(body))


# -- create -----------------------------------------------------------------------------------


def test_create_sends_the_documented_body_and_keeps_the_secret_wrapped(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.post(ENDPOINTS, status=201, json=endpoint(secret=ENDPOINT_SECRET),
                headers={"Location": f"{ENDPOINTS}/7"})
    created = make_client(clock).webhook_endpoints.create("https://hooks.acme.example/lucca")
    (request,) = api_calls(mocked)
    assert sent_json(request) == {
        "name": "lucca-cards", "webhookUrl": "https://hooks.acme.example/lucca",
        "apiVersion": "2024-11-01", "topics": list(LIFECYCLE_TOPICS),
    }
    assert request.headers["Api-Version"] == "2024-11-01"
    assert isinstance(created.secret, Secret)
    assert created.secret.reveal() == ENDPOINT_SECRET
    assert ENDPOINT_SECRET not in repr(created)
    assert "secret" not in created.extra and created.extra["application"] == {"id": "app-1"}
    assert (created.id, created.status, created.topics) == ("7", "active", LIFECYCLE_TOPICS)
    assert created.business_establishment_ids == ("3",)


def test_create_with_every_option(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.post(ENDPOINTS, status=201, json=endpoint(secret=ENDPOINT_SECRET))
    make_client(clock, api_version="2025-06-01").webhook_endpoints.create(
        "http://127.0.0.1:8080/lucca", name="HR sync", topics=["employee.created"],
        business_establishment_ids=["3", "4"])
    assert sent_json(api_calls(mocked)[0]) == {
        "name": "HR sync", "webhookUrl": "http://127.0.0.1:8080/lucca",
        "apiVersion": "2025-06-01", "topics": ["employee.created"],
        "businessEstablishments": [{"id": "3"}, {"id": "4"}],
    }


@pytest.mark.parametrize("status", [500, 503])
def test_create_is_never_retried_once_it_may_have_reached_lucca(
    mocked: responses.RequestsMock, clock: FakeClock, status: int
) -> None:
    mocked.post(ENDPOINTS, status=status, json={"title": "down", "status": status})
    mocked.post(ENDPOINTS, status=201, json=endpoint(secret=ENDPOINT_SECRET))
    with pytest.raises(ServerError):
        make_client(clock).webhook_endpoints.create("https://hooks.acme.example/lucca")
    assert len(api_calls(mocked)) == 1


def test_create_is_retried_after_a_429_which_took_no_effect(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.post(ENDPOINTS, status=429, headers={"Retry-After": "2"})
    mocked.post(ENDPOINTS, status=201, json=endpoint(secret=ENDPOINT_SECRET))
    created = make_client(clock).webhook_endpoints.create("https://hooks.acme.example/lucca")
    assert created.id == "7" and len(api_calls(mocked)) == 2 and clock.sleeps == [2.0]


@pytest.mark.parametrize(("arguments", "field"), [
    ({"url": "http://hooks.acme.example/lucca"}, "webhook_url"),
    ({"url": "ftp://hooks.acme.example/"}, "webhook_url"),
    ({"url": "hooks.acme.example/lucca"}, "webhook_url"),
    ({"url": "https://hooks.acme.example/lu cca"}, "webhook_url"),
    ({"url": "https://"}, "webhook_url"),
    ({"name": " "}, "name"),
    ({"topics": "employee.created"}, "topics"),
    ({"topics": []}, "topics"),
    ({"topics": ["employee.created", 3]}, "topics"),
    ({"business_establishment_ids": [3]}, "business_establishment_ids"),
])
def test_bad_arguments_are_refused_before_sending(
    mocked: responses.RequestsMock, clock: FakeClock, arguments: dict[str, Any], field: str
) -> None:
    values = {"url": "https://hooks.acme.example/lucca", **arguments}
    with pytest.raises(ValidationError) as caught:
        make_client(clock).webhook_endpoints.create(**values)
    assert field in caught.value.errors
    assert api_calls(mocked) == []


@pytest.mark.parametrize("url", ["https://hooks.example.com/lucca", "http://localhost:9/x",
                                 "http://127.0.0.1/lucca", "http://[::1]:8080/lucca"])
def test_urls_lucca_or_a_sandbox_may_call(url: str) -> None:
    assert check_webhook_url(url) == url


def test_a_secret_of_the_wrong_type_is_an_unexpected_answer(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.post(ENDPOINTS, status=201, json=endpoint(secret=12345))
    with pytest.raises(UnexpectedResponseError, match="secret"):
        make_client(clock).webhook_endpoints.create("https://hooks.acme.example/lucca")


def test_403_names_the_scope_to_grant(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.post(ENDPOINTS, status=403, json={"title": "Forbidden", "status": 403})
    mocked.get(ENDPOINTS, status=403, json={"title": "Forbidden", "status": 403})
    client = make_client(clock, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(PermissionDeniedError, match=r"webhook-endpoints\.readwrite") as caught:
        client.webhook_endpoints.create("https://hooks.acme.example/lucca")
    assert "integration-keys" in str(caught.value)
    with pytest.raises(PermissionDeniedError, match=r"webhook-endpoints\.readwrite"):
        list(client.webhook_endpoints.list())


# -- list, get, delete ------------------------------------------------------------------------


def test_list_follows_the_cursor_and_never_carries_a_secret(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    following = f"{ENDPOINTS}?cursor=abc&limit=100&include=links"
    mocked.get(ENDPOINTS, json=page([endpoint("7")], following),
               match=[responses.matchers.query_param_matcher(
                   {"include": "links", "limit": "100", "status": "active"})])
    mocked.get(following, json=page([endpoint("8", topics=None, businessEstablishments=None)],
                                    None))
    found = list(make_client(clock).webhook_endpoints.list(status="active"))
    assert [(e.id, e.secret) for e in found] == [("7", None), ("8", None)]
    assert found[1].topics == () and found[1].business_establishment_ids == ()


def test_get_and_delete(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.get(f"{ENDPOINTS}/7", json=endpoint("7", status="suspended"))
    mocked.delete(f"{ENDPOINTS}/7", status=204)
    client = make_client(clock)
    got = client.webhook_endpoints.get(7)
    assert isinstance(got, WebhookEndpoint) and got.status == "suspended"
    assert got.webhook_url == "https://hooks.acme.example/lucca"
    assert client.webhook_endpoints.delete("7") is None
    assert [r.method for r in api_calls(mocked)] == ["GET", "DELETE"]


def test_a_missing_endpoint_says_to_list_them(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.delete(f"{ENDPOINTS}/9", status=404, json={"title": "Not Found", "status": 404})
    with pytest.raises(NotFoundError, match="lucca-webhooks list"):
        make_client(clock).webhook_endpoints.delete("9")


def test_an_id_is_quoted_and_an_empty_one_refused(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.get(f"{ENDPOINTS}/a%2Fb", json=endpoint("a/b"))
    client = make_client(clock)
    assert client.webhook_endpoints.get("a/b").id == "a/b"
    with pytest.raises(ValidationError):
        client.webhook_endpoints.delete(" ")


def test_reprs(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    client = make_client(clock)
    assert repr(client.webhook_endpoints) == f"WebhookEndpoints({ENDPOINTS})"
    assert repr(client.events) == f"Events({EVENTS})"


# -- events -----------------------------------------------------------------------------------


def lucca_event(id_: str, topic: str = "employee.created") -> dict[str, Any]:
    return {"id": id_, "type": "event", "topic": topic, "occurredAt": "2025-01-01T08:34:23Z",
            "source": BASE, "apiVersion": "2024-11-01", "data": {"id": "416"},
            "url": f"{EVENTS}/{id_}", "businessEstablishment": None}


def test_events_are_listed_as_checked_events(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.get(EVENTS, json=page([lucca_event("e1"), lucca_event("e2", "employee.deleted")],
                                 None, EVENTS))
    found = list(make_client(clock).events.list())
    assert all(isinstance(e, LuccaEvent) for e in found)
    assert [(e.id, e.action, e.employee_id) for e in found] == [
        ("e1", "created", "416"), ("e2", "deleted", "416")]


def test_an_unreadable_event_names_the_endpoint_and_field(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.get(EVENTS, json=page([{**lucca_event("e1"), "id": 1}], None, EVENTS))
    with pytest.raises(UnexpectedResponseError, match=r"/lucca-api/events.*id must be a string"):
        list(make_client(clock).events.list())


# -- scopes -----------------------------------------------------------------------------------


def test_from_settings_with_the_webhook_scope(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.get(ENDPOINTS, json=page([], None))
    settings = Settings(lucca_url=BASE, lucca_client_id="id",
                        lucca_client_secret=f"{SECRET_MARK}-client")
    client = LuccaOAuthClient.from_settings(settings, scopes="webhook-endpoints.readwrite",
                                            rate_limiter=RateLimiter(0), clock=clock,
                                            sleep=clock.sleep)
    assert list(client.webhook_endpoints.list()) == []
    token_request = next(c.request for c in mocked.calls if str(c.request.url) == TOKEN_URL)
    assert parse_qs(str(token_request.body))["scope"] == ["webhook-endpoints.readwrite"]
    listing = api_calls(mocked)[0]
    assert urlsplit(str(listing.url)).path == "/lucca-api/webhook-endpoints"
