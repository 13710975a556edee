"""LuccaLegacyApiClient against exact request shapes, errors and retries (``responses``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from conftest import SECRET_MARK, FakeClock
from lucca_cards import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimiter,
    RetryPolicy,
    ServerError,
    Settings,
    ValidationError,
)
from lucca_cards.lucca.legacy import DEFAULT_USER_FIELDS, LuccaLegacyApiClient
from lucca_cards.lucca.legacy_models import LegacyRef, LegacyUser

BASE = "https://acme.ilucca.net"
KEY = f"{SECRET_MARK}-key-123"
USERS = f"{BASE}/api/v3/users"
HEADER = {"generated": "2024-05-02T10:11:12", "principal": "integration key"}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client(clock: FakeClock) -> LuccaLegacyApiClient:
    return make_client(clock)


def make_client(clock: FakeClock) -> LuccaLegacyApiClient:
    """A client that never throttles, retries 3 times, and sleeps on the fake clock."""
    return LuccaLegacyApiClient(
        base_url=BASE + "/",
        api_key=KEY,
        rate_limiter=RateLimiter(0),
        retry=RetryPolicy(max_attempts=3),
        clock=clock,
        sleep=clock.sleep,
    )


def envelope(data: Any) -> dict[str, Any]:
    return {"header": HEADER, "data": data}


def users_page(first: int, count: int) -> dict[str, Any]:
    return envelope(
        {"items": [{"id": n, "mail": f"u{n}@acme.test"} for n in range(first, first + count)]}
    )


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# --- construction, authentication, envelope -------------------------------------------


def test_sends_the_api_key_header_and_accepts_json(client, api) -> None:
    api.get(f"{USERS}/416", json=envelope({"id": 416}))
    client.users.get(416)
    headers = api.calls[0].request.headers
    assert headers["Authorization"] == f"lucca application={KEY}"
    assert headers["Accept"] == "application/json"


def test_reprs_show_the_url_and_never_the_key(client) -> None:
    shown = repr(client) + repr(client.users) + repr(client._transport) + str(vars(client))
    assert "https://acme.ilucca.net" in repr(client)
    assert SECRET_MARK not in shown


def test_an_empty_api_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="lucca_api_key"):
        LuccaLegacyApiClient(base_url=BASE, api_key="")


def test_from_settings_uses_url_key_and_rate(clock: FakeClock, api) -> None:
    settings = Settings(
        lucca_url="https://settings.ilucca.net", lucca_api_key=KEY, lucca_requests_per_minute=30
    )
    client = LuccaLegacyApiClient.from_settings(settings, clock=clock, sleep=clock.sleep)
    assert client._transport.limiter.requests_per_minute == 30
    api.get("https://settings.ilucca.net/api/v3/users/1", json=envelope({"id": 1}))
    assert client.users.get(1).id == 1
    assert api.calls[0].request.headers["Authorization"] == f"lucca application={KEY}"


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        (Settings(lucca_api_key=KEY), "lucca_url"),
        (Settings(lucca_url=BASE), "lucca_api_key"),
    ],
)
def test_from_settings_names_the_missing_setting(settings: Settings, missing: str) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        LuccaLegacyApiClient.from_settings(settings)


@pytest.mark.parametrize(
    "body",
    [
        envelope({"id": 416, "mail": "jdoe@example.com"}),
        {"data": {"id": 416, "mail": "jdoe@example.com"}},  # docs examples: no header
        {"id": 416, "mail": "jdoe@example.com"},  # a bare object is tolerated
    ],
)
def test_get_unwraps_the_envelope(client, api, body: dict[str, Any]) -> None:
    api.get(f"{USERS}/416", json=body)
    user = client.users.get(416)
    assert (user.id, user.mail) == (416, "jdoe@example.com")
    assert "header" not in user.extra


# --- fields ---------------------------------------------------------------------------


def test_fields_as_list_or_string_send_the_same_query_with_id_first(client, api) -> None:
    api.get(f"{USERS}/1", json=envelope({"id": 1}))
    client.users.get(1, fields=["mail", "department[id,name]"])
    client.users.get(1, fields=" mail , department[id,name]")
    sent = [query(call)["fields"] for call in api.calls]
    assert sent == ["id,mail,department[id,name]"] * 2


def test_default_fields_are_the_documented_ones(client, api) -> None:
    api.get(f"{USERS}/1", json=envelope({"id": 1}))
    client.users.get(1)
    assert query(api.calls[0])["fields"] == ",".join(DEFAULT_USER_FIELDS)
    assert {"id", "mail", "extendedData"} <= set(DEFAULT_USER_FIELDS)


# --- list: paging and filters ---------------------------------------------------------


def test_list_pages_by_1000_until_a_short_page(client, api) -> None:
    for first, count in [(0, 1000), (1000, 1000), (2000, 3)]:
        api.get(USERS, json=users_page(first, count))
    users = list(client.users.list())
    assert [query(call)["paging"] for call in api.calls] == ["0,1000", "1000,1000", "2000,1000"]
    assert len(users) == 2003
    assert users[-1].id == 2002
    assert isinstance(users[0], LegacyUser)


def test_list_of_an_exact_multiple_of_1000_asks_once_more_and_stops(client, api) -> None:
    for first, count in [(0, 1000), (1000, 1000), (2000, 1000), (3000, 0)]:
        api.get(USERS, json=users_page(first, count))
    assert sum(1 for _ in client.users.list()) == 3000
    assert [query(call)["paging"] for call in api.calls][-1] == "3000,1000"
    assert len(api.calls) == 4


def test_list_is_lazy_and_first_reads_one_page(client, api) -> None:
    pager = client.users.list()
    assert len(api.calls) == 0
    api.get(USERS, json=users_page(0, 1000))
    assert pager.first() == LegacyUser(id=0, mail="u0@acme.test")
    assert len(api.calls) == 1


def test_list_sends_a_stable_order_and_hides_former_employees_by_default(client, api) -> None:
    api.get(USERS, json=users_page(0, 0))
    list(client.users.list(fields="id,mail"))
    assert query(api.calls[0]) == {"fields": "id,mail", "orderBy": "id,asc", "paging": "0,1000"}


def test_list_includes_former_employees_on_request(client, api) -> None:
    api.get(USERS, json=users_page(0, 0))
    list(client.users.list(former_employees=True))
    assert query(api.calls[0])["formerEmployees"] == "true"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"ids": [1, 2]}, {"id": "1,2"}),
        ({"mail": "jdoe@example.com"}, {"mail": "jdoe@example.com"}),
        ({"mail": ["a@x.test", "b@x.test"]}, {"mail": "a@x.test,b@x.test"}),
        ({"login": "jdoe"}, {"login": "jdoe"}),
        (
            {"modified_since": datetime(2025, 1, 1, 8, 45, 23)},
            {"modifiedAt": "since,2025-01-01T08:45:23"},
        ),
        ({"modified_since": date(2025, 1, 1)}, {"modifiedAt": "since,2025-01-01T00:00:00"}),
        ({"department_id": 13}, {"departmentId": "13"}),
        ({"dtContractEnd": "notequal,null"}, {"dtContractEnd": "notequal,null"}),
        (
            {"legalEntityId": [1, 2], "isActive": False},
            {"legalEntityId": "1,2", "isActive": "false"},
        ),
        ({"order_by": "lastName,asc,firstName,asc"}, {"orderBy": "lastName,asc,firstName,asc"}),
    ],
)
def test_list_filters(client, api, kwargs: dict[str, Any], expected: dict[str, str]) -> None:
    api.get(USERS, json=users_page(0, 0))
    list(client.users.list(**kwargs))
    sent = query(api.calls[0])
    assert {k: sent.get(k) for k in expected} == expected


@pytest.mark.parametrize("kwargs", [{"ids": []}, {"mail": iter(())}, {"legalEntityId": []}])
def test_list_with_an_empty_selection_lists_nobody_without_asking(client, api, kwargs) -> None:
    assert list(client.users.list(**kwargs)) == []
    assert len(api.calls) == 0


def test_list_page_size(client, api) -> None:
    api.get(USERS, json=users_page(0, 2))
    api.get(USERS, json=users_page(2, 1))
    assert len(list(client.users.list(page_size=2))) == 3
    assert [query(call)["paging"] for call in api.calls] == ["0,2", "2,2"]


@pytest.mark.parametrize(
    "kwargs", [{"paging": "0,10"}, {"Fields": "id"}, {"page_size": 1001}, {"page_size": 0}]
)
def test_list_refuses_what_would_break_paging(client, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked by eye
        client.users.list(**kwargs)


# --- models ---------------------------------------------------------------------------


def test_user_model_reads_the_documented_user() -> None:
    user = LegacyUser.from_api(
        {
            "id": 416,
            "name": "John Doe",
            "firstName": "John",
            "lastName": "DOE",
            "mail": "jdoe@example.com",
            "employeeNumber": "00057",
            "dtContractStart": "2014-09-01T00:00:00",
            "dtContractEnd": None,
            "modifiedAt": "2015-09-07T10:20:06.583",
            "departmentId": 13,
            "department": {
                "id": 13,
                "name": "BU Timmi/Lucca",
                "url": f"{BASE}/api/v3/departments/13",
            },
            "extendedData": {"e_bloodType": {"id": 77, "value": "AB"}},
            "jobTitleExtra": "kept",
        }
    )
    assert user.dt_contract_start == date(2014, 9, 1)
    assert user.dt_contract_end is None
    assert user.modified_at == datetime(2015, 9, 7, 10, 20, 6, 583000)
    assert user.department == LegacyRef(
        id=13, name="BU Timmi/Lucca", url=f"{BASE}/api/v3/departments/13"
    )
    assert user.extended_data == {"e_bloodType": {"id": 77, "value": "AB"}}
    assert user.extra == {"jobTitleExtra": "kept"}


def test_user_model_tolerates_other_key_cases_aliases_and_null_extended_data() -> None:
    user = LegacyUser.from_api(
        {
            "ID": 5,
            "departmentID": 13,
            "MAIL": "a@x.test",
            "modifiedOn": "2025-01-01T00:00:00",
            "extendedData": None,
        }
    )
    assert (user.id, user.department_id, user.mail) == (5, 13, "a@x.test")
    assert user.modified_at == datetime(2025, 1, 1)
    assert user.extended_data == {}


def test_user_model_keeps_the_exact_key_when_two_spellings_come() -> None:
    user = LegacyUser.from_api({"id": 5, "departmentId": 13, "departmentID": 14})
    assert user.department_id == 13
    assert user.extra == {"departmentID": 14}


def test_user_model_without_id_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="LegacyUser"):
        LegacyUser.from_api({"mail": "a@x.test"})


# --- update ---------------------------------------------------------------------------


def test_update_puts_a_bare_partial_body_and_parses_the_answer(client, api) -> None:
    api.put(f"{USERS}/416", json={"data": {"id": 416, "lastName": "Doe"}})
    user = client.users.update(
        416, {"lastName": "Doe", "e_quote": {"id": 4896, "value": "test"}}, fields=["lastName"]
    )
    call = api.calls[0]
    assert json.loads(call.request.body) == {
        "lastName": "Doe",
        "e_quote": {"id": 4896, "value": "test"},
    }
    assert call.request.headers["Content-Type"] == "application/json"
    assert query(call) == {"fields": "id,lastName"}
    assert user == LegacyUser(id=416, last_name="Doe")


def test_update_refuses_extended_data_in_the_body(client) -> None:
    with pytest.raises(ValueError, match="root"):
        client.users.update(416, {"extendedData": {"e_quote": "x"}})


# --- errors and retries ---------------------------------------------------------------


def test_legacy_403_is_permission_denied_with_message_and_hint(client, api) -> None:
    api.get(
        f"{USERS}/416",
        json={"Message": "Access to this resource is denied", "Status": 403},
        status=403,
    )
    with pytest.raises(PermissionDeniedError) as caught:
        client.users.get(416)
    text = str(caught.value)
    assert caught.value.status == 403
    assert "Access to this resource is denied" in text
    assert "'Collaborators: view / create / edit users' right" in text
    assert SECRET_MARK not in text + repr(caught.value.args)
    assert len(api.calls) == 1  # never retried


def test_legacy_401_is_an_authentication_error_not_retried(client, api) -> None:
    api.get(f"{USERS}/416", json={"Message": "Unauthorized", "Status": 401}, status=401)
    with pytest.raises(AuthenticationError, match="check LUCCA_API_KEY") as caught:
        client.users.get(416)
    assert SECRET_MARK not in str(caught.value)
    assert len(api.calls) == 1


def test_404_says_the_user_may_be_hidden(client, api) -> None:
    api.get(f"{USERS}/9", json={"Message": "Not found", "Status": 404}, status=404)
    with pytest.raises(NotFoundError, match="former employee"):
        client.users.get(9)


def test_429_is_retried_after_exactly_retry_after(client, api, clock: FakeClock) -> None:
    api.get(f"{USERS}/1", status=429, headers={"Retry-After": "7"}, json={"Message": "slow down"})
    api.get(f"{USERS}/1", json=envelope({"id": 1}))
    assert client.users.get(1).id == 1
    assert clock.sleeps == [7.0]
    assert len(api.calls) == 2


def test_500_is_retried_then_raised_as_server_error(client, api, clock: FakeClock) -> None:
    api.put(f"{USERS}/1", status=500, json={"Message": "boom", "Status": 500})
    with pytest.raises(ServerError, match="boom"):
        client.users.update(1, {"lastName": "X"})
    assert len(api.calls) == 3  # RetryPolicy(max_attempts=3); PUT is idempotent
    assert len(clock.sleeps) == 2
