"""The fake Lucca token endpoint: client credentials, OAuth errors, expiry, scopes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conftest import SECRET_MARK, FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox._service import Faults
from lucca_cards.sandbox.lucca import LuccaFake
from sandbox_company import (
    CLIENT_ID,
    CLIENT_SECRET,
    assert_valid,
    get_token,
    lucca_get,
    make_fake,
)

FORM = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "grant_type": "client_credentials"}


@pytest.fixture
def fake(clock: FakeClock) -> LuccaFake:
    return make_fake(clock, token_lifetime=600)


@pytest.fixture
def url(fake: LuccaFake) -> Iterator[str]:
    with ServedApp(fake) as served:
        yield served.url


def post_token(url: str, **changes: Any) -> requests.Response:
    form = {k: v for k, v in (FORM | changes).items() if v is not None}
    return requests.post(f"{url}/connect/token", data=form, timeout=5)


def test_a_client_gets_a_bearer_token_with_its_lifetime(url: str) -> None:
    response = post_token(url, scope="employees.readwrite departments.readonly")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert len(body["access_token"]) >= 32
    assert response.headers["Cache-Control"] == "no-store"
    assert lucca_get(url, body["access_token"], "/employees").status_code == 200


def test_each_request_gets_a_new_token(url: str) -> None:
    assert get_token(url) != get_token(url)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"client_secret": f"{SECRET_MARK}-wrong"}, "invalid_client"),
        ({"client_secret": None}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"scope": "employees.readonly leaves.readonly"}, "invalid_scope"),
    ],
)
def test_bad_token_requests_get_oauth_errors(
    url: str, changes: dict[str, Any], error: str
) -> None:
    response = post_token(url, **changes)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert SECRET_MARK not in response.text


def test_a_json_body_is_an_invalid_request(url: str) -> None:
    response = requests.post(f"{url}/connect/token", json=FORM, timeout=5)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert SECRET_MARK not in response.text


def test_a_repeated_parameter_is_an_invalid_request(url: str) -> None:
    body = "&".join(f"{k}={v}" for k, v in FORM.items()) + "&scope=a&scope=b"
    response = requests.post(f"{url}/connect/token", data=body, timeout=5, headers={
        "Content-Type": "application/x-www-form-urlencoded"})

    assert response.json()["error"] == "invalid_request"


def test_get_on_the_token_endpoint_is_not_allowed(url: str) -> None:
    response = requests.get(f"{url}/connect/token", timeout=5)

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["error"] == "invalid_request"


def test_a_token_expires_after_its_lifetime_on_the_fake_clock(
    url: str, clock: FakeClock
) -> None:
    token = get_token(url)
    clock.sleep(599)
    assert lucca_get(url, token, "/employees").status_code == 200

    clock.sleep(1)
    response = lucca_get(url, token, "/employees")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert_valid("response.problem", response.json())
    assert token not in response.text
    assert lucca_get(url, get_token(url), "/employees").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer unknown-token", "Basic abc"])
def test_missing_or_unknown_bearers_are_unauthenticated(
    url: str, authorization: str | None
) -> None:
    headers = {"Api-Version": "2024-11-01"}
    if authorization:
        headers["Authorization"] = authorization
    response = requests.get(f"{url}/lucca-api/employees", headers=headers, timeout=5)

    assert response.status_code == 401
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"
    assert_valid("response.problem", problem)


def test_omitted_scope_grants_every_scope_of_the_client(url: str) -> None:
    token = get_token(url)

    for path in ("/employees", "/departments", "/job-positions"):
        assert lucca_get(url, token, path).status_code == 200, path


def test_a_token_only_reads_the_families_of_its_scopes(url: str) -> None:
    token = get_token(url, scope="departments.readonly")

    assert lucca_get(url, token, "/departments").status_code == 200
    response = lucca_get(url, token, "/employees/1")
    assert response.status_code == 403
    assert "employees.readonly" in response.json()["detail"]
    assert_valid("response.problem", response.json())


def test_the_default_client_scopes_leave_job_positions_out(clock: FakeClock) -> None:
    fake = make_fake(clock, scopes=("departments.readonly", "employees.readwrite"))
    with ServedApp(fake) as served:
        token = get_token(served.url)
        assert lucca_get(served.url, token, "/employees").status_code == 200
        assert lucca_get(served.url, token, "/job-positions").status_code == 403
        assert post_token(served.url, scope="job-positions.readonly").json()["error"] == (
            "invalid_scope")


def test_the_token_endpoint_is_outside_the_tenant_rate_limit(clock: FakeClock) -> None:
    with ServedApp(make_fake(clock, rate_limit=2)) as served:
        token = get_token(served.url)
        assert [lucca_get(served.url, token, "/departments").status_code
                for _ in range(3)] == [200, 200, 429]

        assert post_token(served.url).status_code == 200
        counts = requests.get(f"{served.url}/_sandbox/requests", timeout=5).json()["counts"]
        assert counts == {"POST /connect/token": 2, "GET /lucca-api/departments": 3}


def test_token_faults_answer_in_the_oauth_dialect(clock: FakeClock) -> None:
    faults = {"token": Faults(unavailable=1.0)}
    with ServedApp(make_fake(clock, faults=faults)) as served:
        response = post_token(served.url)

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_no_secret_or_token_leaks_into_state_or_log(url: str) -> None:
    token = get_token(url)
    lucca_get(url, token, "/employees")
    post_token(url, client_secret=f"{SECRET_MARK}-wrong")

    for path in ("/_sandbox/state", "/_sandbox/requests"):
        text = requests.get(f"{url}{path}", timeout=5).text
        assert SECRET_MARK not in text
        assert token not in text
    assert "access_token" not in json.dumps(requests.get(f"{url}/_sandbox/state",
                                                         timeout=5).json())
