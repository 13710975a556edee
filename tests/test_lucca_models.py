"""Lucca's own published examples (lucca-reference/examples) parse into the models.

Each example is served by ``responses`` at the example's own host and read through the
client, so the assertions cover the request path, paging and parsing together.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest
import responses

from conftest import SECRET_MARK, FakeClock
from docserver import REFERENCE, reference_example
from lucca_cards import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimiter,
    RetryPolicy,
    ServerError,
    ValidationError,
)
from lucca_cards.lucca.client import LuccaOAuthClient
from lucca_cards.lucca.models import (
    BirthDay,
    Department,
    Employee,
    EmployeeStatus,
    JobPosition,
    Reference,
)

TENANT = "https://example.ilucca.net"
TOKEN_URL = "https://accounts.world.luccasoftware.com/connect/token"
CREATED = datetime(2024, 4, 15, 23, 12, 54, 100, tzinfo=timezone.utc)
# The examples' next page: the same example again, as the last page.
NEXT = "page=!sdk87Sdh&limit=25"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    # Every registered answer must be asked for: the pager must reach the "next page".
    with responses.RequestsMock(assert_all_requests_are_fired=True) as requests_mock:
        requests_mock.post(TOKEN_URL, json={"access_token": f"{SECRET_MARK}-t", "expires_in": 1800})
        yield requests_mock


@pytest.fixture
def client(clock: FakeClock, mock: responses.RequestsMock) -> LuccaOAuthClient:
    return LuccaOAuthClient(
        base_url=TENANT,
        client_id="id",
        client_secret=f"{SECRET_MARK}-s",
        rate_limiter=RateLimiter(0),
        retry=RetryPolicy(max_attempts=1),
        clock=clock,
        sleep=clock.sleep,
    )


def serve_collection(mock: responses.RequestsMock, name: str, path: str) -> None:
    """Serve the example as page 1, and again (``links.next`` null) at its next href."""
    first = reference_example(name)
    assert first["links"]["next"]["href"] == f"{TENANT}{path}?{NEXT}"
    last = {**reference_example(name), "links": {"prev": None, "next": None}}
    mock.get(f"{TENANT}{path}?{NEXT}", json=last)
    mock.get(
        f"{TENANT}{path}",
        json=first,
        match=[
            responses.matchers.query_param_matcher({"include": "links,embedded", "limit": "100"})
        ],
    )


def ref(kind: str, id_: str, path: str | None = None) -> Reference:
    return Reference(id=id_, type=kind, url=f"{TENANT}/lucca-api/{path or kind + 's'}/{id_}")


def assert_is_edward(employee: Employee) -> None:
    assert employee.id == "416"
    assert (employee.given_name, employee.family_name) == ("Edward", "Atkinson")
    assert employee.full_name == "Edward Atkinson"
    assert employee.email == "eatkinson@acme.corp"
    assert employee.status == EmployeeStatus.ACTIVE
    assert employee.employee_number == "E000124"
    assert employee.remote_id == "00002345"
    assert employee.phone_number == "+33145784512"
    assert employee.birth_day == BirthDay(day=22, month=12)
    assert employee.portrait == ref("portrait", "66512232")
    assert employee.applicable_employment == ref("employment", "154")
    assert employee.applicable_job_position == ref("job-position", "74")
    # Resolved through embedded["job-position"]["74"].department, with no extra request.
    assert employee.department == ref("department", "32")
    assert employee.department_id == "32"
    assert employee.job_title == "Developer"
    assert employee.created_at == CREATED
    assert employee.last_updated_at == CREATED
    assert employee.url == f"{TENANT}/lucca-api/employees/416"
    assert set(employee.extra) >= {"type", "links"}


def assert_is_finances(department: Department) -> None:
    assert department.id == "32"
    assert department.name == "Finances"
    assert department.description is None
    assert department.remote_id == "FIN"
    assert department.is_archived is False
    assert department.level == 1
    assert department.sort_order == 2
    assert department.parent is None and department.parent_id is None
    assert department.manager == ref("employee", "416", "employees")
    assert department.manager_id == "416"


def assert_is_position_74(position: JobPosition) -> None:
    assert position.id == "74"
    assert position.status == "active"
    assert position.starts_on == date(2024, 1, 1)
    assert position.ends_on is None
    assert position.job_title == "Developer"
    assert position.employee_id == "416"
    assert position.employment == ref("employment", "28")
    assert position.department == ref("department", "32")
    assert position.department_id == "32"
    assert position.manager_id == "541"
    assert position.business_establishment == ref("business-establishment", "5")
    assert position.job_qualification == ref("job-qualification", "982")
    assert position.occupation_category == ref("occupation-category", "12", "occupation-categories")
    assert position.working_time_arrangement == Reference(
        id="23", type="working-time-arrangement", url="about:blank"
    )
    assert position.remote_id is None and position.notes is None
    assert position.updated_attributes == ("jobTitle", "jobQualification")
    assert position.created_at == CREATED
    assert position.extra["t9n"] == {"jobTitle": {"fr-FR": "Développeur"}}


def test_employees_get_example(client: LuccaOAuthClient, mock: responses.RequestsMock) -> None:
    serve_collection(mock, "employees.get.json", "/lucca-api/employees")
    employees = list(client.employees.list())
    assert len(employees) == 2  # the example, then its "next page"
    for employee in employees:
        assert_is_edward(employee)


def test_employee_get_example(client: LuccaOAuthClient, mock: responses.RequestsMock) -> None:
    mock.get(f"{TENANT}/lucca-api/employees/416", json=reference_example("employee.get.json"))
    assert_is_edward(client.employees.get("416"))


def test_departments_get_example(client: LuccaOAuthClient, mock: responses.RequestsMock) -> None:
    serve_collection(mock, "departments.get.json", "/lucca-api/departments")
    departments = list(client.departments.list())
    assert len(departments) == 2
    assert_is_finances(departments[0])


def test_department_get_example(client: LuccaOAuthClient, mock: responses.RequestsMock) -> None:
    mock.get(f"{TENANT}/lucca-api/departments/32", json=reference_example("department.get.json"))
    department = client.departments.get("32")
    assert_is_finances(department)
    assert department.extra["links"]["activeEmployees"]["href"].endswith(
        "/lucca-api/employees?applicableJobPosition.department.id=32"
    )


def test_job_positions_get_example(client: LuccaOAuthClient, mock: responses.RequestsMock) -> None:
    serve_collection(mock, "job-positions.get.json", "/lucca-api/job-positions")
    positions = list(client.job_positions.list())
    assert len(positions) == 2
    assert_is_position_74(positions[0])


def test_job_position_get_example(client: LuccaOAuthClient, mock: responses.RequestsMock) -> None:
    mock.get(
        f"{TENANT}/lucca-api/job-positions/74", json=reference_example("job-position.get.json")
    )
    position = client.job_positions.get("74")
    assert_is_position_74(position)
    assert set(position.extra["embedded"]) == {
        "department",
        "job-qualification",
        "employee",
        "employment",
    }


def test_every_example_of_these_endpoints_is_covered() -> None:
    covered = {
        "employees.get.json",
        "employee.get.json",
        "departments.get.json",
        "department.get.json",
        "job-positions.get.json",
        "job-position.get.json",
    }
    on_disk = {p.name for p in (REFERENCE / "examples").glob("*.get.json")}
    assert on_disk == covered


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (500, ServerError),
    ],
)
def test_error_examples_raise_the_right_error(
    client: LuccaOAuthClient, mock: responses.RequestsMock, status: int, error: type[ApiError]
) -> None:
    body = reference_example(f"error.{status}.json")
    mock.get(
        f"{TENANT}/lucca-api/employees/1573",
        body=json.dumps(body),
        status=status,
        content_type="application/problem+json",
    )
    if status == 401:  # the client renews its token once before giving up
        mock.post(TOKEN_URL, json={"access_token": f"{SECRET_MARK}-t2", "expires_in": 1800})
    with pytest.raises(error) as caught:
        client.employees.get("1573")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert body["title"] in str(caught.value)
    assert caught.value.message is not None and body["title"] in caught.value.message
    if status == 400:
        assert caught.value.errors["employeeId"] == ["The employeeId query parameter is required."]
        assert caught.value.request_id == "|78777424-49cc27e04281bbfc."


# --- model details beyond the examples ------------------------------------------------------


def test_employee_without_embedded_job_position_has_no_department() -> None:
    data: dict[str, Any] = {"id": "1", "applicableJobPosition": {"id": "9"}}
    assert Employee.from_api(data).department_id is None
    assert Employee.from_api(data, embedded={"job-position": {"8": {}}}).department is None
    # An unknown status is kept as it is, never an error.
    assert Employee.from_api({"id": 7, "status": "on-leave"}) == Employee(id="7", status="on-leave")


def test_department_tree_ids_can_be_given_or_derived() -> None:
    child = Department(id="2", parent=Reference(id="1"))
    assert child.parent_id == "1"
    assert Department(id="3", parent_id="1").parent_id == "1"


def test_a_payload_that_is_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="Department"):
        Department.from_api(["not", "an", "object"])
