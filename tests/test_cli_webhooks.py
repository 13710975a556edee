"""``lucca-cards webhooks serve`` in a child process: it listens, stores, stops cleanly.

Every wait is bounded: the child's first line is read with a deadline, its exit waited
for with a timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from conftest import SECRET_MARK
from lucca_cards.cli import build_parser, main
from lucca_cards.state import TrainingLedger

SECRET = f"{SECRET_MARK}-serve"
DEADLINE = 30  # seconds: start-up imports SQLAlchemy and migrates the ledger
BODY = json.dumps({
    "id": "evt-cli", "type": "chapter-complete", "created_at": "2024-01-20 09:10:00",
    "data": {"created_at": "2024-01-20 09:09:00",
             "user": {"id": "u1", "firstname": "Zoé", "email": "zoe@example.com"},
             "training": {"id": "t1", "title": "Safety", "chapters_count": 4},
             "score": {"points": 1, "max_points": 4, "progress": 0.25}},
}, separators=(",", ":")).encode()
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")


def environment(**extra: str) -> dict[str, str]:
    """This environment without any lucca-cards setting, plus ``extra``."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("LUCCA_", "CARDS_"))}
    return {**clean, **extra}


def command(*options: str) -> list[str]:
    return [sys.executable, "-m", "lucca_cards", "webhooks", "serve", *options]


