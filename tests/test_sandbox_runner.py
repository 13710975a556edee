"""``Sandbox`` and ``lucca-cards sandbox serve``: ports, the connection line, settings, demo."""

from __future__ import annotations

import ast
import errno
import io
import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from lucca_cards._serving import ServedApp
from lucca_cards.cli import main
from lucca_cards.sandbox import Faults, Sandbox, SandboxCredentials
from served_sandbox import (
    ephemeral_range,
    port_is_free,
    serve_command,
    serve_sandbox,
    two_free_ports,
)

SANDBOX_SOURCES = Path(__file__).resolve().parents[1] / "src" / "lucca_cards" / "sandbox"
LINE_KEYS = {"lucca_url", "token_url", "client_id", "client_secret", "api_key", "cards_url",
             "cards_tenant", "cards_api_key", "webhook_secret", "lucca_webhook_secret"}


def outside_imports(path: Path) -> list[str]:
    """The SDK modules outside the sandbox that ``path`` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            name = ("." * node.level) + (node.module or "")
            if node.level >= 2 or (name.startswith("lucca_cards") and not name.startswith(
                    "lucca_cards.sandbox")):
                found.append(name)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("lucca_cards")
                      and not a.name.startswith("lucca_cards.sandbox")]
    return found


def test_the_fakes_import_nothing_from_the_sdk() -> None:
    modules = sorted(SANDBOX_SOURCES.glob("*.py"))
    assert len(modules) >= 8
    imports = {p.name: outside_imports(p) for p in modules}
    # Only the runner reaches the SDK: for the Settings it hands out, and the loopback
    # server it shares with the webhook receiver; never a client.
    assert set(imports.pop("_sandbox.py")) == {"..config", ".._serving"}
    assert imports == {name: [] for name in imports}


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    with serve_sandbox("--employees", "40", "--departments", "6", "--seed", "4",
                       "--lucca-rate-limit", "0", "--cards-rate-limit", "0") as child:
        yield child.process, child.info


def test_serve_prints_one_json_line_then_serves(
    served: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    process, info = served
    assert set(info) == LINE_KEYS
    assert info["cards_url"].endswith("/v1")
    token = requests.post(info["token_url"], timeout=5, data={
        "grant_type": "client_credentials", "client_id": info["client_id"],
        "client_secret": info["client_secret"]}).json()["access_token"]
    employees = requests.get(f"{info['lucca_url']}/lucca-api/employees", timeout=5, params={
        "limit": 100}, headers={"Authorization": f"Bearer {token}", "Api-Version": "2024-11-01"})
    assert len(employees.json()["items"]) == 40
    legacy = requests.get(f"{info['lucca_url']}/api/v3/users", timeout=5, headers={
        "Authorization": f"lucca application={info['api_key']}"})
    assert legacy.status_code == 200
    cards_root = info["cards_url"].removesuffix("/v1")
    users = requests.get(f"{info['cards_url']}/users", timeout=5, headers={
        "Authorization": f"Bearer {info['cards_api_key']}", "X-Tenant": info["cards_tenant"]})
    assert users.status_code == 200
    counts = requests.get(f"{cards_root}/_sandbox/requests", timeout=5).json()["counts"]
    assert counts == {"GET /v1/users": 1}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_serve_honours_the_port_and_the_webhook_url() -> None:
    received: list[bytes] = []

    def receiver(environ: dict[str, Any], start_response: Any) -> Any:
        received.append(Request(environ).get_data())
        return Response(status=204)(environ, start_response)

    with ServedApp(receiver) as hook:  # on its free port before ours are picked
        port = two_free_ports()
        with serve_sandbox("--port", str(port), "--employees", "25",
                           "--webhook-url", hook.url + "/cards", stop=signal.SIGINT) as child:
            assert child.info["lucca_url"] == f"http://127.0.0.1:{port}"
            assert child.info["cards_url"] == f"http://127.0.0.1:{port + 1}/v1"
            answer = requests.post(f"http://127.0.0.1:{port + 1}/_sandbox/activity",
                                   timeout=30, json={"learners": 2, "seed": 1})
            assert answer.json() == {"delivered": len(received), "failed": 0}
            assert received


def test_the_ports_picked_for_serve_are_outside_the_kernels_range(tmp_path: Path) -> None:
    low, high = ephemeral_range()
    port = two_free_ports()
    assert port + 1 < low or port > high
    assert port_is_free(port) and port_is_free(port + 1)
    assert ephemeral_range(tmp_path / "missing") == (32768, 60999)


@pytest.mark.parametrize(("taken", "which"), [(1, "Cards listens on --port + 1"),
                                              (0, "Lucca listens on --port")])
def test_a_taken_port_is_one_line_and_exit_status_2(taken: int, which: str) -> None:
    port = two_free_ports()
    with socket.socket() as holder:  # another program holds one of the two ports
        holder.bind(("127.0.0.1", port + taken))
        holder.listen()
        done = subprocess.run(  # noqa: S603 - this interpreter, our own CLI
            serve_command("--port", str(port), "--employees", "20"),
            capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert done.stderr.startswith(f"lucca-cards sandbox serve: cannot listen on port "
                                  f"{port + taken} ({which}): ")
    assert "--port 0 to pick free ones" in done.stderr


def test_a_taken_port_raises_and_frees_the_other_one() -> None:
    port = two_free_ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port + 1))
        holder.listen()
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port + 1}: ") as caught:
            Sandbox(employees=20, departments=6, port=port).start()
    assert caught.value.errno == errno.EADDRINUSE
    assert port_is_free(port)  # the Lucca server that did start was closed


def test_bad_arguments_are_refused_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sandbox", "serve", "--employees", "0"])
    assert caught.value.code == 2
    assert "--employees: must be at least 1" in capsys.readouterr().err


def test_settings_point_every_client_at_the_sandbox() -> None:
    with Sandbox(employees=20, departments=6, lucca_rate_limit=50, cards_rate_limit=0) as box:
        settings = box.settings()
        assert settings.lucca_url == box.lucca_url
        assert settings.lucca_token_url == box.token_url
        assert settings.cards_url == box.cards_url
        assert settings.lucca_requests_per_minute == 40  # the SDK's share of 50
        assert settings.cards_requests_per_minute == 0
        assert settings.lucca_api_key is not None
        assert settings.lucca_api_key.reveal() == box.credentials.api_key
        assert box.settings(lucca_requests_per_minute=10).lucca_requests_per_minute == 10


def test_secrets_stay_out_of_reprs_and_state() -> None:
    credentials = SandboxCredentials.generate()
    with Sandbox(employees=20, departments=6, credentials=credentials) as box:
        token = requests.post(box.token_url, timeout=5, data={
            "grant_type": "client_credentials", "client_id": credentials.client_id,
            "client_secret": credentials.client_secret}).json()["access_token"]
        shown = repr(box) + repr(credentials) + json.dumps([
            requests.get(f"{box.lucca_url}/_sandbox/state", timeout=5).json(),
            requests.get(f"{box.cards_root}/_sandbox/state", timeout=5).json()])
    for secret in (credentials.client_secret, credentials.api_key, credentials.cards_api_key,
                   credentials.webhook_secret, token):
        assert secret not in shown


def test_misuse_is_explained() -> None:
    box = Sandbox(employees=20, departments=6)
    with pytest.raises(RuntimeError, match="not running"):
        _ = box.lucca_url
    with pytest.raises(ValueError, match="no API named"):
        Sandbox(employees=20, departments=6, faults={"lucas": Faults(reset=0.1)})
    with pytest.raises(ValueError, match="no API named"):
        box.set_faults("legacy-api", None)


def test_the_demo_tours_employees_departments_and_cards_users() -> None:
    from lucca_cards.cli._demo import run_demo

    out = io.StringIO()
    box = Sandbox(seed=2, employees=60, departments=8, lucca_rate_limit=0, cards_rate_limit=0)
    before = len(box.company.cards.users)
    assert run_demo(sandbox=box, out=out) == 0
    text = out.getvalue()
    assert "Lucca employees: 60 in one paged sweep" in text
    assert "Lucca departments: 8" in text
    assert f"Cards users: {before}, of whom" in text
    assert "GET /lucca-api/employees" in text
    assert "GET /v1/users" in text


def demo_sections(text: str) -> dict[str, str]:
    """The demo's sections by their first word ("1.", "Summary", …)."""
    return {part.split(maxsplit=1)[0]: part for part in text.split("\n\n") if part.strip()}


