"""Contract: every answer of the sandbox's Lucca API validates against Lucca's own schemas.

Every page of every collection (with and without each ``include``), every single resource,
the filtered collections and every error are fetched over a real socket with plain
``requests`` (not our clients) and validated against
``../shared/lucca-reference/schemas.json``, the way its ``check.py`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lucca_cards.sandbox import Sandbox

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "lucca-reference"
pytestmark = pytest.mark.skipif(
    not (REFERENCE / "schemas.json").is_file(),
    reason=f"{REFERENCE} is absent: Lucca's schemas are needed to check the contract",
)

API_VERSION = "2024-11-01"
SCOPES = ("departments.readonly", "employees.readwrite", "job-positions.readonly")
COLLECTIONS = {
    "employees": ("response.employees", "response.employee"),
    "departments": ("response.departments", "response.department"),
    "job-positions": ("response.job-positions", "response.job-position"),
}
INCLUDES = ["", "links", "totalCount", "embedded", "links,totalCount,embedded"]


def schema_errors(defname: str, payload: Any) -> list[str]:
    from jsonschema import Draft202012Validator

    document = json.loads((REFERENCE / "schemas.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(
        {**document, "$ref": f"#/$defs/{defname}"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(payload)]


class Api:
    """Plain HTTP access to the sandbox's Lucca API, with a token."""

    def __init__(self, sandbox: Sandbox) -> None:
        info = sandbox.connection_info()
        self.root = sandbox.lucca_url
        self.sandbox = sandbox
        answer = requests.post(info["token_url"], timeout=5, data={
            "grant_type": "client_credentials", "client_id": info["client_id"],
            "client_secret": info["client_secret"], "scope": " ".join(SCOPES)})
        answer.raise_for_status()
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}",
                        "Api-Version": API_VERSION}

    def get(self, url: str, headers: dict[str, str] | None = None,
            **params: Any) -> requests.Response:
        target = url if url.startswith("http") else f"{self.root}/lucca-api/{url}"
        return requests.get(target, params=params, timeout=10,
                            headers=self.headers if headers is None else headers)

    def pages(self, resource: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page, following ``links.next.href`` (``include=links`` is added)."""
        include = ",".join(filter(None, [params.pop("include", ""), "links"]))
        answer = self.get(resource, include=include, **params)
        while True:
            assert answer.status_code == 200, answer.text
            assert answer.headers["Api-Version"] == API_VERSION
            page = answer.json()
            yield page
            if page["links"]["next"] is None:
                return
            answer = self.get(page["links"]["next"]["href"])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=5, employees=230, departments=14, lucca_rate_limit=0,
                 cards_rate_limit=0, lucca_scopes=SCOPES) as running:
        yield running


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


def expected_count(sandbox: Sandbox, resource: str) -> int:
    lucca = sandbox.company.lucca
    return len({"employees": lucca.employees, "departments": lucca.departments,
                "job-positions": lucca.job_positions}[resource])


@pytest.mark.parametrize("include", INCLUDES)
@pytest.mark.parametrize("resource", list(COLLECTIONS))
def test_every_page_of_every_collection_validates(
    api: Api, sandbox: Sandbox, resource: str, include: str
) -> None:
    seen: list[str] = []
    for page in api.pages(resource, include=include, limit=40):
        assert schema_errors(COLLECTIONS[resource][0], page) == []
        assert schema_errors("collection-envelope", page) == []
        assert ("totalCount" in page) is ("totalCount" in include)
        assert ("embedded" in page) is ("embedded" in include)
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == expected_count(sandbox, resource)


def test_the_default_page_holds_25_items_and_no_metadata(api: Api) -> None:
    page = api.get("employees").json()
    assert len(page["items"]) == 25
    assert set(page) == {"type", "url", "items"}
    assert schema_errors("response.employees", page) == []


@pytest.mark.parametrize("resource", list(COLLECTIONS))
def test_every_single_resource_validates(api: Api, sandbox: Sandbox, resource: str) -> None:
    ids = [item["id"] for page in api.pages(resource, limit=100) for item in page["items"]]
    for number, identifier in enumerate(ids):
        include = "embedded,links" if number % 2 else None
        answer = api.get(f"{resource}/{identifier}", include=include)
        assert answer.status_code == 200, answer.text
        assert schema_errors(COLLECTIONS[resource][1], answer.json()) == [], identifier


@pytest.mark.parametrize("params", [
    {"status": "active,upcoming"},
    {"status": "deactivated"},
    {"email": "null"},
    {"sort": "-familyName"},
])
def test_filtered_employee_pages_validate(api: Api, params: dict[str, str]) -> None:
    pages = list(api.pages("employees", include="embedded,totalCount", limit=100, **params))
    assert pages[0]["totalCount"] == sum(len(p["items"]) for p in pages) > 0
    for page in pages:
        assert schema_errors("response.employees", page) == []


def test_employees_of_one_department_validate(api: Api, sandbox: Sandbox) -> None:
    lucca = sandbox.company.lucca
    department = max(lucca.departments.values(), key=lambda d: sum(
        1 for e in lucca.employees.values()
        if lucca.job_positions[e.job_position_id].department_id == d.id))
    params = {"applicableJobPosition.department.id": str(department.id)}
    pages = list(api.pages("employees", include="embedded", limit=100, **params))
    items = [item for page in pages for item in page["items"]]
    assert items
    for page in pages:
        assert schema_errors("response.employees", page) == []
        for item in page["items"]:
            position = page["embedded"]["job-position"][item["applicableJobPosition"]["id"]]
            assert position["department"]["id"] == str(department.id)


@pytest.mark.parametrize(("call", "status"), [
    (lambda api: api.get("employees", limit=101), 400),
    (lambda api: api.get("employees", status="retired"), 400),
    (lambda api: api.get("employees", headers={"Api-Version": API_VERSION}), 401),
    (lambda api: api.get("employees", headers={**api.headers, "Authorization": "Bearer nope"}),
     401),
    (lambda api: api.get("employees", headers={"Authorization": api.headers["Authorization"]}),
     400),
    (lambda api: api.get("employees/999999999"), 404),
    (lambda api: api.get("departments/999999999"), 404),
])
def test_errors_are_problems(api: Api, call: Any, status: int) -> None:
    answer = call(api)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert schema_errors("response.problem", answer.json()) == []
    assert answer.json()["status"] == status


def test_a_missing_scope_is_a_403_problem(sandbox: Sandbox) -> None:
    info = sandbox.connection_info()
    token = requests.post(info["token_url"], timeout=5, data={
        "grant_type": "client_credentials", "client_id": info["client_id"],
        "client_secret": info["client_secret"], "scope": "employees.readwrite"}).json()
    answer = requests.get(f"{sandbox.lucca_url}/lucca-api/departments", timeout=5, headers={
        "Authorization": f"Bearer {token['access_token']}", "Api-Version": API_VERSION})
    assert answer.status_code == 403
    assert schema_errors("response.problem", answer.json()) == []
