"""``lucca-cards lucca-webhooks register | list | delete``, in process, against a sandbox.

The sandbox reaches the CLI through ``LUCCA_*`` environment variables, as a tenant would.
A small loopback receiver answers Lucca's activation challenge, and checks that the
secret ``register`` printed is the one the sandbox signs its deliveries with.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from conftest import SECRET_MARK
from lucca_cards.cli import main
from lucca_cards.lucca.webhooks import LIFECYCLE_TOPICS
from lucca_cards.sandbox import Sandbox, SandboxCredentials
from test_cli_sync import cli, isolated_env

TODAY = dt.date(2026, 3, 2)
CREDENTIALS = SandboxCredentials(
    client_secret=f"{SECRET_MARK}-client", api_key=f"{SECRET_MARK}-legacy",
    cards_tenant="acme", cards_api_key=f"{SECRET_MARK}-cards", webhook_secret=f"{SECRET_MARK}-hook",
)
SCOPES = ("departments.readonly", "employees.readwrite", "webhook-endpoints.readwrite")


class Receiver:
    """A loopback server that answers the challenge (``echo`` or ``challenge``) and keeps POSTs."""

    def __init__(self) -> None:
        self.challenged = threading.Event()
        self.delivered = threading.Event()
        self.posts: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                value = query.get("echo", query.get("challenge", "")).encode()
                self._answer(200, value, "text/plain")
                receiver.challenged.set()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append((dict(self.headers.items()), body))
                self._answer(202, b'{"status":"accepted"}', "application/json")
                receiver.delivered.set()

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lucca"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.close()


def make_sandbox(scopes: tuple[str, ...] = SCOPES) -> Sandbox:
    return Sandbox(seed=5, employees=20, departments=4, today=TODAY, lucca_rate_limit=0,
                   cards_rate_limit=0, credentials=CREDENTIALS, lucca_scopes=scopes)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with make_sandbox() as box:
        yield box


def use(box: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the LUCCA_* variables at ``box``; nothing else from the outside."""
    info = box.connection_info()
    isolated_env(monkeypatch, tmp_path, {
        "LUCCA_URL": info["lucca_url"], "LUCCA_TOKEN_URL": info["token_url"],
        "LUCCA_CLIENT_ID": info["client_id"], "LUCCA_CLIENT_SECRET": info["client_secret"],
        "LUCCA_REQUESTS_PER_MINUTE": "0",
        # Not the scope these commands need: they ask for webhook-endpoints.readwrite alone.
        "LUCCA_SCOPES": "departments.readonly",
    })


@pytest.fixture
def env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use(sandbox, monkeypatch, tmp_path)




def endpoints(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    status, out, _ = cli(capsys, "lucca-webhooks", "list", "--json")
    assert status == 0
    listed: list[dict[str, Any]] = json.loads(out)
    return listed


def printed_secret(out: str) -> str:
    lines = out.splitlines()
    return lines[lines.index("Signing secret (shown this once only: Lucca never shows it "
                             "again):") + 2].strip()


@pytest.mark.usefixtures("env")
def test_register_prints_the_secret_once_and_where_to_put_it(
    capsys: pytest.CaptureFixture[str], receiver: Receiver
) -> None:
    status, out, err = cli(capsys, "lucca-webhooks", "register", "--url", receiver.url)
    assert status == 0
    secret = printed_secret(out)
    assert len(secret) >= 16
    assert f"LUCCA_WEBHOOK_SECRET={secret}" in out or "LUCCA_WEBHOOK_SECRET='" in out
    assert "under [lucca]" in out and f'webhook_secret = "{secret}"' in out
    assert "not shown again" in err
    (listed,) = endpoints(capsys)
    assert listed["webhook_url"] == receiver.url and listed["name"] == "lucca-cards"
    assert listed["topics"] == list(LIFECYCLE_TOPICS)
    assert "secret" not in listed
    status, out, _ = cli(capsys, "lucca-webhooks", "list")
    assert secret not in out and receiver.url in out
    assert receiver.challenged.wait(10), "the sandbox never sent the activation challenge"


@pytest.mark.usefixtures("env")
def test_register_json_and_a_name(capsys: pytest.CaptureFixture[str], receiver: Receiver) -> None:
    status, out, _ = cli(capsys, "lucca-webhooks", "register", "--url", receiver.url,
                         "--name", "HR to Cards", "--json")
    assert status == 0
    created = json.loads(out)
    assert created["name"] == "HR to Cards" and created["secret"]
    assert created["secret_goes_to"] == {"environment": "LUCCA_WEBHOOK_SECRET",
                                         "toml": "[lucca] webhook_secret"}
    assert created["topics"] == list(LIFECYCLE_TOPICS)


@pytest.mark.usefixtures("env")
def test_the_same_url_is_not_registered_twice(
    capsys: pytest.CaptureFixture[str], receiver: Receiver
) -> None:
    assert cli(capsys, "lucca-webhooks", "register", "--url", receiver.url)[0] == 0
    # The same route spelt otherwise (the receiver serves both): refused too.
    for url in (receiver.url, receiver.url + "/"):
        status, out, err = cli(capsys, "lucca-webhooks", "register", "--url", url)
        assert status == 1 and out == ""
        assert "already sends to" in err and "lucca-webhooks delete" in err
    assert len(endpoints(capsys)) == 1


@pytest.mark.usefixtures("env")
def test_delete_then_list_and_an_unknown_id(
    capsys: pytest.CaptureFixture[str], receiver: Receiver
) -> None:
    cli(capsys, "lucca-webhooks", "register", "--url", receiver.url)
    (listed,) = endpoints(capsys)
    status, out, _ = cli(capsys, "lucca-webhooks", "delete", listed["id"])
    assert status == 0 and f"Deleted Lucca webhook endpoint {listed['id']}" in out
    assert endpoints(capsys) == []
    status, out, _ = cli(capsys, "lucca-webhooks", "list")
    assert "No Lucca webhook endpoint" in out
    status, _, err = cli(capsys, "lucca-webhooks", "delete", listed["id"])
    assert status == 1 and "lucca-webhooks list" in err


@pytest.mark.usefixtures("env")
def test_delete_says_so_in_json(capsys: pytest.CaptureFixture[str], receiver: Receiver) -> None:
    cli(capsys, "lucca-webhooks", "register", "--url", receiver.url)
    (listed,) = endpoints(capsys)
    status, out, _ = cli(capsys, "lucca-webhooks", "delete", listed["id"], "--json")
    assert status == 0 and json.loads(out) == {"deleted": listed["id"]}
    assert endpoints(capsys) == []


@pytest.mark.parametrize("url", ["http://hooks.acme.example/lucca", "ftp://127.0.0.1/x",
                                 "hooks.acme.example", "https://h.example/#frag"])
def test_a_url_lucca_cannot_call_is_a_usage_error_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["lucca-webhooks", "register", "--url", url])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument --url: the webhook URL" in err


