"""The Lucca webhook handler and ``/lucca``: challenge, signature, timestamp, inbox, replies.

The handler is driven directly (with a clock the test sets) and through ``make_app`` with
werkzeug's test client; the inbox is a real SQLite one. No test waits.
"""

from __future__ import annotations

import doctest
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError, Secret, Settings
from lucca_cards.lucca.webhooks import sign
from lucca_cards.receiver import LuccaWebhookHandler, ReceiverApp, _lucca, make_app
from lucca_cards.state import LinkStore, LuccaInbox, TrainingLedger

SECRET = f"{SECRET_MARK}-lucca-receiver"
SOURCE = "https://acme.ilucca.net"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
STAMP = "2026-03-02T09:00:00Z"


def event(event_id: str = "evt-1", *, topic: str = "employee.created",
          occurred: str = "2026-03-02T08:59:58Z", employee: str = "416") -> bytes:
    data: dict[str, Any] = {"id": employee, "firstName": "Zoé", "lastName": "Martin",
                            "email": "zoe.martin@example.com"}
    if not topic.startswith("employee."):
        data = {"id": "jp-9", "employee": {"id": employee}}
    return json.dumps({"id": event_id, "type": "event", "topic": topic, "source": SOURCE,
                       "occurredAt": occurred, "apiVersion": "2024-11-01", "data": data},
                      ensure_ascii=False).encode()


def signed(body: bytes, stamp: str = STAMP, secret: str = SECRET) -> dict[str, str]:
    return {"Lucca-Timestamp": stamp, "Lucca-Signature": sign(stamp, body, secret),
            "Content-Type": "application/json"}


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[LuccaInbox]:
    with LuccaInbox(tmp_path / "state.sqlite", clock=lambda: NOW) as opened:
        yield opened


@pytest.fixture
def woken() -> list[str]:
    return []


@pytest.fixture
def handler(inbox: LuccaInbox, woken: list[str]) -> LuccaWebhookHandler:
    return LuccaWebhookHandler(inbox, SECRET, clock=lambda: NOW,
                               on_stored=lambda: woken.append("wake"))


# -- the challenge --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["echo", "challenge"])
def test_the_challenge_is_answered_in_both_spellings(handler: LuccaWebhookHandler,
                                                     name: str) -> None:
    reply = handler.handle("GET", b"", {}, {name: "a1b2-c3"})
    assert (reply.status, reply.body, reply.content_type) == (
        200, b"a1b2-c3", "text/plain; charset=utf-8")
    assert ("X-Content-Type-Options", "nosniff") in reply.headers


def test_a_get_without_a_challenge_is_400(handler: LuccaWebhookHandler) -> None:
    for query in (None, {}, {"echo": ""}, {"other": "x"}, {"echo": "x" * 1025}):
        reply = handler.handle("GET", b"", {}, query)
        assert reply.status == 400, query
        assert "?echo=" in reply.json()["error"]


def test_the_challenge_needs_no_signature_and_stores_nothing(
        handler: LuccaWebhookHandler, inbox: LuccaInbox) -> None:
    assert handler.before_body("GET", None) is None
    assert handler.handle("GET", b"", {}, {"echo": "v"}).status == 200
    assert inbox.counts()["pending"] == 0


# -- POST -----------------------------------------------------------------------------------


def test_a_signed_event_is_stored_pending_and_answered_202(
        handler: LuccaWebhookHandler, inbox: LuccaInbox, woken: list[str]) -> None:
    body = event()
    reply = handler.handle("POST", body, signed(body))
    assert (reply.status, reply.json()) == (202, {"status": "accepted"})
    (stored,) = inbox.due()
    assert (stored.key, stored.topic, stored.employee_id) == ((SOURCE, "evt-1"),
                                                              "employee.created", "416")
    assert stored.occurred_at == datetime(2026, 3, 2, 8, 59, 58, tzinfo=timezone.utc)
    assert stored.payload == body.decode()  # the raw body, to apply later
    assert woken == ["wake"]


def test_a_duplicate_is_202_duplicate_and_wakes_the_worker_again(
        handler: LuccaWebhookHandler, inbox: LuccaInbox, woken: list[str]) -> None:
    body = event()
    handler.handle("POST", body, signed(body))
    again = handler.handle("POST", body, signed(body, "2026-03-02T09:01:00Z"))
    assert (again.status, again.json()) == (202, {"status": "duplicate"})
    assert inbox.counts()["pending"] == 1
    # Stored once; the worker woken each time (a store that ended late woke nobody).
    assert woken == ["wake", "wake"]


