"""The examples work: the webhook receiver accepts real signed events and refuses the rest."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from werkzeug.test import Client

from conftest import SECRET_MARK
from lucca_cards import SyncOutcome
from lucca_cards.cards.webhooks import MAX_BODY_BYTES
from lucca_cards.receiver import CardsWebhookHandler
from lucca_cards.state import TrainingLedger

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SECRET = f"{SECRET_MARK}-hook"
# As PHP's json_encode writes it: escaped slashes and non-ASCII.
BODY = (
    b'{"id":"evt-1","type":"chapter-complete","created_at":"2024-01-20 09:10:00",'
    b'"data":{"created_at":"2024-01-20 09:09:00","points":1,'
    b'"user":{"id":"u1","firstname":"Ren\\u00e9e","lastname":"Doe",'
    b'"email":"renee.doe@example.com","company":"X","lang":"fr"},'
    b'"training":{"id":"t1","title":"S\\u00e9curit\\u00e9","description":"d",'
    b'"image":"https:\\/\\/api.cards-microlearning.com\\/i","chapters_count":5,'
    b'"chapter":{"id":"c1","title":"Intro","position":1}},'
    b'"score":{"points":1,"max_points":1,"progress":0.2}}}'
)


def load(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:  # as when run as a script: siblings are importable
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Client, TrainingLedger]]:
    with TrainingLedger(tmp_path / "ledger.sqlite") as ledger:
        handler = CardsWebhookHandler(ledger, SECRET)
        yield Client(load("webhook_receiver").make_app(handler)), ledger


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_signed_event_lands_in_the_ledger(receiver: tuple[Client, TrainingLedger]) -> None:
    client, ledger = receiver
    response = client.post("/", data=BODY, headers={"Signature": sign(BODY)},
                           content_type="application/json")
    assert (response.status_code, response.json) == (200, {"status": "recorded",
                                                           "changed": True})
    (state,) = ledger.records_for("renee.doe@example.com")
    assert (state.title, state.progress) == ("Sécurité", 0.2)
    again = client.post("/", data=BODY, headers={"Signature": sign(BODY)})
    assert (again.status_code, again.json["changed"]) == (200, False)  # a redelivery
    assert ledger.event_count() == 1


def test_a_wrong_signature_is_refused_unstored(receiver: tuple[Client, TrainingLedger]) -> None:
    client, ledger = receiver
    tampered = BODY.replace(b'"points":1,', b'"points":100,', 1)
    for body, signature in [(tampered, sign(BODY)), (BODY, sign(BODY, "other-secret"))]:
        response = client.post("/", data=body, headers={"Signature": signature})
        assert response.status_code == 401
    assert client.post("/", data=BODY).status_code == 401  # no header at all
    assert ledger.event_count() == 0


def test_a_signed_but_malformed_body_gets_400(receiver: tuple[Client, TrainingLedger]) -> None:
    client, ledger = receiver
    body = b'{"id": "x", "type": '
    response = client.post("/", data=body, headers={"Signature": sign(body)})
    assert response.status_code == 400
    assert "not valid JSON" in response.json["error"]
    assert ledger.event_count() == 0


def test_the_example_refuses_bodies_over_the_limit_and_other_methods(
    receiver: tuple[Client, TrainingLedger],
) -> None:
    client, ledger = receiver
    big = b" " * MAX_BODY_BYTES + BODY  # valid JSON, validly signed, one event: too big
    assert client.post("/", data=big, headers={"Signature": sign(big)}).status_code == 413

    # Chunked, as a server that decodes chunked bodies passes it on: no Content-Length.
    chunked = client.post("/", input_stream=io.BytesIO(big), headers={"Signature": sign(big)},
                          environ_overrides={"wsgi.input_terminated": True,
                                             "HTTP_TRANSFER_ENCODING": "chunked"})
    assert chunked.status_code == 413
    answer = client.get("/")
    assert (answer.status_code, answer.headers["Allow"]) == (405, "POST")
    assert ledger.event_count() == 0


def test_explore_lucca_counts_by_department_from_one_sweep() -> None:
    import responses

    from lucca_cards import LuccaOAuthClient, RateLimiter

    host = "https://acme.example"
    people = [("1", "Ana", "a@acme.test", "10"), ("2", "Bo", None, "10"),
              ("3", "Cy", "c@acme.test", "20")]
    employees = {
        "type": "employees", "url": f"{host}/lucca-api/employees",
        "items": [{"id": i, "givenName": n, "familyName": "X", "email": e, "status": "active",
                   "applicableJobPosition": {"id": f"jp{i}", "type": "job-position"}}
                  for i, n, e, _ in people],
        "embedded": {"job-position": {f"jp{i}": {"id": f"jp{i}", "department": {"id": d}}
                                      for i, _, _, d in people}},
        "links": {"prev": None, "next": None},
    }
    departments = {"type": "departments", "url": f"{host}/lucca-api/departments",
                   "items": [{"id": "10", "name": "Sales"}, {"id": "20", "name": "R&D"}],
                   "links": {"prev": None, "next": None}}
    with responses.RequestsMock() as mock:
        mock.post(f"{host}/connect/token",
                  json={"access_token": "t", "token_type": "Bearer", "expires_in": 1800})
        mock.get(f"{host}/lucca-api/departments", json=departments)
        mock.get(f"{host}/lucca-api/employees", json=employees)
        lucca = LuccaOAuthClient(base_url=host, client_id="c", client_secret=SECRET,
                                 token_url=f"{host}/connect/token",
                                 rate_limiter=RateLimiter(0))
        report = load("explore_lucca").summarise(lucca)
        assert len(mock.calls) == 3
    assert report.splitlines()[:3] == ["3 current employees", "      2  Sales (id 10)",
                                       "      1  R&D (id 20)"]
    assert "1 without a professional email" in report
    assert "  - Bo X" in report


def test_explore_lucca_against_the_sandbox() -> None:
    from lucca_cards import LuccaOAuthClient, RateLimiter, Sandbox
    from lucca_cards.sandbox._model import employee_status

    with Sandbox(seed=3, employees=80, departments=8, lucca_rate_limit=0,
                 cards_rate_limit=0) as sandbox, LuccaOAuthClient.from_settings(
                     sandbox.settings(), rate_limiter=RateLimiter(0)) as lucca:
        report = load("explore_lucca").summarise(lucca)
    company = sandbox.company.lucca
    current = [e for e in company.employees.values()
               if employee_status(company.employments[e.employment_id],
                                  sandbox.company.today) != "deactivated"]
    assert report.splitlines()[0] == f"{len(current)} current employees"
    missing = sum(1 for e in current if not e.email)
    assert f"{missing} without a professional email" in report
    # By department, not by name: one line per department id, same-named ones apart.
    shown = [line.rsplit("(id ", 1)[1].rstrip(")") for line in report.splitlines()
             if line.endswith(")") and "(id " in line]
    expected = {str(company.job_positions[e.job_position_id].department_id) for e in current}
    assert sorted(shown) == sorted(expected)


def test_webhook_receiver_records_every_webhook_the_sandbox_signs(tmp_path: Path) -> None:
    from lucca_cards import Sandbox
    from lucca_cards._serving import ServedApp

    with Sandbox(seed=8, employees=60, departments=6, lucca_rate_limit=0,
                 cards_rate_limit=0) as sandbox, \
            TrainingLedger(tmp_path / "ledger.sqlite") as ledger:
        handler = CardsWebhookHandler(ledger, sandbox.credentials.webhook_secret)
        with ServedApp(load("webhook_receiver").make_app(handler)) as app:
            sandbox.cards.webhook_url = app.url + "/cards"
            report = sandbox.simulate_activity(learners=5, seed=2)
        assert report.failed == 0
        assert report.delivered == ledger.event_count() > 0
        assert len(ledger.learners()) == 5


# -- import_users.py and import_departments.py, against a sandbox ---------------------------


def cards_writes(sandbox: Any) -> list[str]:
    return [f"{e['method']} {e['path']}" for e in sandbox.cards.log.entries()
            if e["method"] != "GET"]


def test_import_users_example_plans_then_imports_with_the_options() -> None:
    from lucca_cards import (
        CardsClient,
        ConnectionMode,
        LuccaOAuthClient,
        Sandbox,
        UserImporter,
        UserState,
    )

    example = load("import_users")
    with Sandbox(seed=4, employees=60, departments=8, lucca_rate_limit=0,
                 cards_rate_limit=0) as sandbox:
        settings = sandbox.settings()
        with LuccaOAuthClient.from_settings(settings) as lucca, \
                CardsClient.from_settings(settings) as cards:
            importer = UserImporter(lucca, cards)
            rows = importer.preview()
            to_create = {row.email for row in rows if row.state is UserState.WILL_BE_CREATED}
            refused = [row for row in rows if row.state is UserState.CANNOT_BE_IMPORTED]
            said: list[str] = []
            plan = example.import_users(importer, apply=False, say=said.append)
            assert plan.dry_run
            assert cards_writes(sandbox) == []
            preview = said[0].splitlines()
            assert f"{len(to_create):5d}  will be created" in preview
            assert all(f"- {row.name}: {row.reason}" in said[0] for row in refused)
            assert said[1] == str(plan)
            said.clear()
            report = example.import_users(importer, apply=True, notify=True,
                                          connection_mode=ConnectionMode.SSO, say=said.append)
            assert not report.dry_run
            assert said[-1] == str(report)
            assert report.counts()["created"] == len(to_create)
            assert {mail["email"] for mail in sandbox.cards.outbox} == to_create
            created = [u for u in sandbox.company.cards.users.values()
                       if (u.email or "").lower() in to_create]
            assert len(created) == len(to_create)
            assert {u.source for u in created} == {"sso"}
            sandbox.cards.log.clear()
            again = example.import_users(importer, apply=True, say=said.append)
            assert again.writes == 0
            assert again.counts()["unchanged"] == len(rows) - len(refused)
            assert cards_writes(sandbox) == []


def test_import_departments_example_fills_the_chosen_group() -> None:
    from lucca_cards import CardsClient, DepartmentImporter, LuccaOAuthClient, Sandbox

    example = load("import_departments")
    with Sandbox(seed=4, employees=60, departments=8, lucca_rate_limit=0,
                 cards_rate_limit=0) as sandbox:
        settings = sandbox.settings()
        with LuccaOAuthClient.from_settings(settings) as lucca, \
                CardsClient.from_settings(settings) as cards:
            importer = DepartmentImporter(lucca, cards)
            chosen = max(importer.preview(), key=lambda row: row.missing)
            said: list[str] = []
            plan = example.import_departments(importer, department_ids=[chosen.department.id],
                                              apply=False, say=said.append)
            assert cards_writes(sandbox) == []
            assert f"{chosen.name}: {chosen.members} members" in said[0]
            assert plan.writes == chosen.missing
            report = example.import_departments(
                importer, department_ids=[chosen.department.id], apply=True, say=said.append)
            assert report.writes == chosen.missing
            assert len(cards_writes(sandbox)) == chosen.missing
    company = sandbox.company.cards
    group = next(g.id for g in company.groups.values() if g.name == chosen.name)
    members = {u.id for u in company.users.values() if group in u.group_ids}
    joined = {item.cards_user_id for item in report.items if item.cards_user_id}
    assert joined <= members
    assert len(joined) == chosen.missing + len(report.of(SyncOutcome.UNCHANGED, SyncOutcome.LINKED))


def test_the_import_examples_connect_to_a_sandbox_or_to_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "lucca-cards.toml"
    config.write_text('[lucca]\nurl = "https://acme.ilucca.net"\nclient_id = "c"\n'
                      f'client_secret = "{SECRET_MARK}"\n[cards]\ntenant = "acme"\n'
                      f'api_key = "{SECRET_MARK}"\n[import]\nconnection_mode = "sso"\n',
                      encoding="utf-8")
    for name in ("import_users", "import_departments"):
        example = load(name)
        with example.connect(None) as (settings, lucca, cards):
            assert lucca.base_url.startswith("http://127.0.0.1:")
            assert cards.base_url.startswith("http://127.0.0.1:")
            assert settings.cards_requests_per_minute == 0  # lifted: creates are many
            assert settings.lucca_requests_per_minute == 40  # Lucca keeps its pace
        with example.connect(str(config)) as (settings, lucca, cards):
            assert lucca.base_url == "https://acme.ilucca.net"
            assert cards.tenant == "acme"
            assert settings.import_connection_mode.value == "sso"


# -- nightly_sync.py, against a sandbox whose learners progressed ---------------------------


def test_nightly_sync_example_runs_the_four_parts_on_the_sandbox(
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    example = load("nightly_sync")
    assert example.main(["--sandbox", "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["ok"] and not report["dry_run"]
    assert [part["operation"] for part in report["parts"]] == [
        "lifecycle", "departments", "users", "statistics"]
    assert all(part["stopped"] is None for part in report["parts"])
    assert report["parts"][2]["counts"]["created"] > 0
    stats = report["parts"][3]
    assert stats["counts"]["updated"] > 0  # the learners' activity reached their files
    assert stats["counts"]["failed"] == 0
    delivered = int(err.split("sandbox: ")[1].split()[0])
    assert delivered > 0 and "(0 undelivered)" in err

    assert example.main(["--sandbox", "--only", "stats"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("the nightly sync: statistics publish: ")
    assert "statistics publish: " in text[2] and "updated" in text[2]
    assert text[-1] == "ok: nothing failed"


def test_nightly_sync_example_text_lists_each_part_and_a_failed_part(
        capsys: pytest.CaptureFixture[str]) -> None:
    from lucca_cards import NightlyReport, SyncItem, SyncReport

    example = load("nightly_sync")
    parts = [SyncReport(operation="departments", dry_run=False, items=()),
             SyncReport(operation="users", dry_run=False, items=[SyncItem(
                 employee_id="7", name="L\u202eéa", email=None, outcome=SyncOutcome.SKIPPED,
                 reason="no professional email in Lucca")]),
             SyncReport(operation="statistics", dry_run=False, items=(),
                        stopped="stats did not run: e_missing\x1b[2J is not a field")]
    text = example.render(NightlyReport(dry_run=False, reports=parts))
    lines = text.splitlines()
    assert lines[0] == ("the nightly sync: departments import: nothing to do; users import: "
                        "1 skipped; statistics publish: stopped")
    for summary in ("departments import: nothing to do", "users import: 1 skipped",
                    "statistics publish: stopped"):
        assert summary in lines
    assert any("skipped" in line and "\\u202e" in line for line in lines)
    assert "  stopped: stats did not run: e_missing\\x1b[2J is not a field" in lines
    assert lines[-1].startswith("FAILED")
    with pytest.raises(SystemExit):  # an unknown part is refused before anything runs
        example.main(["--only", "payroll"])
    assert "payroll" in capsys.readouterr().err
