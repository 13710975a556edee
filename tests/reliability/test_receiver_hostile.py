"""The receiver under bad input: each request gets the right status and stores nothing.

One matrix of requests, played twice: against the framework-neutral handler, and over a
raw socket against the WSGI app served by werkzeug (written byte by byte, so that headers
repeat, change case or go without ``Content-Length`` exactly as written). Every request
is validly signed unless the case is about the signature: the checks behind the
signature must hold too. The secret never shows in an answer or in a log record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import SECRET_MARK
from lucca_cards._serving import ServedApp
from lucca_cards.cards.webhooks import MAX_BODY_BYTES
from lucca_cards.receiver import CardsWebhookHandler, make_app
from lucca_cards.state import TrainingLedger

SECRET = f"{SECRET_MARK}-hostile"
TIMEOUT = 10
EVENT = (b'{"id":"evt-ok","type":"chapter-complete","created_at":"2024-01-20 09:10:00",'
         b'"data":{"created_at":"2024-01-20 09:09:00","user":{"id":"u1","firstname":"Zo\\u00e9",'
         b'"email":"zoe@example.com"},"training":{"id":"t1","title":"T","chapters_count":4},'
         b'"score":{"points":1,"max_points":4,"progress":0.25}}}')


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def with_value(old: bytes, new: bytes) -> bytes:
    assert old in EVENT
    return EVENT.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    """A request: its body and headers (``None``: a valid signature), the right status."""

    name: str
    body: bytes
    status: int
    headers: list[tuple[bytes, bytes]] | None = None
    stored: int = 0
    served_only: bool = False
    raw: bytes | None = field(default=None, repr=False)  # the whole request, as written

    def header_pairs(self) -> list[tuple[bytes, bytes]]:
        if self.headers is not None:
            return self.headers
        return [(b"Signature", sign(self.body).encode())]


BIG = EVENT[:-1] + b" " * (2 * MAX_BODY_BYTES) + b"}"  # 2 MiB, a valid event once parsed
NESTED = b'{"id":"x","type":"t","created_at":null,"data":' + b"[" * 200_000 + b"]" * 200_000 \
    + b"}"
GOOD = sign(EVENT).encode()

CASES = [
    # -- bodies, validly signed: refused behind the signature --------------------------------
    Case("empty body", b"", 400),
    Case("not UTF-8", with_value(b"Zo\\u00e9", "Zoé".encode("latin-1")), 400),
    Case("nested 200 000 deep", NESTED, 400),
    Case("NaN progress", with_value(b'"progress":0.25', b'"progress":NaN'), 400),
    Case("Infinity points", with_value(b'"points":1', b'"points":Infinity'), 400),
    Case("1e999 progress", with_value(b'"progress":0.25', b'"progress":1e999'), 400),
    Case("an id of 5000 digits", with_value(b'"evt-ok"', b"9" * 5000), 400),
    Case("a JSON string", b'"chapter-complete"', 400),
    Case("null", b"null", 400),
    Case("a lone surrogate in a stored text", with_value(b'"title":"T"', b'"title":"\\udfff"'),
         400),
    Case("a date that is not one", with_value(b'"2024-01-20 09:09:00"', b'"2024-13-45"'), 400),
    Case("2 MiB with a valid signature", BIG, 413),
    # -- signatures -------------------------------------------------------------------------
    Case("no signature", EVENT, 401, headers=[]),
    # werkzeug's server joins a repeated header into one value ("a,b"): refused too.
    Case("two different signatures", EVENT, 401,
         headers=[(b"Signature", GOOD), (b"Signature", b"0" * 64)]),
    Case("signed with another secret", EVENT, 401,
         headers=[(b"Signature", sign(EVENT, "guess").encode())]),
    Case("the secret as the signature", EVENT, 401, headers=[(b"Signature", SECRET.encode())]),
    Case("a non-ASCII signature", EVENT, 401, headers=[(b"Signature", GOOD[:-1] + b"\xe9")]),
    Case("an 8 KiB signature", EVENT, 401, headers=[(b"Signature", b"a" * 8192)]),
    # -- header shapes: a valid event, accepted once ------------------------------------------
    Case("lower-case header name", EVENT, 200, headers=[(b"signature", GOOD)], stored=1),
    Case("upper-case header name", EVENT, 200, headers=[(b"SIGNATURE", GOOD)], stored=1),
    Case("bytes headers", EVENT, 200, headers=[(b"Signature", GOOD)], stored=1),
    # -- framing, over the socket only --------------------------------------------------------
    Case("chunked over the limit, no Content-Length", BIG, 413, served_only=True),
    Case("Content-Length longer than the body", EVENT, 400, served_only=True,
         raw=b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(EVENT) + 50).encode()
         + b"\r\nSignature: " + GOOD + b"\r\n\r\n" + EVENT),
    Case("Content-Length not a number", EVENT, 401, served_only=True,
         raw=b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\nSignature: " + GOOD
         + b"\r\n\r\n" + EVENT),
]
HANDLER_CASES = [case for case in CASES if not case.served_only]


# -- against the handler --------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[TrainingLedger]:
    with TrainingLedger(tmp_path / "ledger.sqlite") as opened:
        yield opened


@pytest.mark.parametrize("case", HANDLER_CASES, ids=lambda case: case.name)
def test_the_handler_answers_each_bad_input_rightly(
    ledger: TrainingLedger, case: Case, caplog: pytest.LogCaptureFixture,
) -> None:
    handler = CardsWebhookHandler(ledger, SECRET)
    with caplog.at_level(logging.DEBUG):
        reply = handler.handle("POST", case.body, case.header_pairs())
    assert reply.status == case.status, reply.body
    assert ledger.event_count() == case.stored
    assert_no_secret(reply.body + repr(reply.headers).encode(), caplog)
    assert len(reply.body) < 1000  # a short JSON error, never the body
    json.loads(reply.body)


def test_headers_given_as_str_pairs_and_mixed_bytes_are_one_and_the_same(
    ledger: TrainingLedger,
) -> None:
    handler = CardsWebhookHandler(ledger, SECRET)
    mixed = [("Signature", GOOD), (b"Signature", GOOD.decode())]  # the same value twice
    assert handler.handle("POST", EVENT, mixed).status == 200
    assert handler.handle("POST", EVENT, [("Signature", GOOD.decode())]).status == 200
    assert ledger.event_count() == 1


# -- over a socket, against the served app --------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedApp, TrainingLedger]]:
    path = tmp_path_factory.mktemp("hostile") / "ledger.sqlite"
    with TrainingLedger(path) as opened, ServedApp(make_app(opened, secret=SECRET)) as app:
        yield app, opened


def request_bytes(case: Case) -> bytes:
    if case.raw is not None:
        return case.raw
    head = [b"POST /cards HTTP/1.1", b"Host: receiver.test", b"Content-Type: application/json"]
    head += [name + b": " + value for name, value in case.header_pairs()]
    if case.served_only:  # chunked: no Content-Length at all
        size = 64 * 1024
        pieces = [case.body[i:i + size] for i in range(0, len(case.body), size)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        return b"\r\n".join([*head, b"Transfer-Encoding: chunked", b"", body])
    return b"\r\n".join([*head, b"Content-Length: %d" % len(case.body), b"", case.body])


def exchange(app: ServedApp, request: bytes) -> bytes:
    with socket.create_connection((app.host, app.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        # Then end the request: the server drains what it did not read until the client
        # stops sending, as a real client does once it has sent its request.
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_served_app_answers_each_bad_input_rightly(
    served: tuple[ServedApp, TrainingLedger], case: Case, caplog: pytest.LogCaptureFixture,
) -> None:
    app, ledger = served
    before = ledger.event_count()
    with caplog.at_level(logging.DEBUG):
        answer = exchange(app, request_bytes(case))
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert status == case.status, answer[:300]
    stored = ledger.event_count() - before
    assert stored == (case.stored if before == 0 else 0)  # the valid event lands once
    assert_no_secret(answer, caplog)
    if status != 200:
        assert b'"error"' in body


def assert_no_secret(answer: bytes, caplog: pytest.LogCaptureFixture) -> None:
    assert SECRET.encode() not in answer
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in str(record.args)


# -- /lucca: the same framing, Lucca's signature --------------------------------------------

LUCCA_SECRET = f"{SECRET_MARK}-hostile-lucca"
LUCCA_EVENT = (b'{"id":"lucca-ok","type":"event","topic":"employee.created",'
               b'"source":"https://acme.ilucca.net","occurredAt":"2026-03-02T08:59:58Z",'
               b'"data":{"id":"416","email":"zoe@example.com"}}')


def lucca_headers(body: bytes, secret: str = LUCCA_SECRET) -> list[bytes]:
    from datetime import datetime, timezone

    from lucca_cards.lucca.webhooks import sign as lucca_sign

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [b"Lucca-Timestamp: " + stamp.encode(),
            b"Lucca-Signature: " + lucca_sign(stamp, body, secret).encode()]


def lucca_request(body: bytes, headers: list[bytes], *, method: bytes = b"POST",
                  target: bytes = b"/lucca", chunked: bool = False) -> bytes:
    head = [method + b" " + target + b" HTTP/1.1", b"Host: receiver.test", *headers]
    if chunked:
        size = 64 * 1024
        pieces = [body[i:i + size] for i in range(0, len(body), size)]
        framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        return b"\r\n".join([*head, b"Transfer-Encoding: chunked", b"", framed])
    return b"\r\n".join([*head, b"Content-Length: %d" % len(body), b"", body])


@pytest.fixture
def served_lucca(tmp_path: Path) -> Iterator[tuple[ServedApp, Any]]:
    from lucca_cards.state import LuccaInbox

    with LuccaInbox(tmp_path / "inbox.sqlite") as inbox, \
            ServedApp(make_app(inbox=inbox, lucca_secret=LUCCA_SECRET)) as app:
        yield app, inbox


LUCCA_BIG = LUCCA_EVENT[:-1] + b" " * (2 * MAX_BODY_BYTES) + b"}"


@pytest.mark.parametrize(("name", "make", "status"), [
    ("a valid event", lambda: lucca_request(LUCCA_EVENT, lucca_headers(LUCCA_EVENT)), 202),
    ("2 MiB signed, chunked", lambda: lucca_request(
        LUCCA_BIG, lucca_headers(LUCCA_BIG), chunked=True), 413),
    ("2 MiB declared", lambda: lucca_request(LUCCA_BIG, lucca_headers(LUCCA_BIG)), 413),
    ("two different signatures", lambda: lucca_request(
        LUCCA_EVENT, [*lucca_headers(LUCCA_EVENT), b"Lucca-Signature: AAAA"]), 401),
    ("the secret as the signature", lambda: lucca_request(
        LUCCA_EVENT, [lucca_headers(LUCCA_EVENT)[0],
                      b"Lucca-Signature: " + LUCCA_SECRET.encode()]), 401),
    ("a timestamp of 8 KiB", lambda: lucca_request(
        LUCCA_EVENT, [b"Lucca-Timestamp: " + b"9" * 8192, lucca_headers(LUCCA_EVENT)[1]]),
     401),
    ("Content-Length longer than the body", lambda: lucca_request(
        LUCCA_EVENT, lucca_headers(LUCCA_EVENT)).replace(
        b"Content-Length: %d" % len(LUCCA_EVENT),
        b"Content-Length: %d" % (len(LUCCA_EVENT) + 50)), 400),
    ("a GET challenge of 2 KiB", lambda: lucca_request(
        b"", [], method=b"GET", target=b"/lucca?echo=" + b"a" * 2048), 400),
    ("a GET with a body and no challenge", lambda: lucca_request(
        b"x" * 100, [], method=b"GET"), 400),
    ("HEAD", lambda: lucca_request(b"", [], method=b"HEAD"), 405),
])
def test_the_served_lucca_route_answers_each_bad_input_rightly(
    served_lucca: tuple[ServedApp, Any], name: str, make: Any, status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, inbox = served_lucca
    with caplog.at_level(logging.DEBUG):
        answer = exchange(app, make())
    head = answer.partition(b"\r\n\r\n")[0]
    assert int(head.split(b" ", 2)[1]) == status, answer[:300]
    assert inbox.counts()["pending"] == (1 if status == 202 else 0)
    assert LUCCA_SECRET.encode() not in answer
    for record in caplog.records:
        assert LUCCA_SECRET not in record.getMessage()


def test_a_bug_below_the_app_is_a_json_500_naming_no_detail(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from werkzeug.test import Client

    def broken(*_: Any) -> Any:  # a bug in the handler, not a database failure
        raise AssertionError(f"{SECRET_MARK} in a bug's message")

    with TrainingLedger(tmp_path / "ledger.sqlite") as ledger:
        app = make_app(ledger, secret=f"{SECRET_MARK}-hostile")
    app.handler.handle = broken  # type: ignore[method-assign,union-attr]
    with caplog.at_level(logging.ERROR, logger="lucca_cards.receiver"):
        answer = Client(app).post("/cards", data=b"{}")
    assert answer.status_code == 500 and answer.json == {
        "error": "internal error; deliver it again later"}
    assert "AssertionError" in caplog.text and SECRET_MARK not in caplog.text
