"""The fake legacy API (``/api/v3/users``) over a socket: key, envelope, projections,
filters, paging, sorting and partial ``PUT`` with extended data."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conftest import SECRET_MARK, FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox.lucca import LuccaFake
from sandbox_company import API_KEY, NOW, make_fake

KEY = {"Authorization": f"lucca application={API_KEY}"}


@pytest.fixture(scope="module")
def shared() -> Iterator[str]:
    """One server for the tests that only read (unlimited: its clock never moves)."""
    with ServedApp(make_fake(FakeClock(), rate_limit=0)) as served:
        yield served.url


@pytest.fixture
def fake(clock: FakeClock) -> LuccaFake:
    return make_fake(clock)


@pytest.fixture
def url(fake: LuccaFake) -> Iterator[str]:
    with ServedApp(fake) as served:
        yield served.url


def get(url: str, path: str = "", params: Any = None, status: int = 200) -> Any:
    response = requests.get(f"{url}/api/v3/users{path}", params=params, headers=KEY, timeout=5)
    assert response.status_code == status, response.text
    return response.json()


def put(url: str, ident: int, body: Any, params: Any = None, status: int = 200) -> Any:
    response = requests.put(f"{url}/api/v3/users/{ident}", json=body, params=params,
                            headers=KEY, timeout=5)
    assert response.status_code == status, response.text
    return response.json()


def items(url: str, **params: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = get(url, params=params)["data"]["items"]
    return result


def item_ids(url: str, **params: Any) -> list[int]:
    return [user["id"] for user in items(url, **params)]


def assert_error(body: Any, status: int) -> None:
    assert set(body) == {"Message", "Status"}
    assert body["Status"] == status and body["Message"]
    assert SECRET_MARK not in str(body)


# -- key, envelope, errors -------------------------------------------------------------------

@pytest.mark.parametrize(
    "authorization",
    [None, "lucca application=wrong", f"Bearer {API_KEY}", f"lucca user={API_KEY}", "lucca"],
)
def test_requests_without_the_api_key_are_unauthorized(
    shared: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{shared}/api/v3/users", headers=headers, timeout=5)

    assert response.status_code == 401
    assert_error(response.json(), 401)


def test_the_lucca_scheme_is_case_insensitive(shared: str) -> None:
    response = requests.get(f"{shared}/api/v3/users/1", timeout=5,
                            headers={"Authorization": f"Lucca application={API_KEY}"})

    assert response.status_code == 200


def test_answers_are_wrapped_in_a_header_and_data(shared: str) -> None:
    body = get(shared, "/2")

    assert body["header"] == {"generated": "2025-03-14T09:30:00.000",
                              "principal": "Sandbox API key"}
    assert body["data"] == {"id": 2, "name": "Bruno Lefèvre",
                            "url": f"{shared}/api/v3/users/2"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v3/users/99", 404), ("GET", "/api/v3/users/x", 404),
     ("GET", "/api/v3/departments", 404), ("POST", "/api/v3/users", 405),
     ("DELETE", "/api/v3/users/1", 405)],
)
def test_legacy_errors_carry_message_and_status(
    shared: str, method: str, path: str, status: int
) -> None:
    response = requests.request(method, f"{shared}{path}", headers=KEY, timeout=5)

    assert response.status_code == status
    assert_error(response.json(), status)


def test_the_rate_limit_answers_in_the_legacy_dialect(clock: FakeClock) -> None:
    with ServedApp(make_fake(clock, rate_limit=1)) as served:
        assert requests.get(f"{served.url}/api/v3/users", headers=KEY, timeout=5).ok
        response = requests.get(f"{served.url}/api/v3/users", headers=KEY, timeout=5)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 60
    assert_error(response.json(), 429)


# -- projection ------------------------------------------------------------------------------

def test_fields_select_brackets_dotted_paths_any_case(shared: str) -> None:
    fields = "ID,firstname,mail,department[id,name],manager.name,legalEntity,dtContractStart"
    user = get(shared, "/2", {"fields": fields})["data"]

    assert user == {
        "id": 2, "firstName": "Bruno", "mail": "bruno.lefevre@acme.test",
        "department": {"id": 2, "name": "Tech"},
        "manager": {"name": "Alice Martin"},
        "legalEntity": {"id": 1, "name": "Acme SAS", "url": f"{shared}/api/v3/legalentities/1"},
        "dtContractStart": "2020-03-02T00:00:00",
    }


def test_requested_empty_keys_come_back_as_null(shared: str) -> None:
    user = get(shared, "/4", {"fields": "mail,dtContractEnd,iban,extendedData"})["data"]

    assert user == {"mail": None, "dtContractEnd": None, "iban": None, "extendedData": {
        "e_formation": None, "e_github": None, "e_languages": None}}


def test_extended_data_returns_every_field_whatever_the_brackets(shared: str) -> None:
    plain = get(shared, "/7", {"fields": "extendedData"})["data"]["extendedData"]
    bracketed = get(shared, "/7", {"fields": "extendedData[e_github]"})["data"]["extendedData"]

    assert plain == bracketed
    formation = plain["e_formation"]
    assert [occurrence["id"] for occurrence in formation] == [9001, 9002]
    assert formation[0]["value"]["e_title"] == {"value": "Python avancé"}
    assert formation[0]["value"]["e_score"] == {"value": None}


@pytest.mark.parametrize("fields", ["id,nonsense", "department[id", "id]", "e_github"])
def test_bad_fields_are_refused(shared: str, fields: str) -> None:
    assert_error(get(shared, params={"fields": fields}, status=400), 400)


def test_collection_count_counts_across_pages(shared: str) -> None:
    data = get(shared, params={"fields": "id,collection.count", "paging": "0,2"})["data"]
    only_count = get(shared, params={"fields": "collection.count"})["data"]

    assert data == {"items": [{"id": 1}, {"id": 2}], "count": 6}
    assert only_count == {"count": 6}


# -- filters, former employees, paging, sorting -----------------------------------------------

def test_former_employees_are_hidden_unless_asked(shared: str) -> None:
    assert item_ids(shared) == [1, 2, 3, 4, 6, 7]
    assert item_ids(shared, formerEmployees="true") == [1, 2, 3, 4, 5, 6, 7]
    assert item_ids(shared, dtContractEnd="notequal,null") == [5, 7]
    assert item_ids(shared, dtContractEnd="until,2025-01-01") == [5]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"id": "7,2,5"}, [2, 7]),
        ({"id": "notequal,1,2,3"}, [4, 6, 7]),
        ({"mail": "null"}, [4]),
        ({"mail": "GAELLE.bernard@acme.test"}, [7]),
        ({"mail": "like,.dar"}, [3]),
        ({"lastName": "starts,le"}, [2]),
        ({"department.id": "3"}, [4, 7]),
        ({"departmentId": "2"}, [2, 3, 6]),
        ({"manager.name": "like,alice"}, [2, 4]),
        ({"dtContractStart": "since,2022-01-03"}, [4, 6, 7]),
        ({"dtContractStart": "between,2020-01-01,2021-12-31"}, [2, 3]),
        ({"dtContractStart": "2021-09-01"}, [3]),
        ({"id": "greaterthan,5"}, [6, 7]),
        ({"id": "lessthanorequal,2"}, [1, 2]),
        ({"modifiedAt": "since,2024-01-05T00:00:00"}, [1, 3, 6]),
        ({"extendedData.e_github.value": "bruno"}, [2]),
        ({"departmentId": "2", "formerEmployees": "false", "paging": "1,5"}, [3, 6]),
    ],
)
def test_filters(shared: str, params: dict[str, str], expected: list[int]) -> None:
    assert item_ids(shared, **params) == expected


@pytest.mark.parametrize(
    "params",
    [{"nonsense": "1"}, {"id": "between,1"}, {"dtContractStart": "since,soon"},
     {"id": "greaterthan,x"}, {"paging": "0"}, {"paging": "0,1001"}, {"paging": "-1,5"},
     {"orderBy": "id"}, {"orderBy": "id,up"}, {"orderBy": "nonsense,asc"}],
)
def test_bad_queries_are_refused(shared: str, params: dict[str, str]) -> None:
    assert_error(get(shared, params=params, status=400), 400)


def test_order_by_sorts_on_several_properties(shared: str) -> None:
    assert item_ids(shared, orderBy="departmentId,desc,lastName,asc") == [7, 4, 3, 2, 6, 1]
    assert item_ids(shared, orderBy="mail,asc", paging="0,2") == [4, 1]


def test_paging_walks_through_every_user(shared: str) -> None:
    pages = [item_ids(shared, paging=f"{offset},4", formerEmployees="true") for offset in (0, 4, 8)]

    assert pages == [[1, 2, 3, 4], [5, 6, 7], []]


# -- PUT ---------------------------------------------------------------------------------------

def test_put_changes_core_fields_and_modified_at(url: str, fake: LuccaFake) -> None:
    body = {"firstName": "Bruna", "mail": "bruna@acme.test", "employeeNumber": "X9",
            "quote": "Hello", "id": 2, "name": "ignored", "extendedData": {"e_github": "x"}}
    answer = put(url, 2, body, {"fields": "id,firstName,mail,quote,modifiedAt,extendedData"})

    assert answer["header"]["principal"] == "Sandbox API key"
    assert answer["data"] == {
        "id": 2, "firstName": "Bruna", "mail": "bruna@acme.test", "quote": "Hello",
        "modifiedAt": "2025-03-14T09:30:00.000",
        "extendedData": {"e_formation": None, "e_github": {"id": 501, "value": "bruno"},
                         "e_languages": None},
    }
    employee = fake.data.employees[2]
    assert (employee.given_name, employee.employee_number) == ("Bruna", "X9")
    assert employee.last_updated_at == NOW
    assert employee.legacy_fields == {"quote": "Hello"}


def test_put_accepts_a_data_wrapper_and_answers_id_name_url(url: str) -> None:
    answer = put(url, 3, {"data": {"lastName": "Darcy"}})

    assert answer["data"] == {"id": 3, "name": "Chloé Darcy", "url": f"{url}/api/v3/users/3"}


@pytest.mark.parametrize(
    "body",
    [
        {"nonsense": 1},
        {"firstName": ""},
        {"mail": 12},
        {"e_unknown": "x"},
        {"e_github": [{"id": 0, "value": "x"}]},
        {"e_github": {"id": 999, "value": "x"}},
        {"e_languages": [{"id": 999, "value": None}]},
        {"e_languages": [{"id": 601}]},
        {"e_formation": [{"id": 0, "value": {"e_unknown": "x"}}]},
        {"e_formation": [{"id": 0, "value": "not an object"}]},
        {"e_formation": [{"id": "9001", "value": {}}]},
        [1, 2],
    ],
)
def test_invalid_puts_change_nothing(url: str, fake: LuccaFake, body: Any) -> None:
    before = repr(fake.data.employees[3])
    # A valid change next to the invalid one must not be applied either.
    payload = body | {"lastName": "Changed"} if isinstance(body, dict) else body

    assert_error(put(url, 3, payload, status=400), 400)
    assert repr(fake.data.employees[3]) == before


def test_a_put_with_a_bad_projection_changes_nothing(url: str, fake: LuccaFake) -> None:
    assert_error(put(url, 2, {"lastName": "X"}, {"fields": "id,nonsense"}, status=400), 400)
    assert fake.data.employees[2].family_name == "Lefèvre"


def test_a_body_that_is_not_json_is_refused(url: str) -> None:
    response = requests.put(f"{url}/api/v3/users/1", data="{oops", timeout=5,
                            headers=KEY | {"Content-Type": "application/json"})

    assert response.status_code == 400
    assert_error(response.json(), 400)


def test_put_on_an_unknown_user_is_404(url: str) -> None:
    assert_error(put(url, 99, {"lastName": "X"}, status=404), 404)


def test_simple_single_fields_take_bare_or_id_value_and_delete_with_null(
    url: str, fake: LuccaFake
) -> None:
    put(url, 2, {"e_github": {"id": 501, "value": "bruno-2"}})
    assert fake.data.employees[2].extended_data["e_github"] == {"id": 501, "value": "bruno-2"}

    put(url, 2, {"e_github": "bare"})
    assert fake.data.employees[2].extended_data["e_github"] == {"id": 501, "value": "bare"}

    put(url, 2, {"e_github": {"id": 501, "value": None}})
    assert "e_github" not in fake.data.employees[2].extended_data

    put(url, 4, {"e_github": {"id": 0, "value": "david"}})
    created = fake.data.employees[4].extended_data["e_github"]
    assert created["value"] == "david" and created["id"] > 9002


def test_multiple_fields_merge_by_value_id(url: str, fake: LuccaFake) -> None:
    answer = put(url, 3, {"e_languages": [
        {"id": 602, "value": "en-GB"}, {"id": 0, "value": "de"}, {"value": "it"},
        {"id": 601, "value": None}]}, {"fields": "extendedData"})

    languages = answer["data"]["extendedData"]["e_languages"]
    assert [item["value"] for item in languages] == ["en-GB", "de", "it"]
    assert languages[0]["id"] == 602
    new_ids = [item["id"] for item in languages[1:]]
    assert len(set(new_ids)) == 2 and min(new_ids) > 9002
    assert fake.data.employees[3].extended_data["e_languages"] == languages


def test_composite_occurrences_are_created_updated_and_deleted(url: str) -> None:
    answer = put(url, 7, {"e_formation": [
        {"id": 9001, "value": {"e_title": {"value": "Python avancé"}, "e_progress": 100,
                               "e_last_completion_date": {"value": "2025-03-10T00:00:00"}}},
        {"id": 0, "value": {"e_title": "Docker", "e_link": {"value": "https://cards.test/d"}}},
        {"id": 9002, "value": None},
    ]}, {"fields": "id,extendedData[e_formation]"})

    formation = answer["data"]["extendedData"]["e_formation"]
    assert len(formation) == 2
    assert formation[0]["id"] == 9001
    assert formation[0]["value"] == {
        "e_title": {"value": "Python avancé"}, "e_link": {"value": None},
        "e_progress": {"value": 100}, "e_score": {"value": None},
        "e_last_completion_date": {"value": "2025-03-10T00:00:00"}}
    assert formation[1]["value"]["e_title"] == {"value": "Docker"}
    assert formation[1]["value"]["e_link"] == {"value": "https://cards.test/d"}
    assert formation[1]["value"]["e_progress"] == {"value": None}
    again = get(url, "/7", {"fields": "extendedData"})["data"]["extendedData"]["e_formation"]
    assert again == formation


def test_unlisted_occurrences_are_kept(url: str) -> None:
    put(url, 7, {"e_formation": [{"id": 0, "value": {"e_title": "Git"}}]})

    formation = get(url, "/7", {"fields": "extendedData"})["data"]["extendedData"]["e_formation"]
    assert [o["value"]["e_title"]["value"] for o in formation] == ["Python avancé", "RGPD", "Git"]


def test_puts_show_in_the_state_and_the_request_log(url: str) -> None:
    put(url, 4, {"mail": "david.petit@acme.test"})

    state = requests.get(f"{url}/_sandbox/state", timeout=5).json()
    assert {e["id"]: e["email"] for e in state["employees"]}[4] == "david.petit@acme.test"
    log = requests.get(f"{url}/_sandbox/requests", timeout=5).json()
    assert log["log"] == [{"method": "PUT", "path": "/api/v3/users/4", "status": 200}]


def test_what_a_client_wrote_is_served_back_as_the_standard_library_writes_it(
    url: str, fake: LuccaFake
) -> None:
    # NaN and integers past 64 bits: orjson would write null and refuse; json.dumps answers.
    body = b'{"quote": NaN, "address": 1180591620717411303424, "e_github": -Infinity}'
    written = requests.put(f"{url}/api/v3/users/2", data=body, timeout=5,
                           headers=KEY | {"Content-Type": "application/json"})
    assert written.status_code == 200, written.text
    fake.data.employees[2].extended_data["e_unlisted"] = "kept"  # no definition any more

    user = json.loads(get_raw(url, "/2", {"fields": "quote,extendedData"}))["data"]
    big = json.loads(get_raw(url, "/2", {"fields": "address"}))["data"]

    assert math.isnan(user["quote"]) and big == {"address": 2**70}
    assert user["extendedData"] == {
        "e_formation": None, "e_github": {"id": 501, "value": -math.inf}, "e_languages": None,
        "e_unlisted": "kept"}
    assert list(user["extendedData"]) == ["e_formation", "e_github", "e_languages", "e_unlisted"]


def get_raw(url: str, path: str, params: Any) -> bytes:
    response = requests.get(f"{url}/api/v3/users{path}", params=params, headers=KEY, timeout=5)
    assert response.status_code == 200, response.text
    return response.content
