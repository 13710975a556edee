"""The fake Lucca's HR changes, the events they emit, and their signed delivery (§B14).

Every event's ``data`` is validated against Lucca's own schemas (``shared/lucca-reference``)
and compared with what the Lucca API answers for the same resource; every delivery's
signature is recomputed here with ``hmac``, independently of the sandbox. Retries wait
through an injected ``sleep`` that records the backoff; tests wait on the delivery thread
with a timeout, never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox.lucca import DEFAULT_SCOPES
from lucca_receiver import Receiver, expected_signature
from test_sandbox_contract import REFERENCE, schema_errors

API_VERSION = "2024-11-01"
SCOPES = (*DEFAULT_SCOPES, "job-positions.readonly")
TODAY = dt.date(2026, 3, 2)
YESTERDAY = TODAY - dt.timedelta(days=1)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
OCCURRED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
EVENT_KEYS = {"id", "type", "url", "topic", "occurredAt", "source", "apiVersion", "data",
              "businessEstablishment"}
SCHEMA_OF = {"employee": "employee", "employment": "employment", "job-position": "job-position"}
COLLECTION_OF = {"employee": "employees", "job-position": "job-positions"}
needs_schemas = pytest.mark.skipif(not (REFERENCE / "schemas.json").is_file(),
                                   reason=f"{REFERENCE} is absent: Lucca's schemas are needed")


class Box:
    """A running sandbox, its receiver and the backoff its injected ``sleep`` recorded."""

    def __init__(self, sandbox: Sandbox, hook: Receiver, sleeps: list[float], secret: str,
                 endpoint: str) -> None:
        self.sandbox, self.hook, self.sleeps = sandbox, hook, sleeps
        self.secret, self.endpoint = secret, endpoint
        self.lucca = sandbox.lucca
        self.data = sandbox.company.lucca

    def idle(self) -> None:
        assert self.lucca.deliveries.wait_idle(10), self.lucca.deliveries.as_json()

    def department_of(self, employee_id: int) -> int:
        return self.data.job_positions[self.data.employees[employee_id].job_position_id]\
            .department_id

    def other_department(self, employee_id: int) -> int:
        current = self.department_of(employee_id)
        return next(d.id for d in self.data.departments.values()
                    if d.id != current and not d.is_archived)

    def settled_employee(self) -> int:
        """An active employee whose position started before today, and open-ended."""
        for employee in self.data.employees.values():
            position = self.data.job_positions[employee.job_position_id]
            employment = self.data.employments[employee.employment_id]
            if position.starts_on < TODAY and position.ends_on is None \
                    and employment.end is None:
                return employee.id
        raise AssertionError("no settled employee")

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.sandbox.lucca_url}/_sandbox/lucca/{path}",
                                json=body, timeout=10)

    def api(self, path: str) -> requests.Response:
        info = self.sandbox.connection_info()
        grant = requests.post(info["token_url"], timeout=5, data={
            "grant_type": "client_credentials", "client_id": info["client_id"],
            "client_secret": info["client_secret"], "scope": " ".join(SCOPES)}).json()
        return requests.get(f"{self.sandbox.lucca_url}/lucca-api/{path}", timeout=10, headers={
            "Authorization": f"Bearer {grant['access_token']}", "Api-Version": API_VERSION})


def make_box(statuses: tuple[int, ...] = (), **options: Any) -> Iterator[Box]:
    sleeps: list[float] = []
    hook = Receiver(statuses)
    with hook.serve() as served, Sandbox(
        seed=8, employees=30, departments=7, today=TODAY, lucca_rate_limit=0,
        cards_rate_limit=0, lucca_scopes=SCOPES, sleep=sleeps.append, **options,
    ) as sandbox:
        endpoint, secret = sandbox.lucca.register_webhook(served.url + "/lucca")
        yield Box(sandbox, hook, sleeps, secret, endpoint)


@pytest.fixture
def box() -> Iterator[Box]:
    yield from make_box()


def hire(box: Box, department: int | None = None, **changes: Any) -> int:
    body = {"givenName": "Chloé", "familyName": "N'Diaye", "email": "chloe.ndiaye@example.com",
            "departmentId": department or box.department_of(101), **changes}
    answer = box.control("POST", "employees", body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def check_event(box: Box, event: dict[str, Any]) -> None:
    """The envelope of §B14, and ``data`` as the Lucca API renders that resource."""
    root = box.sandbox.lucca_url
    updated = event["topic"].endswith(".updated")
    assert set(event) == EVENT_KEYS | ({"previousAttributes"} if updated else set())
    assert event["type"] == "event" and event["apiVersion"] == API_VERSION
    assert event["url"] == f"{root}/lucca-api/events/{event['id']}"
    assert event["source"] == root
    assert OCCURRED.fullmatch(event["occurredAt"])
    resource = event["topic"].partition(".")[0]
    assert event["data"]["type"] == resource
    site = event["businessEstablishment"]
    assert site is None or set(site) == {"id", "type", "url"}


# -- the changes and their topics ------------------------------------------------------------

def test_a_hire_emits_the_three_creations_and_answers_the_employee(box: Box) -> None:
    department = box.department_of(101)
    answer = box.control("POST", "employees", {
        "givenName": "Zoé", "familyName": "L'Hôte", "email": "zoe.lhote@example.com",
        "departmentId": str(department), "jobTitle": "Chargée de mission"})

    assert answer.status_code == 201, answer.text
    employee = answer.json()
    assert employee == box.api(f"employees/{employee['id']}").json()
    assert employee["status"] == "active" and employee["email"] == "zoe.lhote@example.com"
    box.idle()
    events = box.hook.events()
    assert [e["topic"] for e in events] == ["employee.created", "employment.created",
                                           "job-position.created"]
    assert [e["occurredAt"] for e in events] == sorted(e["occurredAt"] for e in events)
    assert len({e["id"] for e in events}) == 3
    assert events[0]["data"] == employee
    assert events[1]["data"]["start"] == {"date": TODAY.isoformat()}
    assert events[1]["data"]["end"] is None
    position = events[2]["data"]
    assert position["department"]["id"] == str(department)
    assert position["jobTitle"] == "Chargée de mission"
    assert position == box.api(f"job-positions/{position['id']}").json()
    assert employee["applicableJobPosition"]["id"] == position["id"]
    for event in events:
        check_event(box, event)
        assert event["businessEstablishment"] == position["businessEstablishment"]


def test_a_future_hire_is_upcoming(box: Box) -> None:
    ident = hire(box, startsOn=(TODAY + dt.timedelta(days=10)).isoformat(), email=None)
    box.idle()

    created = box.hook.events()[0]["data"]
    assert created["id"] == str(ident)
    assert created["status"] == "upcoming" and created["email"] is None


def test_a_move_starts_a_new_position_and_ends_the_old_one_yesterday(box: Box) -> None:
    employee = box.settled_employee()
    old = box.data.employees[employee].job_position_id
    target = box.other_department(employee)

    answer = box.control("POST", f"employees/{employee}/move", {"departmentId": target})

    assert answer.status_code == 200, answer.text
    box.idle()
    created, updated = box.hook.events()
    assert (created["topic"], updated["topic"]) == ("job-position.created",
                                                    "job-position.updated")
    assert created["data"]["department"]["id"] == str(target)
    assert created["data"]["startsOn"] == TODAY.isoformat() and created["data"]["endsOn"] is None
    assert answer.json()["applicableJobPosition"]["id"] == created["data"]["id"]
    assert updated["data"]["id"] == str(old)
    assert updated["data"]["endsOn"] == YESTERDAY.isoformat()
    assert updated["previousAttributes"] == {"endsOn": None}
    assert box.api(f"job-positions/{old}").json() == updated["data"]
    assert "employee.updated" not in box.lucca.events.topics()  # a move is not one


def test_a_move_on_the_first_day_changes_the_position_in_place(box: Box) -> None:
    employee = hire(box)
    first = box.department_of(employee)
    target = box.other_department(employee)

    box.lucca.move(employee, target)
    box.idle()

    moved = box.hook.events()[-1]
    assert moved["topic"] == "job-position.updated"
    assert moved["data"]["department"]["id"] == str(target)
    assert moved["previousAttributes"]["department"]["id"] == str(first)
    assert len(box.data.job_positions) == len({*box.data.job_positions})


def test_an_email_change_emits_employee_updated_with_the_old_address(box: Box) -> None:
    employee = box.settled_employee()
    old = box.data.employees[employee].email

    answer = box.control("POST", f"employees/{employee}/email", {"email": "renamed@example.com"})

    assert answer.status_code == 200 and answer.json()["email"] == "renamed@example.com"
    box.idle()
    [event] = box.hook.events()
    assert event["topic"] == "employee.updated"
    assert event["previousAttributes"] == {"email": old}
    assert event["data"] == answer.json()
    assert box.lucca.change_email(employee, "renamed@example.com") == []  # no change, no event


def test_a_leave_ends_the_employment_and_its_open_position(box: Box) -> None:
    employee = box.settled_employee()
    position = box.data.employees[employee].job_position_id

    answer = box.control("POST", f"employees/{employee}/leave", {})

    assert answer.status_code == 200, answer.text
    box.idle()
    employment, job = box.hook.events()
    assert employment["topic"] == "employment.updated"
    assert employment["data"]["end"] == {"date": TODAY.isoformat()}
    assert employment["previousAttributes"] == {"end": None}
    assert job["topic"] == "job-position.updated" and job["data"]["id"] == str(position)
    assert job["data"]["endsOn"] == TODAY.isoformat()
    assert job["previousAttributes"] == {"endsOn": None}
    later = (TODAY + dt.timedelta(days=30)).isoformat()
    events = box.lucca.leave(employee, dt.date.fromisoformat(later))
    assert [e["previousAttributes"] for e in events] == [
        {"end": {"date": TODAY.isoformat()}}, {"endsOn": TODAY.isoformat()}]


def test_a_deletion_emits_the_employee_as_it_was(box: Box) -> None:
    employee = box.settled_employee()
    before = box.api(f"employees/{employee}").json()

    assert box.control("DELETE", f"employees/{employee}").status_code == 204

    box.idle()
    [event] = box.hook.events()
    assert event["topic"] == "employee.deleted"
    assert event["data"] == before
    assert box.api(f"employees/{employee}").status_code == 404
    assert all(p.employee_id != employee for p in box.data.job_positions.values())
    assert all(e.employee_id != employee for e in box.data.employments.values())
    assert box.control("DELETE", f"employees/{employee}").status_code == 404


def test_ids_are_never_reused_after_a_deletion(box: Box) -> None:
    first = hire(box)
    box.lucca.delete_employee(first)

    assert hire(box) == first + 1


@needs_schemas
def test_every_event_data_validates_against_lucca_schemas(box: Box) -> None:
    employee = box.settled_employee()
    hired = hire(box, startsOn=(TODAY + dt.timedelta(days=3)).isoformat())
    box.lucca.move(employee, box.other_department(employee))
    box.lucca.move(hired, box.other_department(hired))
    box.lucca.change_email(employee, "checked@example.com")
    box.lucca.leave(employee)
    box.lucca.delete_employee(hired)
    box.idle()

    events = box.hook.events()
    assert [e["topic"] for e in events] == [
        "employee.created", "employment.created", "job-position.created",  # hire
        "job-position.created", "job-position.updated",  # move
        "job-position.updated",  # move before the first day
        "employee.updated",  # email
        "employment.updated", "job-position.updated",  # leave
        "employee.deleted"]
    assert events == box.lucca.events.events()
    for event in events:
        check_event(box, event)
        resource = event["topic"].partition(".")[0]
        assert schema_errors(SCHEMA_OF[resource], event["data"]) == [], event["topic"]


# -- control endpoints: refusals ---------------------------------------------------------------

@pytest.mark.parametrize(("path", "body", "words"), [
    ("employees", {"givenName": "A", "familyName": "B", "email": "a@b.fr"}, "missing departmentId"),
    ("employees", {"givenName": "A", "familyName": "B", "email": "a@b.fr", "departmentId": 1,
                   "departementId": 2}, "unknown departementId"),
    ("employees", {"givenName": "", "familyName": "B", "email": "a@b.fr", "departmentId": 1},
     "givenName"),
    ("employees", {"givenName": "A", "familyName": "B", "email": "nope", "departmentId": 1},
     "email"),
    ("employees", {"givenName": "A", "familyName": "B", "email": "a@b.fr",
                   "departmentId": 999}, "No department with id 999"),
    ("employees", {"givenName": "A", "familyName": "B", "email": "a@b.fr",
                   "departmentId": "x"}, "departmentId"),
    ("employees", {"givenName": "A", "familyName": "B", "email": "a@b.fr", "departmentId": 1,
                   "startsOn": "02/03/2026"}, "startsOn"),
    ("employees", [1], "JSON object"),
    ("employees/101/move", {}, "missing departmentId"),
    ("employees/101/leave", {"endsOn": "1990-01-01"}, "before the employment's start"),
])
def test_a_bad_body_is_a_400_with_a_clear_message(
    box: Box, path: str, body: Any, words: str
) -> None:
    answer = box.control("POST", path, body)

    assert answer.status_code == 400
    assert words in answer.json()["message"]
    assert len(box.lucca.events) == 0


def test_an_archived_or_the_same_department_is_refused(box: Box) -> None:
    archived = [d.id for d in box.data.departments.values() if d.is_archived]
    employee = box.settled_employee()
    if archived:
        assert "archived" in box.control("POST", f"employees/{employee}/move", {
            "departmentId": archived[0]}).json()["message"]
    same = box.control("POST", f"employees/{employee}/move",
                       {"departmentId": box.department_of(employee)})
    assert same.status_code == 400 and "already" in same.json()["message"]
    with pytest.raises(ValueError, match="already"):
        box.lucca.move(employee, box.department_of(employee))


@pytest.mark.parametrize(("method", "path", "status"), [
    ("POST", "employees/999999/move", 404),
    ("POST", "employees/999999/email", 404),
    ("POST", "employees/999999/leave", 404),
    ("DELETE", "employees/999999", 404),
    ("GET", "employees", 405),
    ("POST", "employees/101/promote", 404),
    ("POST", "events/unknown/resend", 404),
])
def test_unknown_employees_and_routes(box: Box, method: str, path: str, status: int) -> None:
    body = {"move": {"departmentId": 1}, "email": {"email": "x@y.fr"}}.get(
        path.rpartition("/")[2])
    assert box.control(method, path, body).status_code == status


def test_python_methods_raise_lookup_and_value_errors(box: Box) -> None:
    with pytest.raises(LookupError):
        box.lucca.leave(999999)
    with pytest.raises(ValueError, match="No department"):
        box.lucca.hire(given_name="A", family_name="B", email="a@b.fr", department_id=999)


# -- delivery: signature, retries, order -----------------------------------------------------

def test_every_delivery_is_signed_over_the_timestamp_and_the_raw_body(box: Box) -> None:
    hire(box, givenName="Éloïse")
    box.idle()

    now = dt.datetime.now(dt.timezone.utc)
    for delivery in box.hook.deliveries:
        headers = delivery.headers
        assert headers["Content-Type"] == "application/json"
        stamp = headers["Lucca-Timestamp"]
        assert STAMP.fullmatch(stamp)
        sent = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        assert abs((now - sent).total_seconds()) < 60
        assert headers["Lucca-Signature"] == expected_signature(box.secret, stamp, delivery.body)
        assert expected_signature("another secret", stamp, delivery.body) != \
            headers["Lucca-Signature"]
    assert "Éloïse".encode() in box.hook.deliveries[0].body  # UTF-8, not escaped


def test_a_failing_receiver_is_retried_with_backoff() -> None:
    for box in make_box(statuses=(500, 503, 429)):
        box.lucca.change_email(box.settled_employee(), "retry@example.com")
        box.idle()

        assert len(box.hook.deliveries) == 4
        assert len({d.event["id"] for d in box.hook.deliveries}) == 1
        assert box.sleeps == [0.2, 0.4, 0.8]
        counts = box.lucca.deliveries.as_json()["counts"]
        assert (counts["delivered"], counts["failed"], counts["undelivered"]) == (1, 3, 0)
        assert [entry["status"] for entry in box.lucca.deliveries.log] == [500, 503, 429, 202]


def test_after_five_attempts_an_event_waits_for_a_redelivery() -> None:
    for box in make_box(statuses=(500,) * 5):
        employee = box.settled_employee()
        box.lucca.change_email(employee, "first@example.com")
        box.lucca.change_email(employee, "second@example.com")
        box.idle()

        assert box.sleeps == [0.2, 0.4, 0.8, 1.6]
        counts = box.lucca.deliveries.as_json()["counts"]
        assert (counts["delivered"], counts["failed"], counts["undelivered"]) == (1, 5, 1)
        assert [e["data"]["email"] for e in box.hook.events()][-1] == "second@example.com"
        [kept] = box.lucca.deliveries.undelivered()
        assert kept["data"]["email"] == "first@example.com"
        assert box.lucca.state()["deliveries"]["undelivered"] == 1

        assert box.control("POST", "redeliver").json() == {"queued": 1}
        box.idle()
        assert box.hook.events()[-1]["id"] == kept["id"]
        assert box.lucca.deliveries.undelivered() == []


def test_a_404_suspends_the_endpoint_until_a_redelivery() -> None:
    for box in make_box(statuses=(404,)):
        employee = box.settled_employee()
        box.lucca.change_email(employee, "one@example.com")
        box.idle()
        assert box.lucca.webhooks.get(box.endpoint).status == "suspended"  # type: ignore[union-attr]
        box.lucca.change_email(employee, "two@example.com")
        box.idle()
        assert len(box.hook.deliveries) == 1  # nothing sent to a suspended endpoint
        assert box.sleeps == []

        assert box.lucca.redeliver() == 2
        box.idle()
        assert [e["data"]["email"] for e in box.hook.events()[1:]] == [
            "one@example.com", "two@example.com"]
        assert box.lucca.webhooks.get(box.endpoint).status == "active"  # type: ignore[union-attr]
        assert len(box.hook.challenges) == 2  # challenged again before the redelivery


def test_a_resent_event_keeps_its_id_and_is_signed_afresh(box: Box) -> None:
    box.lucca.change_email(box.settled_employee(), "twice@example.com")
    box.idle()
    [event] = box.lucca.events.events()

    assert box.control("POST", f"events/{event['id']}/resend").json() == {"queued": 1}
    box.idle()
    assert box.lucca.resend(event["id"], box.endpoint) == 1
    box.idle()

    first, second, third = box.hook.deliveries
    assert first.body == second.body == third.body
    for delivery in (second, third):
        stamp = delivery.headers["Lucca-Timestamp"]
        assert delivery.headers["Lucca-Signature"] == expected_signature(
            box.secret, stamp, delivery.body)
    with pytest.raises(LookupError):
        box.lucca.resend("nope")


def test_duplicates_can_be_injected(box: Box) -> None:
    box.lucca.deliveries.configure(duplicate_rate=1.0)
    hire(box)
    box.idle()

    ids = [event["id"] for event in box.hook.events()]
    assert len(ids) == 6 and len(set(ids)) == 3
    assert box.lucca.deliveries.as_json()["counts"]["duplicates"] == 3


def test_shuffled_batches_arrive_out_of_order(box: Box) -> None:
    answer = box.control("POST", "deliveries", {"paused": True, "shuffle": True, "seed": 4})
    assert answer.json()["options"]["paused"] is True
    for index in range(4):
        hire(box, email=f"batch{index}@example.com")
    assert not box.lucca.deliveries.wait_idle(0.05)  # paused: they wait
    assert box.lucca.deliveries.as_json()["counts"]["pending"] == 12

    box.lucca.deliveries.resume()
    box.idle()

    events = box.hook.events()
    emitted = box.lucca.events.events()
    assert events != emitted
    assert sorted(events, key=lambda e: e["occurredAt"]) == emitted


def test_only_matching_topics_and_establishments_are_sent(box: Box) -> None:
    narrow = Receiver()
    with narrow.serve() as served:
        box.lucca.register_webhook(served.url + "/a", topics=["employee.created"])
        elsewhere = [i for i in box.data.business_establishments if i != 1] or [1]
        box.lucca.register_webhook(served.url + "/b", topics=["employee.*"])
        box.lucca.webhooks.endpoints()[-1].establishment_ids = elsewhere
        employee = box.settled_employee()
        site = box.data.job_positions[box.data.employees[employee].job_position_id]\
            .business_establishment_id
        hire(box, department=box.department_of(employee))
        box.idle()
        assert len(box.hook.deliveries) == 3
        expected = ["employee.created"] + (["employee.created"] if site in elsewhere else [])
        assert narrow.topics() == expected


def test_a_deleted_endpoint_is_sent_nothing_more(box: Box) -> None:
    box.lucca.delete_webhook(box.endpoint)
    hire(box)
    box.idle()

    assert box.hook.deliveries == []
    assert len(box.lucca.events) == 3


def hire_some(box: Box, department: int, offset: int) -> None:
    for index in range(5):
        box.lucca.hire(given_name="P", family_name=f"N{offset}-{index}",
                       email=f"p{offset}.{index}@example.com", department_id=department)


def test_concurrent_changes_keep_one_order() -> None:
    for box in make_box():
        department = box.department_of(101)

        threads = [threading.Thread(target=hire_some, args=(box, department, n))
                   for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        box.idle()

        received = box.hook.events()
        assert received == box.lucca.events.events()
        moments = [e["occurredAt"] for e in received]
        assert moments == sorted(moments) and len(set(moments)) == 60
        ids = {e["data"]["id"] for e in received if e["topic"] == "employee.created"}
        assert len(ids) == 20


def test_the_state_and_deliveries_controls_show_the_queue(box: Box) -> None:
    hire(box)
    box.idle()

    state = requests.get(f"{box.sandbox.lucca_url}/_sandbox/state", timeout=5).json()
    assert state["events"] == 3
    assert state["deliveries"]["delivered"] == 3
    [endpoint] = state["webhook_endpoints"]
    assert endpoint["status"] == "active" and "secret" not in json.dumps(state).lower()
    shown = box.control("GET", "deliveries").json()
    assert shown["counts"]["delivered"] == 3 and len(shown["log"]) == 3
    bad = box.control("POST", "deliveries", {"duplicate_rate": 2})
    assert bad.status_code == 400


def test_closing_the_sandbox_stops_the_delivery_thread() -> None:
    for box in make_box():
        hire(box)
        box.idle()
        thread = box.lucca.deliveries._thread
        assert thread is not None and thread.is_alive()
    assert not thread.is_alive()
