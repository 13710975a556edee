"""Our three clients round-trip every sandbox endpoint, over real sockets.

The sandbox is built from the API references, not from the clients, so these tests check
the clients against the documented behaviour (paging, filters, partial updates, group
auto-creation, token expiry, rate limits, faults), not against themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import FakeClock
from lucca_cards import (
    CardsClient,
    ChapterCompleteEvent,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    NotFoundError,
    QuizCompleteEvent,
    RateLimiter,
    TrainingRecord,
    ValidationError,
)
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox import Faults, Sandbox
from lucca_cards.sandbox._model import employee_status

SCOPES = ("departments.readonly", "employees.readwrite", "job-positions.readonly")


def unthrottled(sandbox: Sandbox, **options: Any) -> dict[str, Any]:
    """Client options: no client-side throttle (the sandbox is unlimited here)."""
    return {"rate_limiter": RateLimiter(0), **options}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11, employees=240, departments=12, lucca_rate_limit=0,
                 cards_rate_limit=0, lucca_scopes=SCOPES) as running:
        yield running


@pytest.fixture(scope="module")
def lucca(sandbox: Sandbox) -> Iterator[LuccaOAuthClient]:
    with LuccaOAuthClient.from_settings(sandbox.settings(lucca_scopes=" ".join(SCOPES)),
                                        **unthrottled(sandbox)) as client:
        yield client


@pytest.fixture(scope="module")
def legacy(sandbox: Sandbox) -> Iterator[LuccaLegacyApiClient]:
    with LuccaLegacyApiClient.from_settings(sandbox.settings(), **unthrottled(sandbox)) as client:
        yield client


@pytest.fixture(scope="module")
def cards(sandbox: Sandbox) -> Iterator[CardsClient]:
    with CardsClient.from_settings(sandbox.settings(), **unthrottled(sandbox)) as client:
        yield client


# -- Lucca API ---------------------------------------------------------------------------


def test_one_sweep_reads_every_employee_with_status_and_department(
    lucca: LuccaOAuthClient, sandbox: Sandbox
) -> None:
    sandbox.lucca.log.clear()
    people = {int(e.id): e for e in lucca.employees.list()}
    company = sandbox.company.lucca
    assert people.keys() == company.employees.keys()
    for employee_id, truth in company.employees.items():
        read = people[employee_id]
        employment = company.employments[truth.employment_id]
        assert read.status == employee_status(employment, sandbox.company.today)
        assert read.email == truth.email
        position = company.job_positions[truth.job_position_id]
        assert read.department_id == str(position.department_id)
    counts = sandbox.lucca.log.counts()
    assert counts.pop("GET /lucca-api/employees") == 3  # 240 employees at 100 a page
    assert set(counts) <= {"POST /connect/token"}


def test_employee_filters_select_what_the_sandbox_holds(
    lucca: LuccaOAuthClient, sandbox: Sandbox
) -> None:
    company, today = sandbox.company.lucca, sandbox.company.today
    current = {e.id for e in company.employees.values()
               if employee_status(company.employments[e.employment_id], today) != "deactivated"}
    assert {int(e.id) for e in lucca.employees.list(status=["active", "upcoming"])} == current
    someone = next(e for e in company.employees.values() if e.email)
    assert [int(e.id) for e in lucca.employees.list(email=[someone.email])] == [
        e.id for e in company.employees.values() if e.email == someone.email]
    department = company.job_positions[someone.job_position_id].department_id
    members = {int(e.id) for e in lucca.employees.list(department_ids=[department])}
    assert someone.id in members
    assert all(company.job_positions[company.employees[m].job_position_id].department_id
               == department for m in members)


def test_departments_and_job_positions_round_trip(
    lucca: LuccaOAuthClient, sandbox: Sandbox
) -> None:
    company = sandbox.company.lucca
    departments = {int(d.id): d for d in lucca.departments.list()}
    assert departments.keys() == company.departments.keys()
    for department_id, truth in company.departments.items():
        assert departments[department_id].name == truth.name
        assert departments[department_id].parent_id == (
            None if truth.parent_id is None else str(truth.parent_id))
        assert departments[department_id].level == truth.level
    one = next(iter(company.departments.values()))
    assert lucca.departments.get(one.id).name == one.name
    positions = list(lucca.job_positions.list())
    assert len(positions) == len(company.job_positions)
    employee = next(iter(company.employees.values()))
    assert lucca.employees.get(employee.id).family_name == employee.family_name
    assert lucca.job_positions.get(employee.job_position_id).department_id == str(
        company.job_positions[employee.job_position_id].department_id)
    with pytest.raises(NotFoundError):
        lucca.employees.get(987654321)


def test_an_expired_token_is_renewed_once(clock: FakeClock) -> None:
    with Sandbox(employees=30, departments=6, lucca_rate_limit=0, cards_rate_limit=0,
                 token_lifetime=600, clock=clock) as box, LuccaOAuthClient.from_settings(
                     box.settings(), **unthrottled(box)) as client:
        assert client.employees.list().first() is not None
        clock.now += 601  # the sandbox's clock: the token is dead, the client does not know
        assert len(list(client.departments.list())) == 6
        assert box.lucca.log.counts()["POST /connect/token"] == 2
        assert [e["status"] for e in box.lucca.log.entries()
                if e["path"] == "/lucca-api/departments"] == [401, 200]


def test_the_client_waits_out_the_sandbox_rate_limit(clock: FakeClock) -> None:
    """Sandbox and client share one fake clock: the client's waits reopen the window."""
    with Sandbox(employees=250, departments=6, lucca_rate_limit=2, cards_rate_limit=0,
                 rate_window=60.0, clock=clock) as box, LuccaOAuthClient.from_settings(
                     box.settings(lucca_requests_per_minute=0), clock=clock,
                     sleep=clock.sleep, rate_limiter=RateLimiter(0)) as client:
        assert len(list(client.employees.list())) == 250
        statuses = [e["status"] for e in box.lucca.log.entries()
                    if e["path"] == "/lucca-api/employees"]
    assert statuses.count(200) == 3
    assert 429 in statuses
    assert clock.sleeps and all(s <= 60 for s in clock.sleeps)


