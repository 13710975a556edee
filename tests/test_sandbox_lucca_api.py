"""The fake Lucca API over a socket: versions, collections, paging, filters, embedding.

Every answer fetched here is checked against Lucca's own schemas (``schemas.json``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox._service import Faults
from sandbox_company import API_KEY, API_VERSION, assert_valid, get_token, lucca_get, make_fake

SCHEMAS = {"employees": "response.employees", "departments": "response.departments",
           "job-positions": "response.job-positions"}
SINGLE = {"employees": "response.employee", "departments": "response.department",
          "job-positions": "response.job-position"}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """One server for the tests that only read (unlimited: its clock never moves)."""
    with ServedApp(make_fake(FakeClock(), rate_limit=0)) as served:
        yield served.url


@pytest.fixture
def token(url: str) -> str:
    return get_token(url)


def fetch(url: str, token: str, path: str, params: Any = None) -> dict[str, Any]:
    """GET a collection or resource, expect 200 and check it against the schema."""
    response = lucca_get(url, token, path, params)
    assert response.status_code == 200, response.text
    assert response.headers["Api-Version"] == API_VERSION
    body: dict[str, Any] = response.json()
    parts = path.split("?")[0].strip("/").split("/")
    assert_valid((SCHEMAS if len(parts) == 1 else SINGLE)[parts[0]], body)
    return body


def refused(url: str, token: str | None, path: str, params: Any = None, status: int = 400,
            **kwargs: Any) -> dict[str, Any]:
    """GET, expect a problem+json refusal with ``status`` and check it against the schema."""
    response = lucca_get(url, token, path, params, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Api-Version"] == API_VERSION
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["instance"].startswith(f"{url}/lucca-api/")
    assert_valid("response.problem", problem)
    return problem


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


# -- versions and verbs ------------------------------------------------------------------

@pytest.mark.parametrize("version", [None, "", "latest", "2024-13-01", "20241101", "2024-10-31"])
def test_a_missing_bad_or_too_old_api_version_is_refused(
    url: str, token: str, version: str | None
) -> None:
    problem = refused(url, token, "/employees", version=version)

    assert "Api-Version" in problem["errors"]


def test_a_later_api_version_is_served_as_2024_11_01(url: str, token: str) -> None:
    response = lucca_get(url, token, "/departments", version="2026-01-01")

    assert response.status_code == 200
    assert response.headers["Api-Version"] == "2024-11-01"


def test_only_get_is_allowed(url: str, token: str) -> None:
    response = requests.post(f"{url}/lucca-api/employees", json={}, timeout=5, headers={
        "Authorization": f"Bearer {token}", "Api-Version": API_VERSION})

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/employees/999", "/employees/abc", "/departments/9",
                                  "/job-positions/1", "/legal-entities", "/employees/1/x"])
def test_unknown_resources_are_404_problems(url: str, token: str, path: str) -> None:
    refused(url, token, path, status=404)


# -- collections and paging --------------------------------------------------------------

def test_a_bare_collection_has_only_type_url_and_items(url: str, token: str) -> None:
    body = fetch(url, token, "/employees")

    assert set(body) == {"type", "url", "items"}
    assert body["type"] == "employees"
    assert body["url"] == f"{url}/lucca-api/employees"
    # Without a status filter every status comes back (reference gap 10).
    assert ids(body) == ["1", "2", "3", "4", "5", "6", "7"]
    assert all(item["links"]["employments"]["href"] for item in body["items"])


def test_the_collection_url_is_the_request_uri_percent_encoded(url: str, token: str) -> None:
    body = fetch(url, token, "/employees", {"search": "Émilie", "limit": 5})

    assert body["url"] == f"{url}/lucca-api/employees?search=%C3%89milie&limit=5"
    assert ids(body) == ["5"]


def test_employees_render_the_tenant_records(url: str, token: str) -> None:
    items = {item["id"]: item for item in fetch(url, token, "/employees")["items"]}

    assert [items[i]["status"] for i in "1567"] == ["active", "deactivated", "upcoming", "active"]
    assert items["4"]["email"] is None
    assert items["2"]["familyName"] == "Lefèvre"
    assert items["2"]["applicableJobPosition"] == {
        "id": "202", "type": "job-position", "url": f"{url}/lucca-api/job-positions/202"}
    assert items["2"]["applicableEmployment"]["id"] == "102"
    assert items["2"]["birthDay"] == {"day": 20, "month": 2}
    assert items["1"]["createdAt"] == "2024-01-05T08:00:00.000Z"


def test_paging_follows_next_links_to_the_end(url: str, token: str) -> None:
    params = {"include": "links,totalCount", "limit": 3, "status": "active,deactivated"}
    body = fetch(url, token, "/employees", params)
    pages = [body]
    while body["links"]["next"] is not None:
        body = fetch(url, token, body["links"]["next"]["href"].split("/lucca-api")[1])
        pages.append(body)

    assert [ids(page) for page in pages] == [["1", "2", "3"], ["4", "5", "7"]]
    assert pages[0]["links"]["prev"] is None
    assert all(page["totalCount"] == 6 for page in pages)
    query = parse_qs(urlsplit(pages[0]["links"]["next"]["href"]).query)
    assert query["status"] == ["active,deactivated"] and query["limit"] == ["3"]
    assert query["page"][0].startswith("!")
    previous = pages[1]["links"]["prev"]["href"]
    assert ids(fetch(url, token, previous.split("/lucca-api")[1])) == ["1", "2", "3"]


def test_a_page_number_is_accepted_too(url: str, token: str) -> None:
    assert ids(fetch(url, token, "/employees", {"limit": 2, "page": 3})) == ["5", "6"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 101}, "limit"), ({"limit": -1}, "limit"), ({"limit": "ten"}, "limit"),
        ({"page": "!!nope"}, "page"), ({"page": "0"}, "page"), ({"page": "abc"}, "page"),
        ({"include": "links,everything"}, "include"),
    ],
)
def test_bad_paging_parameters_are_refused(
    url: str, token: str, params: dict[str, Any], name: str
) -> None:
    assert name in refused(url, token, "/employees", params)["errors"]


def test_limit_zero_gives_the_count_and_no_items(url: str, token: str) -> None:
    body = fetch(url, token, "/employees", {"limit": 0, "include": "totalCount,links"})

    assert body["items"] == [] and body["totalCount"] == 7
    assert body["links"] == {"prev": None, "next": None}


def test_include_may_be_repeated(url: str, token: str) -> None:
    body = fetch(url, token, "/departments", [("include", "links"), ("include", "totalCount")])

    assert body["totalCount"] == 4 and body["links"]["next"] is None


# -- embedding -----------------------------------------------------------------------------

def test_employees_embed_the_employments_and_positions_of_the_page(url: str, token: str) -> None:
    body = fetch(url, token, "/employees", {"include": "embedded", "limit": 2})

    assert set(body["embedded"]) == {"employment", "job-position"}
    assert set(body["embedded"]["employment"]) == {"101", "102"}
    position = body["embedded"]["job-position"]["202"]
    assert position["department"]["id"] == "2"
    assert position["manager"]["id"] == "1"


def test_job_positions_embed_departments_qualifications_employees_employments(
    url: str, token: str
) -> None:
    body = fetch(url, token, "/job-positions", {"include": "embedded", "id": "202,204"})

    embedded = body["embedded"]
    assert set(embedded["department"]) == {"2", "3"}
    assert set(embedded["job-qualification"]) == {"1"}
    assert set(embedded["employee"]) == {"2", "4"}
    assert set(embedded["employment"]) == {"102", "104"}


def test_departments_embed_nothing(url: str, token: str) -> None:
    assert fetch(url, token, "/departments", {"include": "embedded"})["embedded"] == {}


def test_single_resources_carry_embedded_at_their_root(url: str, token: str) -> None:
    assert "embedded" not in fetch(url, token, "/employees/7")
    body = fetch(url, token, "/employees/7", {"include": "embedded"})

    assert set(body["embedded"]["job-position"]) == {"207"}
    assert body["embedded"]["employment"]["107"]["end"] == {"date": "2025-12-31"}


# -- filters -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "upcoming,deactivated"}, ["5", "6"]),
        ({"email": "chloe.darcy@acme.test,null"}, ["3", "4"]),
        ({"email": "gaelle.bernard@acme.test"}, []),  # strict equality, case included
        ({"id": "7,2,99"}, ["2", "7"]),
        ({"applicableJobPosition.department.id": "1"}, ["1"]),  # not its sub-departments
        ({"applicableJobPosition.department.id": "2", "status": "active"}, ["2", "3"]),
        ({"applicableJobPosition.manager.id": "2"}, ["3", "6"]),
        ({"search": "lef"}, ["2"]),
        ({"search": "emilie"}, ["5"]),  # accents do not matter
        ({"search": "d arcy"}, []),
        ({"search": "ch d'ar"}, ["3"]),
        ({"sort": "-familyName", "status": "active"}, ["4", "1", "2", "3", "7"]),
        ({"sort": "createdAt", "limit": 3}, ["4", "5", "2"]),
        ({"sort": "-id", "limit": 2}, ["7", "6"]),
    ],
)
def test_employee_filters_and_sorts(
    url: str, token: str, params: dict[str, Any], expected: list[str]
) -> None:
    assert ids(fetch(url, token, "/employees", params)) == expected


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"status": "active,retired"}, "status"),
        ({"email": "not-an-email"}, "email"),
        ({"id": "1,,2"}, "id"),
        ({"id": ",".join(str(i) for i in range(101))}, "id"),
        ({"sort": "givenName"}, "sort"),
        ({"search": "..."}, "search"),
    ],
)
def test_bad_employee_filters_are_refused_with_errors(
    url: str, token: str, params: dict[str, Any], name: str
) -> None:
    problem = refused(url, token, "/employees", params)

    assert problem["title"] == "One or more validation errors occurred."
    assert problem["errors"][name]


def test_department_filters(url: str, token: str) -> None:
    assert ids(fetch(url, token, "/departments")) == ["1", "2", "3", "4"]
    assert ids(fetch(url, token, "/departments", {"isArchived": "true"})) == ["4"]
    assert ids(fetch(url, token, "/departments", {"isArchived": "false", "search": "sal"})) == [
        "3"]
    assert ids(fetch(url, token, "/departments", {"search": "tec"})) == ["2"]
    assert "isArchived" in refused(url, token, "/departments", {"isArchived": "yes"})["errors"]


def test_departments_render_the_tree(url: str, token: str) -> None:
    body = fetch(url, token, "/departments/2")

    assert body["parent"]["id"] == "1" and body["level"] == 2
    assert body["manager"] == {"id": "2", "type": "employee",
                               "url": f"{url}/lucca-api/employees/2"}
    active = body["links"]["activeEmployees"]["href"]
    assert active == f"{url}/lucca-api/employees?applicableJobPosition.department.id=2"
    assert ids(fetch(url, token, active.split("/lucca-api")[1])) == ["2", "3", "6"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department.id": "3"}, ["204", "205", "207"]),
        ({"employment.id": "101,106"}, ["201", "206"]),
        ({"status": "upcoming"}, ["206"]),
        ({"sort": "-startsOn", "department.id": "2"}, ["206", "203", "202"]),
        ({"sort": "endsOn", "department.id": "3"}, ["205", "207", "204"]),
    ],
)
def test_job_position_filters_and_sorts(
    url: str, token: str, params: dict[str, Any], expected: list[str]
) -> None:
    assert ids(fetch(url, token, "/job-positions", params)) == expected


def test_the_job_position_status_filter_takes_one_value(url: str, token: str) -> None:
    assert "status" in refused(url, token, "/job-positions", {"status": "active,upcoming"})[
        "errors"]


# -- budget, faults, state -----------------------------------------------------------------

def test_the_rate_limit_is_shared_with_the_legacy_api(clock: FakeClock) -> None:
    with ServedApp(make_fake(clock, rate_limit=3, rate_window=10)) as served:
        token = get_token(served.url)
        legacy = {"Authorization": f"lucca application={API_KEY}"}
        assert lucca_get(served.url, token, "/departments").status_code == 200
        assert requests.get(f"{served.url}/api/v3/users", headers=legacy,
                            timeout=5).status_code == 200
        assert lucca_get(served.url, token, "/departments").status_code == 200

        problem = refused(served.url, token, "/departments", status=429)
        clock.sleep(4)
        late = lucca_get(served.url, token, "/departments")
        clock.sleep(6)
        assert lucca_get(served.url, token, "/departments").status_code == 200

    assert problem["title"] == "Too Many Requests"
    assert late.status_code == 429 and late.headers["Retry-After"] == "6"


def test_injected_faults_answer_problem_json(clock: FakeClock) -> None:
    with ServedApp(make_fake(clock, faults={"lucca": Faults(server_error=1.0)})) as served:
        token = get_token(served.url)
        refused(served.url, token, "/employees", status=500)


def test_state_shows_statuses_and_departments_without_credentials(url: str) -> None:
    state = requests.get(f"{url}/_sandbox/state", timeout=5).json()

    employees = {e["id"]: e for e in state["employees"]}
    assert state["today"] == "2025-03-14"
    assert employees[5]["status"] == "deactivated" and employees[6]["status"] == "upcoming"
    assert employees[4]["email"] is None and employees[7]["department_id"] == 3
    assert employees[2]["extended_data"]["e_github"]["value"] == "bruno"
    assert {d["id"] for d in state["departments"]} == {1, 2, 3, 4}
    assert {f["code"] for f in state["extended_fields"]} == {
        "e_formation", "e_github", "e_languages"}
    assert len(state["employments"]) == len(state["job_positions"]) == 7