def test_without_the_scope_the_403_says_what_to_grant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with make_sandbox(("departments.readonly", "employees.readwrite")) as box:
        use(box, monkeypatch, tmp_path)
        status, out, err = cli(capsys, "lucca-webhooks", "list")
    assert status == 1 and out == ""
    assert "webhook-endpoints.readwrite" in err and "integration keys" in err


def test_missing_configuration_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolated_env(monkeypatch, tmp_path, {})
    status, _, err = cli(capsys, "lucca-webhooks", "list")
    assert status == 2 and "lucca_url" in err


def test_the_group_alone_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["lucca-webhooks"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "register" in out and "delete" in out and "readwrite scope" in out


def test_the_sandbox_signs_with_the_printed_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    sandbox: Sandbox, receiver: Receiver,
) -> None:
    from lucca_cards.lucca.webhooks import check_request, parse

    use(sandbox, monkeypatch, tmp_path)
    status, out, _ = cli(capsys, "lucca-webhooks", "register", "--url", receiver.url)
    assert status == 0
    secret = printed_secret(out)
    assert receiver.challenged.wait(10)
    hired = requests.post(f"{sandbox.lucca_url}/_sandbox/lucca/employees", timeout=10, json={
        "givenName": "Zoé", "familyName": "Hire", "email": "zoe.hire@acme.test",
        "departmentId": sandbox_department(sandbox)})
    assert hired.status_code in (200, 201), hired.text
    assert receiver.delivered.wait(10), "no event was delivered"
    headers, body = receiver.posts[0]
    assert check_request(body, headers, secret, now=dt.datetime.now(dt.timezone.utc)) is None
    assert parse(body).topic in LIFECYCLE_TOPICS


def sandbox_department(box: Sandbox) -> str:
    from lucca_cards import LuccaOAuthClient, RateLimiter

    with LuccaOAuthClient.from_settings(box.settings(), rate_limiter=RateLimiter(0)) as lucca:
        first = lucca.departments.list().first()
    assert first is not None
    return first.id


# -- answers the sandbox does not give: a create that may or may not have happened -----------

MOCK_ROOT = "https://acme.ilucca.net"
MOCK_TOKEN = "https://accounts.world.luccasoftware.com/connect/token"


@pytest.fixture
def mocked_lucca(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    import responses

    isolated_env(monkeypatch, tmp_path, {
        "LUCCA_URL": MOCK_ROOT, "LUCCA_CLIENT_ID": "id",
        "LUCCA_CLIENT_SECRET": f"{SECRET_MARK}-client", "LUCCA_REQUESTS_PER_MINUTE": "0"})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(MOCK_TOKEN, json={"access_token": f"{SECRET_MARK}-token",
                                    "token_type": "Bearer", "expires_in": 1800})
        mock.get(f"{MOCK_ROOT}/lucca-api/webhook-endpoints",
                 json={"items": [], "links": {"next": None}})
        yield mock


def test_a_server_error_on_create_says_it_may_have_happened(
    mocked_lucca: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mocked_lucca.post(f"{MOCK_ROOT}/lucca-api/webhook-endpoints", status=503,
                      json={"title": "Service Unavailable", "status": 503})
    status, out, err = cli(capsys, "lucca-webhooks", "register", "--url",
                           "https://hooks.acme.example/lucca")
    assert status == 1 and out == ""
    assert "may have been created" in err and "lucca-webhooks list" in err
    posts = [c for c in mocked_lucca.calls if c.request.method == "POST"
             and "webhook-endpoints" in str(c.request.url)]
    assert len(posts) == 1  # never retried


def test_an_answer_without_a_secret_says_to_start_over(
    mocked_lucca: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mocked_lucca.post(f"{MOCK_ROOT}/lucca-api/webhook-endpoints", status=201,
                      json={"id": "7", "type": "webhook-endpoint", "topics": []})
    status, out, err = cli(capsys, "lucca-webhooks", "register", "--url",
                           "https://hooks.acme.example/lucca")
    assert status == 1 and out == ""
    assert "no usable secret" in err and "lucca-webhooks delete 7" in err


def test_a_secret_with_control_characters_is_never_printed(
    mocked_lucca: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mocked_lucca.post(f"{MOCK_ROOT}/lucca-api/webhook-endpoints", status=201,
                      json={"id": "7", "secret": "abc\x1b[2Jdef"})
    status, out, err = cli(capsys, "lucca-webhooks", "register", "--url",
                           "https://hooks.acme.example/lucca")
    assert status == 1 and "\x1b" not in out + err and "no usable secret" in err