def test_reads_survive_injected_faults(clock: FakeClock) -> None:
    faults = Faults(rate_limited=0.1, server_error=0.1, unavailable=0.1, reset=0.1, seed=10)
    with Sandbox(employees=1500, departments=8, lucca_rate_limit=0, cards_rate_limit=0,
                 faults={"lucca": faults, "cards": faults}) as box:
        options = unthrottled(box, clock=clock, sleep=clock.sleep)
        with LuccaOAuthClient.from_settings(box.settings(), **options) as lucca, \
                CardsClient.from_settings(box.settings(), **options) as cards:
            assert len(list(lucca.employees.list())) == 1500
            for _ in range(10):
                assert len(list(cards.users.list())) == len(box.company.cards.users)
                assert len(list(cards.groups.list())) == len(box.company.cards.groups)
        logged = [e["status"] for e in box.lucca.log.entries() + box.cards.log.entries()]
    assert {429, 500, 503, None} <= set(logged)


# -- legacy API --------------------------------------------------------------------------


def test_legacy_lists_hide_former_employees_unless_asked(
    legacy: LuccaLegacyApiClient, sandbox: Sandbox
) -> None:
    company, today = sandbox.company.lucca, sandbox.company.today
    former = {e.id for e in company.employees.values()
              if (end := company.employments[e.employment_id].end) is not None and end < today}
    assert former
    listed = {u.id for u in legacy.users.list(fields="id,mail")}
    assert listed == company.employees.keys() - former
    everyone = {u.id for u in legacy.users.list(fields="id,mail", former_employees=True)}
    assert everyone == set(company.employees)


def test_training_records_round_trip_through_the_legacy_api(
    legacy: LuccaLegacyApiClient, sandbox: Sandbox
) -> None:
    user_id = next(iter(sandbox.company.lucca.employees))
    records = [
        TrainingRecord(title="RGPD : les essentiels", link="https://cards.example/t/1",
                       progress=100.0, score=18.0, last_completion_date=dt.date(2026, 11, 2)),
        TrainingRecord(title="Cybersécurité", link="https://cards.example/t/2",
                       progress=40.0, score=None, last_completion_date=None),
    ]
    legacy.users.write_training_records(user_id, records)
    stored = legacy.users.read_training_records(user_id)
    assert [r.record for r in stored] == records
    legacy.users.write_training_records(user_id, records[1:])
    assert [r.record for r in legacy.users.read_training_records(user_id)] == records[1:]
    on_file = sandbox.company.lucca.employees[user_id].extended_data["e_formation"]
    assert len(on_file) == 1