def first_line(stream: IO[str], timeout: float = DEADLINE) -> str:
    """Return the stream's first line, or fail once ``timeout`` passes without one."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no line from the child within {timeout} s")


class Child:
    """A running ``webhooks serve``: its process and the URL of its first line."""

    def __init__(self, process: subprocess.Popen[str], line: str) -> None:
        self.process, self.line = process, line
        found = LISTENING.search(line)
        assert found, line
        self.url, self.port = found.group(1), int(found.group(2))

    def stop(self, how: int = signal.SIGTERM) -> tuple[int, str]:
        """Send ``how``; return the exit status and the rest of standard error."""
        self.process.send_signal(how)
        _, rest = self.process.communicate(timeout=DEADLINE)
        return self.process.returncode, rest


@contextlib.contextmanager
def serving(*options: str, env: dict[str, str]) -> Iterator[Child]:
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own CLI
        command(*options), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        assert process.stderr is not None
        line = first_line(process.stderr)
        if not line:
            status = process.wait(timeout=DEADLINE)
            pytest.fail(f"webhooks serve exited {status} before listening: "
                        f"{process.stderr.read()}")
        yield Child(process, line)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=DEADLINE)


def post(url: str, body: bytes, signature: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False  # loopback: no proxy from the environment
    with session:
        return session.post(url, data=body, headers={"Signature": signature}, timeout=10)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_receives_a_signed_event_and_stops_cleanly(tmp_path: Path, how: int) -> None:
    ledger = tmp_path / "ledger.sqlite"
    with serving("--port", "0", "--ledger", str(ledger),
                 env=environment(CARDS_WEBHOOK_SECRET=SECRET)) as child:
        assert child.port > 0
        assert f"{child.url}/cards" in child.line
        assert SECRET not in child.line
        signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
        answer = post(child.url + "/cards", BODY, signature)
        assert answer.json() == {"status": "recorded", "changed": True}
        forged = post(child.url, BODY, "0" * 64)
        assert forged.status_code == 401
        status, rest = child.stop(how)
    assert status == 0
    assert "chapter-complete evt-cli: recorded, changed" in rest
    assert "refused (401)" in rest
    assert "stopped" in rest.splitlines()[-1]
    for hidden in (SECRET, signature, "zoe@example.com", "Traceback"):
        assert hidden not in rest
    with TrainingLedger(ledger) as reopened:  # closed by the child, whole
        assert reopened.event_count() == 1
        assert reopened.learners() == ["zoe@example.com"]


def test_serve_takes_the_secret_and_the_ledger_from_a_config_file(tmp_path: Path) -> None:
    ledger = tmp_path / "configured.sqlite"
    config = tmp_path / "lucca-cards.toml"
    config.write_text(f'[cards]\nwebhook_secret = "{SECRET}"\nsignature_header = "X-Sig"\n'
                      f"[state]\ndatabase = {json.dumps(str(ledger))}\n", encoding="utf-8")
    with serving("--port", "0", "--config", str(config), env=environment()) as child:
        signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
        session = requests.Session()
        session.trust_env = False
        with session:
            answer = session.post(child.url, data=BODY, headers={"X-Sig": signature},
                                  timeout=10)
        assert answer.status_code == 200
        assert child.stop()[0] == 0
    with TrainingLedger(ledger) as reopened:
        assert reopened.event_count() == 1


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(  # noqa: S603
            command("--port", str(port), "--ledger", str(tmp_path / "l.sqlite")),
            capture_output=True, text=True, timeout=DEADLINE,
            env=environment(CARDS_WEBHOOK_SECRET=SECRET))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert f"cannot listen on port {port}" in line
    assert "--port 0" in line
    assert SECRET not in line


def test_no_secret_is_a_configuration_error_naming_the_setting(tmp_path: Path) -> None:
    ledger = tmp_path / "never.sqlite"
    done = subprocess.run(  # noqa: S603
        command("--port", "0", "--ledger", str(ledger)),
        capture_output=True, text=True, timeout=DEADLINE, env=environment())
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("lucca-cards: configuration error: cards_webhook_secret: is not set")
    assert "CARDS_WEBHOOK_SECRET" in line
    assert "webhook_secret under [cards]" in line
    for named in ("lucca_webhook_secret", "LUCCA_WEBHOOK_SECRET", "webhook_secret under [lucca]"):
        assert named in line  # either secret will do: the error names both
    assert not ledger.exists()  # refused before anything was opened


# -- in this process: what returns before serving -------------------------------------------


def test_no_secret_in_process_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for name in list(os.environ):
        if name.startswith(("LUCCA_", "CARDS_")):
            monkeypatch.delenv(name)
    assert main(["webhooks", "serve", "--port", "0",
                 "--ledger", str(tmp_path / "x.sqlite")]) == 2
    assert "cards_webhook_secret" in capsys.readouterr().err


def test_a_blank_secret_flag_is_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "serve", "--port", "0", "--secret", "  ",
                 "--ledger", str(tmp_path / "x.sqlite")]) == 2
    assert "cards_webhook_secret" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["webhooks", "serve", "--port", port])
    assert exited.value.code == 2


def test_the_parser_knows_the_command_and_its_defaults() -> None:
    args = build_parser().parse_args(["webhooks", "serve", "--port", "8000"])
    assert (args.port, args.host, args.secret, args.ledger, args.config) == (
        8000, "127.0.0.1", None, None, None)
    assert (args.lucca_secret, args.process) == (None, True)
    assert callable(args.run)
    args = build_parser().parse_args(["webhooks", "serve", "--port", "0", "--no-process",
                                      "--lucca-secret", "x"])
    assert (args.lucca_secret, args.process) == ("x", False)


def test_the_port_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["webhooks", "serve"])
    assert exited.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_webhooks_alone_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["webhooks"])
    assert exited.value.code == 0
    assert "serve" in capsys.readouterr().out


@contextlib.contextmanager
def receiving(tmp_path: Path) -> Iterator[tuple[TrainingLedger, Any, threading.Thread]]:
    """Serve the receiver as ``webhooks serve`` does; yield the ledger, server and thread."""
    from lucca_cards.cli._webhooks import _make_server
    from lucca_cards.receiver import make_app

    with TrainingLedger(tmp_path / "ledger.sqlite") as ledger:
        server = _make_server(make_app(ledger, secret=SECRET), "127.0.0.1", 0)
        serving_thread = threading.Thread(target=server.serve_forever, daemon=True,
                                          kwargs={"poll_interval": 0.05})
        serving_thread.start()
        yield ledger, server, serving_thread


def test_a_stop_waits_for_the_event_being_received(tmp_path: Path) -> None:
    from lucca_cards.cli._webhooks import stop_serving

    with receiving(tmp_path) as (ledger, server, serving_thread):
        signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /cards HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Signature: %s\r\nContent-Length: %d\r\n\r\n"
                         % (signature.encode(), len(BODY)))
            interim = b""
            while b"\r\n\r\n" not in interim:  # the request is under way (socket timeout)
                interim += sock.recv(1)
            assert interim.startswith(b"HTTP/1.1 100")
            closing = threading.Thread(target=stop_serving, args=(server, serving_thread))
            closing.start()  # what SIGTERM does
            closing.join(timeout=0.5)
            assert closing.is_alive()  # held by the request under way
            sock.sendall(BODY)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        closing.join(timeout=10)
        assert not closing.is_alive()
        # http.server and werkzeug each send their own "100 Continue": skip any left.
        while answer.startswith(b"HTTP/1.1 100"):
            answer = answer.partition(b"\r\n\r\n")[2]
        assert answer.startswith(b"HTTP/1.1 200")
        assert ledger.event_count() == 1


def test_the_ledger_option_is_also_spelt_state_as_elsewhere() -> None:
    from lucca_cards.cli import build_parser

    for flag in ("--ledger", "--state"):
        args = build_parser().parse_args(["webhooks", "serve", "--port", "0", flag, "x.sqlite"])
        assert args.ledger == "x.sqlite"


def test_a_stop_cuts_a_trickling_client_after_the_grace(tmp_path: Path) -> None:
    from lucca_cards.cli._webhooks import stop_serving

    with receiving(tmp_path) as (ledger, server, serving_thread):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /cards HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(BODY))
            interim = b""
            while b"\r\n\r\n" not in interim:  # the request is under way
                interim += sock.recv(1)
            sock.sendall(BODY[:5])  # then it trickles: a socket timeout never fires
            closing = threading.Thread(target=stop_serving,
                                       args=(server, serving_thread, 0.2))
            closing.start()
            closing.join(timeout=10)
            assert not closing.is_alive(), "the stop must not wait for the trickle"
            rest = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):  # ends: the server closed its side
                    rest += chunk
            assert rest.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b"") == b""
        assert not serving_thread.is_alive()
        assert ledger.event_count() == 0


# -- Lucca events ---------------------------------------------------------------------------

LUCCA_SECRET = f"{SECRET_MARK}-lucca-serve"
LUCCA_SOURCE = "https://acme.ilucca.net"


def lucca_event(event_id: str = "lucca-1", employee: str = "416") -> bytes:
    return json.dumps({"id": event_id, "type": "event", "topic": "employee.created",
                       "source": LUCCA_SOURCE, "occurredAt": "2026-03-02T08:59:58Z",
                       "data": {"id": employee, "email": "zoe@example.com"}}).encode()


def post_lucca(url: str, body: bytes, secret: str = LUCCA_SECRET) -> requests.Response:
    from datetime import datetime, timezone

    from lucca_cards.lucca.webhooks import sign

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    session = requests.Session()
    session.trust_env = False
    with session:
        return session.post(url, data=body, timeout=10, headers={
            "Lucca-Timestamp": stamp, "Lucca-Signature": sign(stamp, body, secret),
            "Content-Type": "application/json"})


def get(url: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    with session:
        return session.get(url, timeout=10)


def test_serve_receives_lucca_events_only_with_no_process(tmp_path: Path) -> None:
    from lucca_cards.state import LuccaInbox

    state = tmp_path / "state.sqlite"
    with serving("--port", "0", "--state", str(state), "--no-process",
                 env=environment(LUCCA_WEBHOOK_SECRET=LUCCA_SECRET)) as child:
        assert f"Lucca events at {child.url}/lucca" in child.line
        assert "Cards events" not in child.line
        assert "stored only (--no-process" in child.line
        challenge = get(child.url + "/lucca?challenge=abc123")
        assert (challenge.status_code, challenge.text) == (200, "abc123")
        assert challenge.headers["Content-Type"].startswith("text/plain")
        answer = post_lucca(child.url + "/lucca", lucca_event())
        assert (answer.status_code, answer.json()) == (202, {"status": "accepted"})
        forged = post_lucca(child.url + "/lucca", lucca_event("lucca-2"), secret="wrong")
        assert forged.status_code == 401
        assert post(child.url + "/cards", BODY, "0" * 64).status_code == 404
        status, rest = child.stop()
    assert status == 0
    assert "lucca event employee.created lucca-1 (employee 416): stored, to apply" in rest
    for hidden in (LUCCA_SECRET, "zoe@example.com", "Traceback"):
        assert hidden not in rest
    with LuccaInbox(state) as inbox:
        assert [(e.event_id, e.status) for e in inbox.events()] == [("lucca-1", "pending")]


def test_serve_receives_both_kinds_with_both_secrets(tmp_path: Path) -> None:
    with serving("--port", "0", "--state", str(tmp_path / "s.sqlite"), "--no-process",
                 "--lucca-secret", LUCCA_SECRET,
                 env=environment(CARDS_WEBHOOK_SECRET=SECRET)) as child:
        assert f"Cards events at {child.url}/ and {child.url}/cards and Lucca events at " \
               f"{child.url}/lucca" in child.line
        signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
        assert post(child.url + "/cards", BODY, signature).status_code == 200
        assert post_lucca(child.url + "/lucca/", lucca_event()).status_code == 202
        assert child.stop()[0] == 0


def test_processing_without_the_client_settings_is_a_configuration_error(
        tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603
        command("--port", "0", "--state", str(tmp_path / "s.sqlite")),
        capture_output=True, text=True, timeout=DEADLINE,
        env=environment(LUCCA_WEBHOOK_SECRET=LUCCA_SECRET))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("lucca-cards: configuration error: lucca_")
    assert "serve with --no-process" in line
    assert LUCCA_SECRET not in line


def test_a_blank_lucca_secret_flag_is_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "serve", "--port", "0", "--lucca-secret", " ",
                 "--state", str(tmp_path / "x.sqlite")]) == 2
    assert "lucca_webhook_secret" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


# -- the wiring, in this process, with a stand-in processor ---------------------------------


class StandIn:
    """What ``EventProcessor`` offers ``webhooks serve``: from_settings, process_due, close."""

    made: list[StandIn] = []

    def __init__(self, settings: Any, database: Any) -> None:
        self.settings, self.database = settings, database
        self.rounds: list[int] = []
        self.called = threading.Event()
        self.closed = False

    @classmethod
    def from_settings(cls, settings: Any, database: Any) -> StandIn:
        made = cls(settings, database)
        cls.made.append(made)
        return made

    def process_due(self) -> None:
        self.rounds.append(len(self.rounds) + 1)
        if len(self.rounds) >= 2:  # the start-up round, then the one the event woke
            self.called.set()

    def close(self) -> None:
        self.closed = True


def test_receiving_shares_one_database_and_wakes_the_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime, timezone

    from werkzeug.test import Client

    from lucca_cards import Settings
    from lucca_cards.cli._webhooks import receiving
    from lucca_cards.lucca.webhooks import sign
    from lucca_cards.sync import events

    StandIn.made = []
    monkeypatch.setattr(events, "EventProcessor", StandIn)
    settings = Settings(cards_webhook_secret=SECRET, lucca_webhook_secret=LUCCA_SECRET,
                        state_database=str(tmp_path / "state.sqlite"))
    with receiving(settings) as (app, worker):
        (processor,) = StandIn.made
        assert worker is not None and not worker.running  # started once listening
        worker.start()
        assert app.paths == ("/", "/cards", "/lucca")
        shared = processor.database
        assert app.inbox._database is shared  # type: ignore[union-attr]
        assert app.ledger._database is shared  # type: ignore[union-attr]
        body = lucca_event()
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = Client(app).post("/lucca", data=body, headers={
            "Lucca-Timestamp": stamp, "Lucca-Signature": sign(stamp, body, LUCCA_SECRET)})
        assert answer.status_code == 202
        assert processor.called.wait(DEADLINE)  # woken by the event, not by a timer
        worker.stop(DEADLINE)  # as the server's stop does
    assert not worker.running and processor.closed
    with pytest.raises(RuntimeError, match="closed"):
        app.inbox.counts()  # type: ignore[union-attr]


def test_receiving_without_processing_or_lucca_starts_no_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lucca_cards import Settings
    from lucca_cards.cli._webhooks import receiving
    from lucca_cards.sync import events

    StandIn.made = []
    monkeypatch.setattr(events, "EventProcessor", StandIn)
    path = str(tmp_path / "state.sqlite")
    with receiving(Settings(lucca_webhook_secret=LUCCA_SECRET, state_database=path),
                   process=False) as (app, worker):
        assert worker is None and app.paths == ("/lucca",)
    with receiving(Settings(cards_webhook_secret=SECRET, state_database=path)) as (app, worker):
        assert worker is None and app.paths == ("/", "/cards")
    assert StandIn.made == []


# -- end to end: the sandbox's Lucca hires, the served worker creates the Cards account -----


def test_a_hire_in_lucca_reaches_cards_through_serve(tmp_path: Path) -> None:
    from lucca_cards.sandbox import Sandbox

    with Sandbox(seed=3, employees=12, departments=3, lucca_rate_limit=0,
                 cards_rate_limit=0) as box:
        info = box.connection_info()
        env = environment(
            LUCCA_URL=info["lucca_url"], LUCCA_TOKEN_URL=info["token_url"],
            LUCCA_CLIENT_ID=info["client_id"], LUCCA_CLIENT_SECRET=info["client_secret"],
            LUCCA_API_KEY=info["api_key"], LUCCA_SCOPES=" ".join(box.lucca_scopes),
            LUCCA_REQUESTS_PER_MINUTE="0", CARDS_URL=info["cards_url"],
            CARDS_TENANT=info["cards_tenant"], CARDS_API_KEY=info["cards_api_key"],
            CARDS_REQUESTS_PER_MINUTE="0", LUCCA_WEBHOOK_SECRET=info["lucca_webhook_secret"])
        with serving("--port", "0", "--state", str(tmp_path / "state.sqlite"),
                     env=env) as child:
            assert "applied as they arrive" in child.line
            box.lucca.register_webhook(child.url + "/lucca",
                                       secret=info["lucca_webhook_secret"])
            department = next(iter(box.company.lucca.departments))
            hired = box.lucca.hire(given_name="Inès", family_name="Nouvelle",
                                   email="ines.nouvelle@example.com",
                                   department_id=int(department))
            assert child.process.stderr is not None
            for _ in range(200):  # the child's log lines, each read with a deadline
                line = first_line(child.process.stderr)
                if f"employee {hired}: " in line:
                    break
            else:
                pytest.fail("the hire was never applied")
            assert "created" in line
            status, rest = child.stop()
        assert status == 0, rest
        emails = {user.email for user in box.company.cards.users.values()}
        assert "ines.nouvelle@example.com" in emails


def test_a_receiver_that_cannot_listen_applies_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse
    import errno

    from lucca_cards import Settings
    from lucca_cards.cli import _webhooks
    from lucca_cards.sync import events

    StandIn.made = []
    monkeypatch.setattr(events, "EventProcessor", StandIn)

    def taken(*_: Any) -> Any:
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(_webhooks, "_make_server", taken)
    settings = Settings(lucca_webhook_secret=LUCCA_SECRET,
                        state_database=str(tmp_path / "state.sqlite"))
    args = argparse.Namespace(host="127.0.0.1", port=8080, debug=False)
    with _webhooks.receiving(settings) as (app, worker):
        status = _webhooks._listen_and_wait(app, worker, args, settings, threading.Event())
    assert status == 2 and "Address already in use" in capsys.readouterr().err
    (processor,) = StandIn.made
    assert processor.rounds == [] and processor.closed  # never started, then closed


def test_the_serving_commands_give_ctrl_c_back_when_they_end() -> None:
    """Run in-process (a notebook, a test), a serving command leaves Ctrl-C as it found it."""
    import os
    import signal

    from lucca_cards.cli._process import stop_on_signals

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert signal.getsignal(signal.SIGINT) not in before
        os.kill(os.getpid(), signal.SIGTERM)  # what a service manager sends
        assert stop.wait(5)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
