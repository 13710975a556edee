"""LuccaOAuthClient: token cache and renewal, request shape, paging, filters, errors.

Every exchange is mocked with ``responses``; time is the fake clock, so nothing waits.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from conftest import SECRET_MARK, FakeClock
from docserver import reference_example
from lucca_cards import (
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    RateLimiter,
    RetryPolicy,
    Settings,
    UnexpectedResponseError,
    ValidationError,
)
from lucca_cards.lucca.client import LuccaOAuthClient

BASE = "https://acme.ilucca.net"
TOKEN_URL = "https://accounts.world.luccasoftware.com/connect/token"
EMPLOYEES = f"{BASE}/lucca-api/employees"
CLIENT_ID = "cards-integration"
CLIENT_SECRET = f"{SECRET_MARK}-client-123"


class TokenEndpoint:
    """Hands out ``sEcReT-token-1``, ``-2`` …; records each token request."""

    def __init__(self, expires_in: int = 1800) -> None:
        self.expires_in = expires_in
        self.requests: list[requests.PreparedRequest] = []
        self.on_call: Callable[[], None] = lambda: None

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.requests.append(request)
        self.on_call()
        body = {
            "access_token": f"{SECRET_MARK}-token-{len(self.requests)}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return 200, {}, json.dumps(body)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def token(mocked: responses.RequestsMock) -> TokenEndpoint:
    endpoint = TokenEndpoint()
    mocked.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
    return endpoint


def make_client(clock: FakeClock, **options: Any) -> LuccaOAuthClient:
    values: dict[str, Any] = {
        "base_url": BASE,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "rate_limiter": RateLimiter(0),
        "clock": clock,
        "sleep": clock.sleep,
        **options,
    }
    return LuccaOAuthClient(**values)


def api_calls(mocked: responses.RequestsMock) -> list[requests.PreparedRequest]:
    return [call.request for call in mocked.calls if "/lucca-api/" in str(call.request.url)]


def query_of(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def page(items: list[dict[str, Any]], next_href: str | None) -> dict[str, Any]:
    return {
        "type": "employees",
        "url": EMPLOYEES,
        "items": items,
        "links": {"prev": None, "next": {"href": next_href} if next_href else None},
        "embedded": {},
    }


def employee(id_: str) -> dict[str, Any]:
    return {"id": id_, "type": "employee", "givenName": f"E{id_}", "familyName": "Doe"}


# --- token: request, cache, expiry, renewal -------------------------------------------------


def test_token_is_requested_as_documented_and_cached(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{EMPLOYEES}/416", json=reference_example("employee.get.json"))
    client = make_client(clock)
    client.employees.get("416")
    client.employees.get("416")
    assert len(token.requests) == 1
    sent = token.requests[0]
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(str(sent.body)) == {
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "grant_type": ["client_credentials"],
        "scope": ["departments.readonly employees.readwrite"],
    }
    assert [c.headers["Authorization"] for c in api_calls(mocked)] == [
        f"Bearer {SECRET_MARK}-token-1"
    ] * 2


def test_custom_token_url_and_scopes(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    endpoint = TokenEndpoint()
    mocked.add_callback(responses.POST, "https://login.example/oauth/token", callback=endpoint)
    mocked.get(f"{EMPLOYEES}/416", json=reference_example("employee.get.json"))
    client = make_client(
        clock,
        token_url="https://login.example/oauth/token",
        scopes=["employees.readonly", "job-positions.readonly"],
    )
    client.employees.get("416")
    assert parse_qs(str(endpoint.requests[0].body))["scope"] == [
        "employees.readonly job-positions.readonly"
    ]


def test_token_is_renewed_60_seconds_before_it_expires(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{EMPLOYEES}/416", json=reference_example("employee.get.json"))
    client = make_client(clock)
    client.employees.get("416")  # token 1 at t, valid 1800 s
    clock.now += 1800 - 60 - 1
    client.employees.get("416")
    assert len(token.requests) == 1
    clock.now += 1
    client.employees.get("416")
    assert len(token.requests) == 2
    assert api_calls(mocked)[-1].headers["Authorization"] == f"Bearer {SECRET_MARK}-token-2"


def test_401_renews_the_token_once_and_retries(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{EMPLOYEES}/416", json=reference_example("error.401.json"), status=401)
    mocked.get(f"{EMPLOYEES}/416", json=reference_example("employee.get.json"))
    found = make_client(clock).employees.get("416")
    assert found.given_name == "Edward"
    assert len(token.requests) == 2
    assert [c.headers["Authorization"] for c in api_calls(mocked)] == [
        f"Bearer {SECRET_MARK}-token-1",
        f"Bearer {SECRET_MARK}-token-2",
    ]


def test_second_401_raises_authentication_error(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{EMPLOYEES}/416", json=reference_example("error.401.json"), status=401)
    with pytest.raises(AuthenticationError) as caught:
        make_client(clock).employees.get("416")
    assert caught.value.status == 401
    assert "check the client id and secret" in str(caught.value)
    assert SECRET_MARK not in str(caught.value)
    assert len(token.requests) == 2
    assert len(api_calls(mocked)) == 2


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_client_says_what_to_do_without_the_secret(
    mocked: responses.RequestsMock, clock: FakeClock, status: int
) -> None:
    # The server even echoes the secret back: it must still not reach the message.
    body = {"error": "invalid_client", "error_description": f"unknown secret {CLIENT_SECRET}"}
    mocked.post(TOKEN_URL, json=body, status=status)
    with pytest.raises(AuthenticationError) as caught:
        make_client(clock).employees.get("416")
    message = str(caught.value)
    assert "invalid_client" in message
    assert "client id and client secret" in message
    assert "integration-keys" in message
    assert SECRET_MARK not in message
    assert SECRET_MARK not in repr(caught.value)
    assert SECRET_MARK not in (caught.value.message or "")
    assert caught.value.status == status
    assert api_calls(mocked) == []


def test_invalid_scope_names_the_scopes(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    mocked.post(TOKEN_URL, json={"error": "invalid_scope"}, status=400)
    with pytest.raises(AuthenticationError) as caught:
        list(
            make_client(clock, scopes="employees.readwrite departments.readonly").departments.list()
        )
    assert "invalid_scope" in str(caught.value)
    assert "'employees.readwrite departments.readonly'" in str(caught.value)
    assert "grant them" in str(caught.value)


def test_token_answer_without_access_token_is_an_error(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    mocked.post(TOKEN_URL, json={"token_type": "Bearer"})
    with pytest.raises(UnexpectedResponseError, match="answered without a usable access_token"):
        make_client(clock).employees.get("416")


def test_concurrent_callers_share_one_token_request(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    threads_count = 8
    arrived = threading.Semaphore(0)

    def hold_first_answer() -> None:
        # Answer the first token request only once every thread has called headers():
        # without the lock, each of them would post its own token request meanwhile.
        if len(token.requests) == 1:
            for _ in range(threads_count):
                assert arrived.acquire(timeout=10)

    token.on_call = hold_first_answer
    auth = make_client(clock).auth
    seen: list[str] = []

    def worker() -> None:
        arrived.release()
        seen.append(auth.headers()["Authorization"])

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(token.requests) == 1
    assert seen == [f"Bearer {SECRET_MARK}-token-1"] * threads_count


def test_threads_refused_with_the_same_token_renew_it_once(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    auth = make_client(clock).auth
    both_sent = threading.Barrier(2)

    def refused_caller() -> None:
        auth.headers()  # both threads send token 1 ...
        both_sent.wait(timeout=10)
        auth.refresh()  # ... and both are answered 401

    threads = [threading.Thread(target=refused_caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(token.requests) == 2  # token 1, then a single renewal
    # A caller refused with the current token (2) does get a new one.
    auth.headers()
    auth.refresh()
    assert len(token.requests) == 3


def test_refresh_forces_a_new_token(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    auth = make_client(clock).auth
    auth.headers()
    assert auth.refresh() is True
    assert auth.headers() == {"Authorization": f"Bearer {SECRET_MARK}-token-2"}


# --- request shape, paging, filters ---------------------------------------------------------


def test_requests_carry_version_bearer_include_and_limit(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(EMPLOYEES, json=page([employee("1")], None))
    list(make_client(clock, api_version="2025-06-01").employees.list())
    sent = api_calls(mocked)[0]
    assert sent.headers["Api-Version"] == "2025-06-01"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Authorization"] == f"Bearer {SECRET_MARK}-token-1"
    assert query_of(sent) == {"include": "links,embedded", "limit": "100"}


def test_default_api_version(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{BASE}/lucca-api/departments/32", json=reference_example("department.get.json"))
    make_client(clock).departments.get("32")
    sent = api_calls(mocked)[0]
    assert sent.headers["Api-Version"] == "2024-11-01"
    assert query_of(sent) == {"include": "embedded"}


def test_paging_follows_next_href_verbatim_until_null(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    second = f"{EMPLOYEES}?page=!cur2&limit=100&include=links,embedded&status=active"
    third = f"{EMPLOYEES}?page=!cur3&limit=100&include=links,embedded&status=active"
    first_query = {"include": "links,embedded", "limit": "100", "status": "active"}
    mocked.get(
        EMPLOYEES,
        json=page([employee("1"), employee("2")], second),
        match=[matchers.query_param_matcher(first_query)],
    )
    # A short page is not the end: only a null links.next is.
    mocked.get(second, json=page([employee("3")], third))
    mocked.get(third, json=page([employee("4")], None))
    found = list(make_client(clock).employees.list(status="active"))
    assert [e.id for e in found] == ["1", "2", "3", "4"]
    calls = api_calls(mocked)
    assert [str(c.url) for c in calls[1:]] == [second, third]


def test_paging_refuses_a_next_link_to_another_host(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    # Intended: the bearer token is only ever sent to the tenant's own host.
    mocked.get(EMPLOYEES, json=page([employee("1")], "https://evil.example/lucca-api/employees"))
    pager = make_client(clock).employees.list()
    with pytest.raises(UnexpectedResponseError, match=r"evil\.example is not the configured"):
        list(pager)
    assert [call.request.url.split("?")[0] for call in mocked.calls][-1] == EMPLOYEES


def test_employee_filters_are_encoded_as_documented(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(EMPLOYEES, json=page([], None))
    list(
        make_client(clock).employees.list(
            status=["active", "upcoming", "active"],
            email=["eatkinson@acme.corp", "null"],
            ids=[416, "417"],
            department_ids="32, 33",
            manager_ids=["541"],
            business_establishment_ids=["5"],
            legal_entity_ids=["123"],
            search="Edw Atk",
            sort=["-familyName", "id"],
        )
    )
    assert query_of(api_calls(mocked)[0]) == {
        "include": "links,embedded",
        "limit": "100",
        "status": "active,upcoming",
        "email": "eatkinson@acme.corp,null",
        "id": "416,417",
        "applicableJobPosition.department.id": "32,33",
        "applicableJobPosition.manager.id": "541",
        "applicableJobPosition.businessEstablishment.id": "5",
        "applicableEmployment.legalEntity.id": "123",
        "search": "Edw Atk",
        "sort": "-familyName,id",
    }


def test_department_and_job_position_filters(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{BASE}/lucca-api/departments", json=page([], None))
    mocked.get(f"{BASE}/lucca-api/job-positions", json=page([], None))
    client = make_client(clock)
    list(client.departments.list(search="fin", is_archived=False))
    list(
        client.job_positions.list(
            ids=["74"],
            department_ids=["32"],
            employment_ids=["28"],
            manager_ids=["541"],
            business_establishment_ids=["5"],
            remote_ids=["JP1"],
            status="active",
            starts_on=date(2024, 1, 1),
            sort="-startsOn",
        )
    )
    departments, positions = (query_of(c) for c in api_calls(mocked))
    assert departments == {
        "include": "links,embedded",
        "limit": "100",
        "search": "fin",
        "isArchived": "false",
    }
    assert positions == {
        "include": "links,embedded",
        "limit": "100",
        "id": "74",
        "department.id": "32",
        "employment.id": "28",
        "manager.id": "541",
        "businessEstablishment.id": "5",
        "remoteId": "JP1",
        "status": "active",
        "startsOn": "2024-01-01",
        "sort": "-startsOn",
    }


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda c: c.employees.list(status=["active", "actif"]), "'actif'"),
        (lambda c: c.employees.list(sort="name"), "'name'"),
        (lambda c: c.employees.list(ids=["1", ""]), "empty"),
        (lambda c: c.job_positions.list(status="gone"), "'gone'"),
        (lambda c: c.job_positions.list(status=["active"]), "not list"),
    ],
)
def test_bad_filter_values_are_refused_before_sending(
    mocked: responses.RequestsMock, clock: FakeClock, call: Any, bad: str
) -> None:
    with pytest.raises(ValidationError, match=bad) as caught:
        call(make_client(clock))
    assert "was not sent" in str(caught.value)
    assert len(mocked.calls) == 0


def test_more_than_100_values_run_in_sweeps_of_100(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    ids = [str(n) for n in range(1, 251)]
    for start in range(0, 250, 100):
        chunk = ids[start : start + 100]
        mocked.get(
            EMPLOYEES,
            json=page([employee(chunk[0])], None),
            match=[
                matchers.query_param_matcher(
                    {
                        "include": "links,embedded",
                        "limit": "100",
                        "status": "active",
                        "id": ",".join(chunk),
                    }
                )
            ],
        )
    found = list(make_client(clock).employees.list(ids=ids, status="active"))
    assert [e.id for e in found] == ["1", "101", "201"]
    assert len(api_calls(mocked)) == 3


def test_two_lists_over_100_values_are_refused(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    many = [f"{n}@acme.corp" for n in range(101)]
    with pytest.raises(ValidationError, match="at most one list"):
        make_client(clock).employees.list(email=many, ids=range(101))
    assert len(mocked.calls) == 0


def test_an_empty_list_filter_matches_nothing_without_a_request(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    assert list(make_client(clock).employees.list(ids=[])) == []
    assert len(mocked.calls) == 0


# --- errors and limits ----------------------------------------------------------------------


def test_429_waits_exactly_retry_after(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(EMPLOYEES, status=429, headers={"Retry-After": "7"})
    mocked.get(EMPLOYEES, json=page([employee("1")], None))
    assert [e.id for e in make_client(clock).employees.list()] == ["1"]
    assert clock.sleeps == [7.0]


def test_403_says_which_scopes_are_needed(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(
        f"{EMPLOYEES}/1573",
        json=reference_example("error.403.json"),
        status=403,
        content_type="application/problem+json",
    )
    with pytest.raises(PermissionDeniedError) as caught:
        make_client(clock, retry=RetryPolicy(max_attempts=1)).employees.get(1573)
    assert "lacks the scope (needs departments.readonly and employees.readwrite" in str(
        caught.value
    )
    assert "business establishment" in str(caught.value)


def test_get_quotes_the_id_and_refuses_an_empty_one(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    mocked.get(f"{EMPLOYEES}/a%2Fb", json=reference_example("employee.get.json"))
    client = make_client(clock)
    assert client.employees.get("a/b").id == "416"
    with pytest.raises(ValidationError, match="id is empty; nothing was sent"):
        client.employees.get(" ")


# --- construction ---------------------------------------------------------------------------


def test_repr_shows_the_url_only(
    mocked: responses.RequestsMock, token: TokenEndpoint, clock: FakeClock
) -> None:
    client = make_client(clock)
    client.auth.headers()  # a token is now cached
    texts = [repr(client), repr(client.auth), repr(client.employees), repr(client.auth.transport)]
    assert repr(client) == f"LuccaOAuthClient(base_url='{BASE}')"
    assert repr(client.employees) == f"Employees({BASE}/lucca-api/employees)"
    assert all(SECRET_MARK not in text for text in texts)


def test_from_settings_uses_every_lucca_setting(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    endpoint = TokenEndpoint()
    mocked.add_callback(responses.POST, "https://login.example/token", callback=endpoint)
    mocked.get(f"{BASE}/lucca-api/departments/32", json=reference_example("department.get.json"))
    settings = Settings(
        lucca_url=BASE,
        lucca_client_id=CLIENT_ID,
        lucca_client_secret=CLIENT_SECRET,
        lucca_token_url="https://login.example/token",
        lucca_scopes="departments.readonly",
        lucca_api_version="2024-12-01",
    )
    client = LuccaOAuthClient.from_settings(
        settings, rate_limiter=RateLimiter(0), clock=clock, sleep=clock.sleep
    )
    assert client.departments.get("32").name == "Finances"
    assert parse_qs(str(endpoint.requests[0].body))["scope"] == ["departments.readonly"]
    assert api_calls(mocked)[0].headers["Api-Version"] == "2024-12-01"


def test_from_settings_names_the_missing_setting() -> None:
    with pytest.raises(ConfigurationError, match="lucca_client_secret"):
        LuccaOAuthClient.from_settings(Settings(lucca_url=BASE, lucca_client_id=CLIENT_ID))


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"client_id": ""}, "lucca_client_id"),
        ({"client_secret": ""}, "lucca_client_secret"),
        ({"base_url": f"{BASE}/lucca-api"}, "lucca_url"),
    ],
)
def test_bad_construction_is_refused(
    clock: FakeClock, options: dict[str, Any], setting: str
) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        make_client(clock, **options)