def test_legacy_update_changes_the_person_for_both_apis(
    legacy: LuccaLegacyApiClient, lucca: LuccaOAuthClient, sandbox: Sandbox
) -> None:
    user_id = list(sandbox.company.lucca.employees)[1]
    updated = legacy.users.update(user_id, {"lastName": "Lefèvre-N'Diaye"},
                                  fields="id,lastName")
    assert updated.last_name == "Lefèvre-N'Diaye"
    assert legacy.users.get(user_id, fields="id,lastName").last_name == "Lefèvre-N'Diaye"
    assert lucca.employees.get(user_id).family_name == "Lefèvre-N'Diaye"


# -- Cards -------------------------------------------------------------------------------


def test_cards_users_groups_and_catalogue_round_trip(
    cards: CardsClient, sandbox: Sandbox
) -> None:
    data = sandbox.company.cards
    users = {u.id: u for u in cards.users.list()}
    assert users.keys() == data.users.keys()
    for user_id, truth in data.users.items():
        assert [g.id for g in users[user_id].groups] == truth.group_ids
    assert {g.id for g in cards.groups.list()} == data.groups.keys()
    assert {t.id for t in cards.trainings.list()} == data.trainings.keys()
    assert {b.id for b in cards.badges.list()} == data.badges.keys()
    assert {c.id for c in cards.certificates.list()} == data.certificates.keys()
    badge = next(b for b in data.badges.values() if b.user_ids)
    assert cards.badges.get(badge.id).name == badge.name
    assert {u.id for u in cards.badges.users(badge.id)} == set(badge.user_ids)
    assert badge.id in {b.id for b in cards.users.badges(badge.user_ids[0])}
    some_user = next(u for u in data.users.values() if u.email)
    training = next(iter(data.trainings.values()))
    embed = cards.embeds.create(some_user.email or "", training_id=training.id)
    assert embed.url.startswith("https://")


def test_cards_user_life_cycle(cards: CardsClient, sandbox: Sandbox) -> None:
    created = cards.users.create("Zoé", "N'Diaye", "zoe.ndiaye@sandbox.example", notify=True,
                                 groups=["Nouveaux arrivants 2026"])
    assert [g.name for g in created.groups] == ["Nouveaux arrivants 2026"]
    assert "Nouveaux arrivants 2026" in {g.name for g in cards.groups.list()}
    assert any(m["email"] == "zoe.ndiaye@sandbox.example" for m in sandbox.cards.outbox)
    with pytest.raises(ValidationError) as duplicate:
        cards.users.create("Zoé", "Autre", "ZOE.NDIAYE@sandbox.example")
    assert "email" in duplicate.value.errors
    moved = cards.users.update(created.id, groups=[*created.groups, "Ambassadeurs RSE"])
    assert [g.name for g in moved.groups] == ["Nouveaux arrivants 2026", "Ambassadeurs RSE"]
    assert cards.users.get(created.id).groups == moved.groups
    cards.users.delete(created.id)
    with pytest.raises(NotFoundError):
        cards.users.get(created.id)


def test_simulated_activity_reaches_a_receiver_that_verifies_with_our_client(
    cards: CardsClient, sandbox: Sandbox
) -> None:
    from werkzeug.wrappers import Request, Response

    received: list[Any] = []
    secret = sandbox.credentials.webhook_secret

    def receiver(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        ok = cards.webhooks.verify(body, request.headers.get("Signature", ""), secret)
        if ok:
            received.append(cards.webhooks.parse(body))
        return Response(status=204 if ok else 401)(environ, start_response)

    with ServedApp(receiver) as hook:
        sandbox.cards.webhook_url = hook.url + "/hooks/cards"
        report = sandbox.simulate_activity(learners=6, seed=3)
    assert report.failed == 0
    assert report.delivered == len(received) > 0
    assert {type(e) for e in received} <= {ChapterCompleteEvent, QuizCompleteEvent}
    assert ChapterCompleteEvent in {type(e) for e in received}
    data = sandbox.company.cards
    for event in received:
        activity = event.data
        assert activity.user is not None and activity.training is not None
        assert activity.score is not None and activity.score.progress is not None
        truth = data.progress[(activity.user.id, activity.training.id)]
        done = len(truth.chapters_done) / len(data.trainings[activity.training.id].chapters)
        assert 0 < activity.score.progress <= done + 1e-9