def test_events_of_job_positions_name_their_employee(handler: LuccaWebhookHandler,
                                                     inbox: LuccaInbox) -> None:
    body = event("evt-jp", topic="job-position.created", employee="417")
    assert handler.handle("POST", body, signed(body)).status == 202
    assert [e.employee_id for e in inbox.due()] == ["417"]


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "the Lucca-Signature header is missing"),
    ({"Lucca-Signature": "x"}, "the Lucca-Timestamp header is missing"),
    ({"Lucca-Signature": "AAAA", "Lucca-Timestamp": STAMP}, "the signature does not match"),
])
def test_a_missing_or_forged_signature_is_401_and_stores_nothing(
        handler: LuccaWebhookHandler, inbox: LuccaInbox, woken: list[str],
        headers: dict[str, str], reason: str) -> None:
    reply = handler.handle("POST", event(), headers)
    assert (reply.status, reply.json()) == (401, {"error": reason})
    assert inbox.counts()["pending"] == 0 and woken == []


@pytest.mark.parametrize("stamp", ["2026-03-02T08:54:59Z", "2026-03-02T09:05:01Z"])
def test_a_stale_or_future_timestamp_is_401_even_when_signed(
        handler: LuccaWebhookHandler, inbox: LuccaInbox, stamp: str) -> None:
    body = event()
    reply = handler.handle("POST", body, signed(body, stamp))
    assert reply.status == 401
    assert "more than 5 minutes" in reply.json()["error"]
    assert inbox.counts()["pending"] == 0


def test_the_timestamp_is_checked_against_the_handlers_clock(inbox: LuccaInbox) -> None:
    body = event()
    later = LuccaWebhookHandler(inbox, SECRET, clock=lambda: NOW + timedelta(minutes=4))
    assert later.handle("POST", body, signed(body)).status == 202
    naive = LuccaWebhookHandler(inbox, SECRET, clock=lambda: NOW.replace(tzinfo=None))
    body2 = event("evt-2")
    assert naive.handle("POST", body2, signed(body2)).status == 202  # naive: taken as UTC


def test_a_body_signed_with_another_secret_or_tampered_is_401(handler: LuccaWebhookHandler,
                                                              inbox: LuccaInbox) -> None:
    body = event()
    assert handler.handle("POST", body, signed(body, secret="other")).status == 401
    tampered = body.replace(b"416", b"999")
    assert handler.handle("POST", tampered, signed(body)).status == 401
    assert inbox.counts()["pending"] == 0


def test_a_signed_invalid_event_is_400_with_the_reason(handler: LuccaWebhookHandler,
                                                       inbox: LuccaInbox) -> None:
    for body in (b"not json", b"[]", json.dumps({"id": "e", "topic": "employee.created"})
                 .encode()):
        reply = handler.handle("POST", body, signed(body))
        assert reply.status == 400, body
        assert reply.json()["error"].startswith("Lucca event")
    assert inbox.counts()["pending"] == 0


