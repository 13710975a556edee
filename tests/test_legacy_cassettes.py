"""The legacy client against recorded exchanges: documented payloads and sandbox sessions.

The documented payloads (reference §A3-§A11) are served by the loopback ``docserver``;
the stateful sessions at the end (writing, reading back and dropping training records;
former employees) by the sandbox's fake legacy API. The first run records each exchange into
``cassettes/test_legacy_cassettes/``; later runs replay the cassette (the server then
receives nothing, so these tests assert on what the client parsed).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs
import pytest

from conftest import SECRET_MARK
from docserver import DocServer
from lucca_cards import RateLimiter, StoredTrainingRecord, TrainingRecord
from lucca_cards.lucca.legacy import LuccaLegacyApiClient
from lucca_cards.sandbox import Sandbox

HEADER = {"generated": "2024-05-02T10:11:12", "principal": "Cards integration"}


def envelope(data: Any) -> dict[str, Any]:
    return {"header": HEADER, "data": data}


def training(
    id_: int, title: str, course: str, progress: float, score: float | None, done: str | None
) -> dict[str, Any]:
    """One e_formation occurrence, shaped as reference §A10.4 reads it."""
    values = (title, f"https://lms.example.com/c/{course}", progress, score, done)
    return {"id": id_, "value": {code: {"value": v} for code, v in zip(CODES, values, strict=True)}}


CODES = ("e_title", "e_link", "e_progress", "e_score", "e_last_completion_date")
STORED = [
    training(9001, "Python avancé", "42", 80, 15.5, "2024-05-01T00:00:00"),
    training(9002, "RGPD", "7", 100, None, "2024-03-12T00:00:00"),
]
WRITTEN = [
    training(9001, "Python avancé", "42", 100, 17.0, "2024-06-10T00:00:00"),
    training(9003, "Docker", "9", 10, None, None),
]
JOHN = {
    "id": 416,
    "name": "John Doe",
    "firstName": "John",
    "lastName": "DOE",
    "mail": "jdoe@example.com",
    "login": "jdoe",
    "employeeNumber": "00057",
    "departmentId": 13,
    "dtContractStart": "2014-09-01T00:00:00",
    "dtContractEnd": None,
    "modifiedAt": "2015-09-07T10:20:06.583",
    "extendedData": {"e_formation": STORED},
}
# Jane has no training yet; the third user has left (extendedData comes as null).
JANE = {**JOHN, "id": 417, "firstName": "Jane", "mail": "jroe@example.com", "extendedData": {}}
FORMER = {**JANE, "id": 418, "dtContractEnd": "2023-12-31T00:00:00", "extendedData": None}


@pytest.fixture
def legacy(docserver: DocServer) -> LuccaLegacyApiClient:
    return LuccaLegacyApiClient(
        base_url=docserver.url, api_key=f"{SECRET_MARK}-legacy-key", rate_limiter=RateLimiter(0)
    )


@pytest.mark.vcr
def test_list_users_over_two_pages(legacy: LuccaLegacyApiClient, docserver: DocServer) -> None:
    docserver.route("GET", "/api/v3/users", envelope({"items": [JOHN, JANE]}))
    docserver.route("GET", "/api/v3/users", envelope({"items": [FORMER]}))
    pages = list(legacy.users.list(former_employees=True, page_size=2).pages())
    assert [[user.id for user in page] for page in pages] == [[416, 417], [418]]
    john, jane, former = (user for page in pages for user in page)
    assert (john.first_name, john.mail, john.department_id) == ("John", "jdoe@example.com", 13)
    assert john.dt_contract_start == date(2014, 9, 1)
    assert john.modified_at == datetime(2015, 9, 7, 10, 20, 6, 583000)
    assert [r.record.title for r in john.training_records()] == ["Python avancé", "RGPD"]
    assert jane.extended_data == {}
    assert former.dt_contract_end == date(2023, 12, 31)
    assert former.extended_data == {}


@pytest.mark.vcr
def test_get_user(legacy: LuccaLegacyApiClient, docserver: DocServer) -> None:
    docserver.route("GET", "/api/v3/users/416", envelope(JOHN))
    john = legacy.users.get(416)
    assert (john.id, john.name, john.login, john.employee_number) == (
        416,
        "John Doe",
        "jdoe",
        "00057",
    )
    assert john.training_records()[0] == StoredTrainingRecord(
        id=9001,
        record=TrainingRecord(
            title="Python avancé",
            link="https://lms.example.com/c/42",
            progress=80.0,
            score=15.5,
            last_completion_date=date(2024, 5, 1),
        ),
    )


@pytest.mark.vcr
def test_update_user(legacy: LuccaLegacyApiClient, docserver: DocServer) -> None:
    # Reference §A10.3: the answer echoes the fields asked for.
    docserver.route(
        "PUT",
        "/api/v3/users/416",
        {
            "data": {
                "id": 416,
                "lastName": "Doe",
                "extendedData": {"e_quote": {"id": 4896, "value": "test"}},
            }
        },
    )
    user = legacy.users.update(
        416,
        {"lastName": "Doe", "e_quote": {"id": 4896, "value": "test"}},
        fields="lastName,extendedData",
    )
    assert user.last_name == "Doe"
    assert user.extended_data == {"e_quote": {"id": 4896, "value": "test"}}


@pytest.mark.vcr
def test_write_training_records(legacy: LuccaLegacyApiClient, docserver: DocServer) -> None:
    docserver.route(
        "GET", "/api/v3/users/416", envelope({"id": 416, "extendedData": {"e_formation": STORED}})
    )
    docserver.route(
        "PUT", "/api/v3/users/416", envelope({"id": 416, "extendedData": {"e_formation": WRITTEN}})
    )
    result = legacy.users.write_training_records(
        416,
        [
            TrainingRecord(
                title="Python avancé",
                link="https://lms.example.com/c/42",
                progress=100,
                score=17,
                last_completion_date=date(2024, 6, 10),
            ),
            TrainingRecord(title="Docker", link="https://lms.example.com/c/9", progress=10),
        ],
    )
    assert result.written
    assert [(o["id"], o["value"] is None) for o in (result.payload or {})["e_formation"]] == [
        (9001, False),
        (0, False),
        (9002, True),
    ]
    assert [(r.id, r.record.title, r.record.progress) for r in result.records] == [
        (9001, "Python avancé", 100.0),
        (9003, "Docker", 10.0),
    ]


# -- sessions recorded from the sandbox's fake legacy API (stateful: ids are the server's) --


@pytest.mark.vcr
def test_training_records_session_against_the_sandbox(cassette_sandbox: Sandbox) -> None:
    user_id = next(iter(cassette_sandbox.company.lucca.employees))
    python = TrainingRecord(title="Python avancé", link="https://cards.example/t/42",
                            progress=80, score=15.5, last_completion_date=date(2026, 10, 1))
    rgpd = TrainingRecord(title="RGPD : les essentiels", link="https://cards.example/t/7",
                          progress=100)
    with LuccaLegacyApiClient.from_settings(cassette_sandbox.settings(),
                                            rate_limiter=RateLimiter(0)) as legacy:
        first = legacy.users.write_training_records(user_id, [python, rgpd])
        assert first.written
        ids = {r.record.title: r.id for r in first.records}
        assert all(ids.values())  # the server gave every new occurrence an id
        stored = legacy.users.read_training_records(user_id)
        assert [(r.id, r.record) for r in stored] == [
            (ids["Python avancé"], python), (ids["RGPD : les essentiels"], rgpd)]
        finished = attrs.evolve(python, progress=100.0)
        second = legacy.users.write_training_records(user_id, [finished])
        assert [(o["id"], o["value"] is None) for o in (second.payload or {})["e_formation"]] == [
            (ids["Python avancé"], False), (ids["RGPD : les essentiels"], True)]
        assert [(r.id, r.record) for r in legacy.users.read_training_records(user_id)] == [
            (ids["Python avancé"], finished)]
        unchanged = legacy.users.write_training_records(user_id, [finished])
        assert not unchanged.written  # nothing differs: no PUT


@pytest.mark.vcr
def test_former_employees_against_the_sandbox(cassette_sandbox: Sandbox) -> None:
    with LuccaLegacyApiClient.from_settings(cassette_sandbox.settings(),
                                            rate_limiter=RateLimiter(0)) as legacy:
        current = {u.id for u in legacy.users.list(fields="id,mail,dtContractEnd")}
        everyone = list(legacy.users.list(fields="id,mail,dtContractEnd", former_employees=True))
    assert len(everyone) == len(cassette_sandbox.company.lucca.employees)
    former = {u.id for u in everyone} - current
    assert former
    today = cassette_sandbox.company.today
    assert all(u.dt_contract_end is not None and u.dt_contract_end < today
               for u in everyone if u.id in former)
