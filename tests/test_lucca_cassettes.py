"""LuccaOAuthClient against recorded exchanges: Lucca's published examples, a sandbox session.

The first run records each exchange (token request included) from the loopback
``docserver`` into ``cassettes/test_lucca_cassettes/``; later runs replay the cassette
(the server then receives nothing, so these tests assert on what the client parsed).
The examples' ``links.next`` points at ``example.ilucca.net``, a host the client refuses
to send its token to, so the served collections end after one page (``next: null``);
following ``links.next`` is covered in ``test_lucca_oauth.py`` and, live against the
sandbox, in ``test_sandbox_clients.py``. The last test replays a session recorded from
the sandbox's fake Lucca (``cassette_sandbox``).
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import SECRET_MARK
from docserver import DocServer, reference_example
from lucca_cards import RateLimiter
from lucca_cards.lucca.client import LuccaOAuthClient
from lucca_cards.sandbox import Sandbox


def last_page(name: str) -> dict[str, Any]:
    """Lucca's example collection, as the last page."""
    return {**reference_example(name), "links": {"prev": None, "next": None}}


@pytest.fixture
def lucca(docserver: DocServer) -> LuccaOAuthClient:
    docserver.route(
        "POST",
        "/connect/token",
        {"access_token": f"{SECRET_MARK}-token", "token_type": "Bearer", "expires_in": 1800},
    )
    return LuccaOAuthClient(
        base_url=docserver.url,
        client_id="cards-integration",
        client_secret=f"{SECRET_MARK}-client",
        token_url=f"{docserver.url}/connect/token",
        rate_limiter=RateLimiter(0),
    )


@pytest.mark.vcr
def test_employees_list(docserver: DocServer, lucca: LuccaOAuthClient) -> None:
    docserver.route("GET", "/lucca-api/employees", last_page("employees.get.json"))
    employees = list(lucca.employees.list(status=["active", "upcoming"]))
    assert [(e.id, e.email, e.status, e.department_id) for e in employees] == [
        ("416", "eatkinson@acme.corp", "active", "32")
    ]


@pytest.mark.vcr
def test_employees_get(docserver: DocServer, lucca: LuccaOAuthClient) -> None:
    docserver.route("GET", "/lucca-api/employees/416", reference_example("employee.get.json"))
    edward = lucca.employees.get("416")
    assert (edward.given_name, edward.family_name) == ("Edward", "Atkinson")
    assert edward.department_id == "32"
    assert edward.job_title == "Developer"


@pytest.mark.vcr
def test_departments_list(docserver: DocServer, lucca: LuccaOAuthClient) -> None:
    docserver.route("GET", "/lucca-api/departments", last_page("departments.get.json"))
    departments = list(lucca.departments.list(is_archived=False))
    assert [(d.id, d.name, d.parent_id, d.manager_id) for d in departments] == [
        ("32", "Finances", None, "416")
    ]


@pytest.mark.vcr
def test_departments_get(docserver: DocServer, lucca: LuccaOAuthClient) -> None:
    docserver.route("GET", "/lucca-api/departments/32", reference_example("department.get.json"))
    finances = lucca.departments.get("32")
    assert (finances.name, finances.remote_id, finances.level) == ("Finances", "FIN", 1)


@pytest.mark.vcr
def test_job_positions_list(docserver: DocServer, lucca: LuccaOAuthClient) -> None:
    docserver.route("GET", "/lucca-api/job-positions", last_page("job-positions.get.json"))
    positions = list(lucca.job_positions.list(department_ids=["32"]))
    assert [(p.id, p.employee_id, p.department_id, p.job_title) for p in positions] == [
        ("74", "416", "32", "Developer")
    ]


@pytest.mark.vcr
def test_job_positions_get(docserver: DocServer, lucca: LuccaOAuthClient) -> None:
    docserver.route(
        "GET", "/lucca-api/job-positions/74", reference_example("job-position.get.json")
    )
    position = lucca.job_positions.get("74")
    assert (position.status, position.starts_on.isoformat() if position.starts_on else None) == (
        "active",
        "2024-01-01",
    )


# -- a session recorded from the sandbox's fake Lucca (token, then schema-valid pages) --


@pytest.mark.vcr
def test_session_against_the_sandbox(cassette_sandbox: Sandbox) -> None:
    company = cassette_sandbox.company.lucca
    with LuccaOAuthClient.from_settings(cassette_sandbox.settings(),
                                        rate_limiter=RateLimiter(0)) as lucca:
        current = list(lucca.employees.list(status=["active", "upcoming"]))
        departments = {d.id: d for d in lucca.departments.list()}
        first = lucca.employees.get(current[0].id)
    assert 0 < len(current) < len(company.employees)  # the deactivated ones are left out
    assert {d.name for d in departments.values()} == {
        d.name for d in company.departments.values()}
    for employee in current:
        truth = company.employees[int(employee.id)]
        assert employee.email == truth.email
        assert employee.department_id == str(
            company.job_positions[truth.job_position_id].department_id)
        assert employee.department_id in departments
    assert (first.given_name, first.family_name) == (current[0].given_name,
                                                      current[0].family_name)