def test_headers_in_every_shape(handler: LuccaWebhookHandler, inbox: LuccaInbox) -> None:
    body = event()
    headers = signed(body)
    lowered = {name.lower(): value for name, value in headers.items()}
    pairs = [(name.encode(), value.encode()) for name, value in headers.items()]
    assert handler.handle("POST", body, lowered).status == 202
    assert handler.handle("POST", body, pairs).status == 202  # ASGI's raw headers
    assert handler.handle("POST", body, list(headers.items())).status == 202
    twice = [*pairs, (b"lucca-signature", b"AAAA")]
    assert handler.handle("POST", body, twice).status == 401  # which one did Lucca send?
    with pytest.raises(TypeError, match="headers"):
        handler.handle("POST", body, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pairs"):
        handler.handle("POST", body, ["Lucca-Signature"])  # type: ignore[list-item]


def test_the_body_must_be_bytes(handler: LuccaWebhookHandler) -> None:
    with pytest.raises(TypeError, match="raw request body"):
        handler.handle("POST", event().decode(), {})  # type: ignore[arg-type]
    body = event()
    assert handler.handle("POST", bytearray(body), signed(body)).status == 202


def test_methods_and_sizes_refused_before_the_body(handler: LuccaWebhookHandler) -> None:
    for method in ("PUT", "DELETE", "HEAD", "post"):
        reply = handler.before_body(method)
        assert reply is not None
        assert (reply.status, dict(reply.headers)["Allow"]) == (405, "GET, POST")
        assert handler.handle(method, b"", {}).status == 405
    too_big = handler.before_body("POST", str(handler.max_body_bytes + 1))
    assert too_big is not None and too_big.status == 413
    assert handler.before_body("POST", handler.max_body_bytes) is None
    assert handler.before_body("GET", 10**9) is None  # a GET's body is never read
    small = LuccaWebhookHandler(handler.inbox, SECRET, max_body_bytes=10)
    assert small.handle("POST", b"x" * 11, {}).status == 413


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def store(self, **_: Any) -> bool:
        raise self.error


def test_an_inbox_failure_is_503_without_its_text(caplog: pytest.LogCaptureFixture) -> None:
    handler = LuccaWebhookHandler(Failing(RuntimeError("row zoe.martin@example.com")),
                                  SECRET, clock=lambda: NOW)
    body = event()
    caplog.set_level(logging.INFO, logger="lucca_cards.receiver")
    reply = handler.handle("POST", body, signed(body))
    assert (reply.status, reply.json()) == (503, {"error": "the event could not be stored; "
                                                           "retry later"})
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["lucca event employee.created evt-1 (employee 416) not stored "
                      "(RuntimeError); answered 503 so that Lucca retries"]


def test_a_closed_inbox_is_503_then_the_retry_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    closed = LuccaInbox(path)
    closed.close()
    body = event()
    assert LuccaWebhookHandler(closed, SECRET, clock=lambda: NOW).handle(
        "POST", body, signed(body)).status == 503
    with LuccaInbox(path) as inbox:
        assert LuccaWebhookHandler(inbox, SECRET, clock=lambda: NOW).handle(
            "POST", body, signed(body)).status == 202


def test_a_failing_wake_is_logged_the_event_stays_accepted(
        inbox: LuccaInbox, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("worker gone")

    handler = LuccaWebhookHandler(inbox, SECRET, clock=lambda: NOW, on_stored=broken)
    body = event()
    assert handler.handle("POST", body, signed(body)).status == 202
    assert "waking the worker failed (RuntimeError)" in caplog.text


def test_one_info_line_per_event_never_personal_data_or_secret(
        handler: LuccaWebhookHandler, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lucca_cards.receiver")
    body = event()
    headers = signed(body)
    handler.handle("POST", body, headers)
    handler.handle("POST", body, headers)
    handler.handle("POST", body, {**headers, "Lucca-Signature": "AAAA"})
    handler.handle("POST", b"{}", signed(b"{}"))
    handler.handle("GET", b"", {}, {"echo": "token-123"})
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:2] == ["lucca event employee.created evt-1 (employee 416): stored, to apply",
                         "lucca event employee.created evt-1 (employee 416): already stored "
                         "(a redelivery)"]
    assert lines[2] == "lucca webhook refused (401): the signature does not match"
    assert lines[3].startswith("lucca webhook refused (400): invalid event (")
    assert lines[4] == "lucca endpoint challenge answered (?echo=…)"
    for hidden in (SECRET, headers["Lucca-Signature"], "zoe.martin", "Zoé", "token-123"):
        assert hidden not in caplog.text


# -- options --------------------------------------------------------------------------------


def test_no_secret_or_a_blank_one_is_refused_naming_the_setting(inbox: LuccaInbox) -> None:
    for secret in (None, "  ", Secret("")):
        with pytest.raises(ConfigurationError) as caught:
            LuccaWebhookHandler(inbox, secret)
        assert caught.value.setting == "lucca_webhook_secret"
    with pytest.raises(ConfigurationError, match="LUCCA_WEBHOOK_SECRET"):
        LuccaWebhookHandler(inbox, None)
    with pytest.raises(ValueError, match="max_body_bytes"):
        LuccaWebhookHandler(inbox, SECRET, max_body_bytes=0)


def test_a_pasted_secret_loses_its_blanks_and_never_shows(inbox: LuccaInbox) -> None:
    handler = LuccaWebhookHandler(inbox, f"  {SECRET}\n", clock=lambda: NOW)
    body = event()
    assert handler.handle("POST", body, signed(body)).status == 202
    assert SECRET not in repr(handler)


def test_the_docstring_examples_run() -> None:
    result = doctest.testmod(_lucca)
    assert (result.failed, result.attempted > 0) == (0, True)


# -- /lucca in the WSGI app -----------------------------------------------------------------


def test_the_app_serves_lucca_events_and_the_challenge(inbox: LuccaInbox) -> None:
    woken: list[int] = []
    app = make_app(inbox=inbox, lucca_secret=SECRET, on_lucca_event=lambda: woken.append(1))
    assert app.handler is None and app.paths == ("/lucca",)
    client = Client(app)
    for path in ("/lucca?echo=abc", "/lucca/?challenge=abc"):
        answer = client.get(path)
        assert (answer.status_code, answer.data, answer.mimetype) == (200, b"abc", "text/plain")
    body = event(occurred=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = client.post("/lucca/", data=body, headers=signed(body, stamp))
    assert (answer.status_code, answer.json) == (202, {"status": "accepted"})
    assert woken == [1]
    for path in ("/", "/cards", "/lucca/x"):
        missing = client.post(path, data=body, headers=signed(body, stamp))
        assert (missing.status_code, missing.json) == (
            404, {"error": "not found: Lucca events go to /lucca"})
    assert client.put("/lucca", data=body).status_code == 405
    assert client.post("/lucca", data=b"x" * ((1 << 20) + 1)).status_code == 413


def test_cards_only_stores_no_lucca_event(tmp_path: Path) -> None:
    with TrainingLedger(tmp_path / "l.sqlite") as ledger:
        app = make_app(ledger, secret=SECRET)
        assert app.lucca_handler is None and app.inbox is None
        assert Client(app).post("/lucca", data=b"{}").status_code == 503


def test_settings_with_both_secrets_open_one_shared_database(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    settings = Settings(cards_webhook_secret="cards-" + SECRET, lucca_webhook_secret=SECRET,
                        state_database=str(path))
    app = make_app(settings=settings)
    assert isinstance(app, ReceiverApp) and app.paths == ("/", "/cards", "/lucca")
    assert app.ledger is not None and app.inbox is not None
    shared = app.ledger._database  # type: ignore[attr-defined]
    assert app.inbox._database is shared  # type: ignore[attr-defined]
    assert "not found: Cards events go to / or /cards, Lucca events to /lucca" in \
        Client(app).post("/nowhere").get_data(as_text=True)
    assert SECRET not in repr(app)
    app.close()
    with pytest.raises(RuntimeError, match="closed"):
        LinkStore(shared).all()


def test_a_lucca_secret_alone_is_enough(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARDS_WEBHOOK_SECRET", "LUCCA_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LUCCA_CARDS_DATABASE", str(tmp_path / "env.sqlite"))
    monkeypatch.setenv("LUCCA_WEBHOOK_SECRET", SECRET)
    app = make_app()
    try:
        assert app.paths == ("/lucca",)
        assert isinstance(app.inbox, LuccaInbox)
    finally:
        app.close()


def test_neither_secret_names_both_settings_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "never.sqlite"
    with pytest.raises(ConfigurationError) as caught:
        make_app(settings=Settings(state_database=str(path)))
    assert caught.value.setting == "cards_webhook_secret"
    for named in ("lucca_webhook_secret", "CARDS_WEBHOOK_SECRET", "LUCCA_WEBHOOK_SECRET",
                  "[lucca]", "[cards] in the TOML file"):
        assert named in str(caught.value)
    with pytest.raises(ConfigurationError, match="lucca_webhook_secret"):
        make_app(settings=Settings(state_database=str(path)), lucca_secret="  ")
    assert not path.exists()


def test_given_an_inbox_and_its_secret_make_app_reads_no_environment(
        inbox: LuccaInbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUCCA_URL", "not a URL")  # Settings.from_env() would refuse it
    app = make_app(inbox=inbox, lucca_secret=SECRET)
    app.close()
    assert inbox.counts()["pending"] == 0  # given, so left open


def test_the_challenge_is_answered_before_the_lucca_secret_is_configured(
        tmp_path: Path) -> None:
    from werkzeug.test import Client

    from lucca_cards import TrainingLedger
    from lucca_cards.receiver import make_app

    with TrainingLedger(tmp_path / "state.sqlite") as ledger:
        app = make_app(ledger, secret="cards-only-secret")
        client = Client(app)
        answer = client.get("/lucca?challenge=abc123")
        assert (answer.status_code, answer.get_data()) == (200, b"abc123")
        assert answer.headers["Content-Type"].startswith("text/plain")
        refused = client.post("/lucca", data=b"{}")
        # Events need the secret; 503 is retried by Lucca, where 404 would suspend it.
        assert refused.status_code == 503 and "LUCCA_WEBHOOK_SECRET" in refused.get_data(
            as_text=True)


def test_a_store_slower_than_its_deadline_answers_503_and_lucca_retries() -> None:
    import threading as _threading

    release, stored = _threading.Event(), []

    class Stalled:  # a database held by another writer
        def store(self, **event: object) -> bool:
            release.wait(10)
            stored.append(event["event_id"])
            return True

    handler = LuccaWebhookHandler(Stalled(), secret=SECRET, store_seconds=0,
                                  clock=lambda: NOW)
    body = json.dumps({"id": "slow-1", "type": "event", "topic": "employee.created",
                       "occurredAt": "2025-01-01T08:34:20Z",
                       "source": "https://acme.ilucca.net", "data": {"id": "416"}}).encode()
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"Lucca-Timestamp": stamp, "Lucca-Signature": sign(stamp, body, SECRET)}
    reply = handler.handle("POST", body, headers)
    assert reply.status == 503 and "in time" in reply.json()["error"]
    release.set()  # the store ends later: Lucca's redelivery is then a duplicate


def test_stalled_stores_are_bounded_and_a_redelivery_wakes_the_worker(
        inbox: LuccaInbox) -> None:
    import threading as _threading

    release, woken = _threading.Event(), []

    class Stalled:
        def store(self, **event: object) -> bool:
            release.wait(10)
            return False  # stored meanwhile by the first try

    handler = LuccaWebhookHandler(Stalled(), secret=SECRET, store_seconds=0,
                                  clock=lambda: NOW, on_stored=lambda: woken.append("w"))
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")

    def deliver(event_id: str) -> Any:
        body = json.dumps({"id": event_id, "type": "event", "topic": "employee.created",
                           "occurredAt": "2025-01-01T08:34:20Z",
                           "source": "https://acme.ilucca.net", "data": {"id": "416"}}).encode()
        return handler.handle("POST", body, {"Lucca-Timestamp": stamp,
                                             "Lucca-Signature": sign(stamp, body, SECRET)})

    answers = [deliver(f"stall-{n}").status for n in range(_lucca.MAX_STORES + 5)]
    assert answers == [503] * (_lucca.MAX_STORES + 5)
    assert sum(t.name == "lucca-inbox-store" for t in _threading.enumerate()) \
        <= _lucca.MAX_STORES
    release.set()  # the database answers again: the stalled stores end
    for thread in _threading.enumerate():
        if thread.name == "lucca-inbox-store":
            thread.join(10)
    handler.store_seconds = 5
    assert deliver("stall-0").json() == {"status": "duplicate"} and woken == ["w"]


def test_stores_under_their_deadline_are_never_capped() -> None:
    import threading as _threading

    together = _threading.Barrier(_lucca.MAX_STORES + 8, timeout=10)

    class Busy:  # every delivery is being stored at the same moment
        def store(self, **event: object) -> bool:
            together.wait()
            return True

    handler = LuccaWebhookHandler(Busy(), secret=SECRET, store_seconds=10,
                                  clock=lambda: NOW)
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    statuses: list[int] = []

    def deliver(n: int) -> None:
        body = json.dumps({"id": f"busy-{n}", "type": "event", "topic": "employee.created",
                           "occurredAt": "2025-01-01T08:34:20Z",
                           "source": "https://acme.ilucca.net", "data": {"id": "416"}}).encode()
        statuses.append(handler.handle("POST", body, {
            "Lucca-Timestamp": stamp, "Lucca-Signature": sign(stamp, body, SECRET)}).status)

    threads = [_threading.Thread(target=deliver, args=(n,))
               for n in range(_lucca.MAX_STORES + 8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert statuses == [202] * (_lucca.MAX_STORES + 8)
