"""The fake Lucca's webhook resources: ``/lucca-api/webhook-endpoints`` and ``/events``.

Plain ``requests`` over a real socket (not our clients), with a tiny receiver on loopback
that answers the activation challenge; also ``Sandbox(lucca_webhook_url=…)`` and
``lucca-cards sandbox serve --lucca-webhook-url``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lucca_cards._serving import ServedApp
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox.lucca import DEFAULT_SCOPES
from lucca_receiver import Receiver, expected_signature
from served_sandbox import serve_sandbox, two_free_ports

API_VERSION = "2024-11-01"
SCOPES = (*DEFAULT_SCOPES, "webhook-endpoints.readonly", "job-positions.readonly")
ENDPOINT_KEYS = {"id", "type", "url", "name", "webhookUrl", "apiVersion", "topics",
                 "businessEstablishments", "status", "createdAt", "lastUpdatedAt"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, employees=20, departments=6, lucca_rate_limit=0, cards_rate_limit=0,
                 lucca_scopes=SCOPES, sleep=lambda seconds: None) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    with hook.serve() as served:
        yield hook, served.url + "/lucca"


def token(sandbox: Sandbox, scope: str) -> dict[str, str]:
    info = sandbox.connection_info()
    answer = requests.post(info["token_url"], timeout=5, data={
        "grant_type": "client_credentials", "client_id": info["client_id"],
        "client_secret": info["client_secret"], "scope": scope})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}",
            "Api-Version": API_VERSION}


def call(sandbox: Sandbox, method: str, path: str, scope: str = "webhook-endpoints.readwrite",
         **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sandbox.lucca_url}/lucca-api/{path}", timeout=10,
                            headers=token(sandbox, scope), **kwargs)


def endpoint_body(url: str, **changes: Any) -> dict[str, Any]:
    return {"name": "lucca-cards", "webhookUrl": url, "apiVersion": API_VERSION,
            "topics": ["employee.created", "employee.updated", "job-position.*"], **changes}


# -- creation, reading, deletion ---------------------------------------------------------

def test_create_answers_201_with_location_and_the_secret_once(
    sandbox: Sandbox, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    answer = call(sandbox, "POST", "webhook-endpoints", json=endpoint_body(url))

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert set(created) == ENDPOINT_KEYS | {"secret"}
    assert answer.headers["Location"] == created["url"]
    assert created["url"] == f"{sandbox.lucca_url}/lucca-api/webhook-endpoints/{created['id']}"
    assert answer.headers["Api-Version"] == API_VERSION
    assert isinstance(created["id"], str) and created["type"] == "webhook-endpoint"
    assert created["topics"] == ["employee.created", "employee.updated", "job-position.*"]
    assert created["businessEstablishments"] == []
    assert created["status"] == "active"  # the receiver echoed the challenge at once
    assert len(created["secret"]) >= 32
    assert TIMESTAMP.fullmatch(created["createdAt"])
    assert len(hook.challenges) == 1
    single = call(sandbox, "GET", f"webhook-endpoints/{created['id']}").json()
    assert set(single) == ENDPOINT_KEYS
    assert single == {k: v for k, v in created.items() if k != "secret"}
    page = call(sandbox, "GET", "webhook-endpoints", params={"include": "links,totalCount"})
    assert page.json()["totalCount"] == 1
    assert page.json()["items"] == [single]
    assert page.json()["links"] == {"prev": None, "next": None}


def test_the_collection_pages_and_filters_on_status(
    sandbox: Sandbox, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    for index in range(3):
        call(sandbox, "POST", "webhook-endpoints", json=endpoint_body(url, name=f"n{index}"))
    call(sandbox, "POST", "webhook-endpoints", json=endpoint_body("https://hooks.invalid/x"))

    first = call(sandbox, "GET", "webhook-endpoints", params={"limit": 2, "include": "links"})
    following = requests.get(first.json()["links"]["next"]["href"], timeout=5,
                             headers=token(sandbox, "webhook-endpoints.readonly"))
    names = [item["name"] for item in first.json()["items"] + following.json()["items"]]
    assert names == ["n0", "n1", "n2", "lucca-cards"]
    inactive = call(sandbox, "GET", "webhook-endpoints", params={"status": "inactive"})
    assert [item["webhookUrl"] for item in inactive.json()["items"]] == [
        "https://hooks.invalid/x"]
    bad = call(sandbox, "GET", "webhook-endpoints", params={"status": "asleep"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_delete_answers_204_then_the_endpoint_is_gone(
    sandbox: Sandbox, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    ident = call(sandbox, "POST", "webhook-endpoints", json=endpoint_body(url)).json()["id"]

    deleted = call(sandbox, "DELETE", f"webhook-endpoints/{ident}")

    assert deleted.status_code == 204 and deleted.content == b""
    assert call(sandbox, "GET", f"webhook-endpoints/{ident}").status_code == 404
    again = call(sandbox, "DELETE", f"webhook-endpoints/{ident}")
    assert again.status_code == 404
    assert again.headers["Content-Type"] == "application/problem+json"
    assert call(sandbox, "GET", "webhook-endpoints").json()["items"] == []


# -- scopes and verbs --------------------------------------------------------------------

def test_reading_takes_either_scope_and_writing_the_readwrite_one(
    sandbox: Sandbox, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    readonly = "webhook-endpoints.readonly"
    assert call(sandbox, "GET", "webhook-endpoints", readonly).status_code == 200
    refused = call(sandbox, "POST", "webhook-endpoints", readonly, json=endpoint_body(url))
    assert refused.status_code == 403
    assert "webhook-endpoints.readwrite" in refused.json()["detail"]
    ident = call(sandbox, "POST", "webhook-endpoints", json=endpoint_body(url)).json()["id"]
    assert call(sandbox, "DELETE", f"webhook-endpoints/{ident}", readonly).status_code == 403
    for method, path in (("GET", "webhook-endpoints"), ("POST", "webhook-endpoints"),
                         ("GET", "events")):
        assert call(sandbox, method, path, "departments.readonly",
                    json=endpoint_body(url)).status_code == 403
    assert call(sandbox, "GET", "events", "events.readonly").status_code == 200


def test_a_missing_token_or_version_is_refused_before_anything_is_created(
    sandbox: Sandbox, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    target = f"{sandbox.lucca_url}/lucca-api/webhook-endpoints"
    assert requests.post(target, json=endpoint_body(url), timeout=5,
                         headers={"Api-Version": API_VERSION}).status_code == 401
    headers = token(sandbox, "webhook-endpoints.readwrite")
    del headers["Api-Version"]
    assert requests.post(target, json=endpoint_body(url), timeout=5,
                         headers=headers).status_code == 400
    assert sandbox.lucca.webhooks.endpoints() == []


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("POST", "employees", "GET"),
    ("DELETE", "departments/1", "GET"),
    ("PUT", "webhook-endpoints", "GET, POST"),
    ("PATCH", "webhook-endpoints/1", "GET, DELETE"),
    ("POST", "events", "GET"),
])
def test_other_verbs_are_405(sandbox: Sandbox, method: str, path: str, allow: str) -> None:
    answer = call(sandbox, method, path, json={})

    assert answer.status_code == 405
    assert answer.headers["Allow"] == allow
    assert answer.headers["Content-Type"] == "application/problem+json"


# -- validation --------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"webhookUrl": "http://hooks.example.com/lucca"}, "webhookUrl"),
    ({"webhookUrl": "ftp://127.0.0.1/lucca"}, "webhookUrl"),
    ({"webhookUrl": "/lucca"}, "webhookUrl"),
    ({"webhookUrl": 42}, "webhookUrl"),
    ({"webhookUrl": "https://hooks.example.com:99999/"}, "webhookUrl"),
    ({"topics": []}, "topics"),
    ({"topics": "employee.created"}, "topics"),
    ({"topics": ["employee.fired"]}, "topics"),
    ({"topics": ["payslip.*"]}, "topics"),
    ({"topics": ["employee"]}, "topics"),
    ({"topics": [3]}, "topics"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"apiVersion": "2020-01-01"}, "apiVersion"),
    ({"apiVersion": "latest"}, "apiVersion"),
    ({"businessEstablishments": [{"id": "999"}]}, "businessEstablishments"),
    ({"businessEstablishments": {"id": "1"}}, "businessEstablishments"),
])
def test_a_bad_body_is_a_400_problem_naming_the_field(
    sandbox: Sandbox, changes: dict[str, Any], field: str
) -> None:
    body = endpoint_body("https://hooks.example.com/lucca", **changes)

    answer = call(sandbox, "POST", "webhook-endpoints", json=body)

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert list(answer.json()["errors"]) == [field]
    assert sandbox.lucca.webhooks.endpoints() == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_an_object_is_a_400_problem(sandbox: Sandbox, body: bytes) -> None:
    answer = call(sandbox, "POST", "webhook-endpoints", data=body)

    assert answer.status_code == 400
    assert "body" in answer.json()["errors"]


@pytest.mark.parametrize("url", ["https://hooks.example.com/lucca?x=1",
                                 "http://localhost:1/lucca", "http://127.0.0.2:1/lucca",
                                 "http://[::1]:1/lucca"])
def test_https_or_loopback_http_is_accepted(sandbox: Sandbox, url: str) -> None:
    body = endpoint_body(url, apiVersion=None, businessEstablishments=[{"id": 1}])

    answer = call(sandbox, "POST", "webhook-endpoints", json=body)

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["status"] == "inactive"  # nobody answered the challenge
    assert created["apiVersion"] == API_VERSION
    assert [ref["id"] for ref in created["businessEstablishments"]] == ["1"]


# -- the activation challenge --------------------------------------------------------------

def test_the_challenge_alternates_its_two_spellings(
    sandbox: Sandbox, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    for _ in range(3):
        assert call(sandbox, "POST", "webhook-endpoints",
                    json=endpoint_body(url)).json()["status"] == "active"

    assert [list(args) for args in hook.challenges] == [["echo"], ["challenge"], ["echo"]]
    assert all(len(value) >= 16 for args in hook.challenges for value in args.values())
    states = sandbox.lucca.state()["webhook_endpoints"]
    assert [e["challenge_parameter"] for e in states] == ["echo", "challenge", "echo"]


def test_the_challenge_spelling_can_be_fixed(receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    with Sandbox(employees=5, departments=2, lucca_rate_limit=0, cards_rate_limit=0) as box:
        box.lucca.webhooks.challenge_parameter = "challenge"
        box.lucca.register_webhook(url)
        box.lucca.register_webhook(url)
        box.lucca.register_webhook(url, challenge_parameter="echo")

    assert [list(args) for args in hook.challenges] == [["challenge"], ["challenge"], ["echo"]]


def test_a_wrong_echo_leaves_the_endpoint_inactive_until_a_delivery_succeeds(
    sandbox: Sandbox,
) -> None:
    hook = Receiver(echo=False)
    with hook.serve() as served:
        endpoint_id, _ = sandbox.lucca.register_webhook(served.url + "/lucca")
        assert sandbox.lucca.webhooks.get(endpoint_id).status == "inactive"  # type: ignore[union-attr]
        hook.echo = True  # the receiver is fixed
        sandbox.lucca.change_email(101, "new.address@example.com")
        assert sandbox.lucca.deliveries.wait_idle(10)

    assert len(hook.challenges) == 2
    assert hook.topics() == ["employee.updated"]
    assert sandbox.lucca.webhooks.get(endpoint_id).status == "active"  # type: ignore[union-attr]


def test_a_receiver_started_after_the_declaration_gets_the_events(sandbox: Sandbox) -> None:
    port = two_free_ports()
    url = f"http://127.0.0.1:{port}/lucca"
    endpoint_id, _ = sandbox.lucca.register_webhook(url)  # nobody listens yet
    assert sandbox.lucca.webhooks.get(endpoint_id).status == "inactive"  # type: ignore[union-attr]
    hook = Receiver()
    with ServedApp(hook, "127.0.0.1", port):
        sandbox.lucca.change_email(101, "later@example.com")
        assert sandbox.lucca.deliveries.wait_idle(10)

    assert hook.topics() == ["employee.updated"]
    assert len(hook.challenges) == 1


def test_register_webhook_refuses_a_bad_url_or_topic(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="webhookUrl"):
        sandbox.lucca.register_webhook("http://hooks.example.com/lucca")
    with pytest.raises(ValueError, match="topics"):
        sandbox.lucca.register_webhook("https://hooks.example.com/", topics=["employee.x"])
    with pytest.raises(LookupError):
        sandbox.lucca.delete_webhook("42")


# -- events --------------------------------------------------------------------------------

def test_events_are_listed_oldest_first_and_paged(sandbox: Sandbox) -> None:
    department = sandbox.company.lucca.job_positions[
        sandbox.company.lucca.employees[101].job_position_id].department_id
    hired = sandbox.lucca.hire(given_name="Inès", family_name="Moreau",
                               email="ines.moreau@example.com", department_id=department)
    sandbox.lucca.change_email(hired, "ines@example.com")
    sandbox.lucca.delete_employee(hired)

    first = call(sandbox, "GET", "events", "events.readonly",
                 params={"limit": 3, "include": "links,totalCount"}).json()
    rest = requests.get(first["links"]["next"]["href"], timeout=5,
                        headers=token(sandbox, "events.readonly")).json()

    assert first["type"] == "events" and first["totalCount"] == 5
    events = first["items"] + rest["items"]
    assert [e["topic"] for e in events] == ["employee.created", "employment.created",
                                           "job-position.created", "employee.updated",
                                           "employee.deleted"]
    assert events == sandbox.lucca.events.events()
    single = call(sandbox, "GET", f"events/{events[3]['id']}", "events.readonly")
    assert single.json() == events[3]
    assert single.json()["previousAttributes"] == {"email": "ines.moreau@example.com"}
    assert call(sandbox, "GET", "events/nope", "events.readonly").status_code == 404


# -- Sandbox(lucca_webhook_url=…) and sandbox serve ------------------------------------------

def test_the_sandbox_declares_its_endpoint_with_the_credentials_secret(
    receiver: tuple[Receiver, str],
) -> None:
    hook, url = receiver
    with Sandbox(employees=10, departments=3, lucca_rate_limit=0, cards_rate_limit=0,
                 lucca_webhook_url=url) as box:
        secret = box.credentials.lucca_webhook_secret
        assert box.connection_info()["lucca_webhook_secret"] == secret
        settings = box.settings()
        assert settings.lucca_webhook_secret is not None
        assert settings.lucca_webhook_secret.reveal() == secret
        assert secret not in repr(box.credentials)
        [endpoint] = box.lucca.webhooks.endpoints()
        assert endpoint.status == "active"
        assert endpoint.topics == ["employee.*", "employment.*", "job-position.*"]
        box.lucca.change_email(101, "someone@example.com")
        assert box.lucca.deliveries.wait_idle(10)

    [delivery] = hook.deliveries
    stamp = delivery.headers["Lucca-Timestamp"]
    assert delivery.headers["Lucca-Signature"] == expected_signature(secret, stamp, delivery.body)


def test_a_bad_lucca_webhook_url_is_refused_before_serving() -> None:
    with pytest.raises(ValueError, match="https"):
        Sandbox(employees=5, departments=2, lucca_webhook_url="http://hooks.example.com/")


def test_sandbox_serve_declares_the_endpoint_before_the_receiver_is_up() -> None:
    port = two_free_ports()
    url = f"http://127.0.0.1:{port}/lucca"
    with serve_sandbox("--employees", "15", "--departments", "4", "--lucca-rate-limit", "0",
                       "--cards-rate-limit", "0", "--lucca-webhook-url", url) as child:
        secret = child.info["lucca_webhook_secret"]
        assert secret
        hook = Receiver()
        with ServedApp(hook, "127.0.0.1", port):
            state = child.get(child.lucca_root, "state")
            department = state["employees"][0]["department_id"]
            hired = requests.post(f"{child.lucca_root}/_sandbox/lucca/employees", timeout=10,
                                  json={"givenName": "Léa", "familyName": "Petit",
                                        "email": "lea.petit@example.com",
                                        "departmentId": department})
            assert hired.status_code == 201, hired.text
            assert hook.wait_for(3)
    assert hook.topics() == ["employee.created", "employment.created", "job-position.created"]
    for delivery in hook.deliveries:
        stamp = delivery.headers["Lucca-Timestamp"]
        assert delivery.headers["Lucca-Signature"] == expected_signature(
            secret, stamp, delivery.body)


def test_sandbox_serve_refuses_a_bad_lucca_webhook_url(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from lucca_cards.cli import main

    status = main(["sandbox", "serve", "--employees", "5", "--departments", "2",
                   "--lucca-webhook-url", "http://hooks.example.com/lucca"])

    assert status == 2
    assert "https://" in capsys.readouterr().err