def test_the_demo_previews_dry_runs_imports_and_reruns_without_writing() -> None:
    from lucca_cards.cli._demo import run_demo
    from lucca_cards.sandbox._model import employee_status

    out = io.StringIO()
    box = Sandbox(seed=2, employees=60, departments=8, lucca_rate_limit=0, cards_rate_limit=0)
    before = len(box.company.cards.users)
    assert run_demo(sandbox=box, out=out) == 0
    steps = demo_sections(out.getvalue())
    lucca, today = box.company.lucca, box.company.today
    current = [e for e in lucca.employees.values()
               if employee_status(lucca.employments[e.employment_id], today) != "deactivated"]
    assert f"{len(current)} employees considered" in steps["1."]
    nameless = next(e for e in current if not e.email)
    assert f"{nameless.given_name} {nameless.family_name}" in steps["1."]
    assert "no professional email in Lucca" in steps["1."]
    created = int(steps["2."].split("dry run of users import: ")[1].split(" created")[0])
    assert steps["2."].endswith("writes sent to Cards: 0")
    assert "departments import: " in steps["3."]
    assert "POST /v1/users" in steps["3."].splitlines()[-1]
    assert "users import: " in steps["4."]
    assert steps["5."].endswith("writes sent to Cards: 0")
    assert "users import: " in steps["5."]
    assert "departments import: " in steps["5."]
    # Step 9 hires one more person in real time: their account is the only other one.
    assert "hired Nina Nouvelle" in steps["9."] and "an account in" in steps["9."]
    after = len(box.company.cards.users) - 1
    assert after == before + created  # the dry run's plan, carried out
    assert f"Cards users: {before} before, {after} after ({created} created)" in steps["Summary"]
    assert "writes sent by the rerun: 0" in steps["Summary"]
    assert "At the SDK's default rates these" in steps["Requests"]
    writes = [e for e in box.cards.log.entries() if e["method"] != "GET"]
    assert len([e for e in writes if e["method"] == "POST"]) == created + 1



def test_the_demo_publishes_statistics_received_as_webhooks_then_writes_nothing() -> None:
    from lucca_cards.cli._demo import run_demo
    from lucca_cards.lucca.training_records import read_training_records

    out = io.StringIO()
    box = Sandbox(seed=2, employees=60, departments=8, lucca_rate_limit=0, cards_rate_limit=0)
    assert run_demo(sandbox=box, out=out) == 0
    text = out.getvalue()
    steps = demo_sections(text)
    delivered = int(steps["6."].split("webhooks delivered: ")[1].split(",")[0])
    assert delivered > 0 and "failed: 0" in steps["6."]
    assert f"the ledger holds {delivered} events" in steps["6."]
    files = [e for e in box.company.lucca.employees.values()
             if read_training_records(e.extended_data)]
    assert f"statistics publish: {len(files)} updated" in steps["7."]
    assert f"legacy requests: {len(files)} PUT" in steps["7."]
    assert "as on the employee file" in text and " %" in text
    assert f"statistics publish: {len(files)} unchanged; legacy PUTs sent: 0" in steps["8."]
    assert box.cards.webhook_url is None
