"""The receiver's WSGI app over real HTTP on loopback (werkzeug), into a real SQLite ledger.

Forged, missing and replayed signatures; events out of order; 500 events from 20 threads
at once; bodies over the limit, declared or chunked; methods and paths; and the sandbox's
fake Cards delivering its signed webhooks to it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import SECRET_MARK
from lucca_cards._serving import ServedApp
from lucca_cards.cards.webhooks import MAX_BODY_BYTES
from lucca_cards.receiver import make_app
from lucca_cards.sandbox import Sandbox, SandboxCredentials
from lucca_cards.state import TrainingLedger

SECRET = f"{SECRET_MARK}-receiver-http"
TIMEOUT = 10


def event(event_id: str, *, email: str = "ana@example.com", training: str = "trn-1",
          progress: float = 0.2, at: str = "2024-01-20 09:09:00") -> bytes:
    payload = {
        "id": event_id, "type": "chapter-complete", "created_at": "2024-01-20 10:00:00",
        "data": {"created_at": at, "points": 1,
                 "user": {"id": f"u-{email}", "firstname": "Ana", "email": email},
                 "training": {"id": training, "title": f"T {training}", "chapters_count": 10},
                 "score": {"points": 1, "max_points": 10, "progress": progress}},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Receiver:
    """A served receiver app, its ledger, and a way to post to it."""

    def __init__(self, served: ServedApp, ledger: TrainingLedger) -> None:
        self.served, self.ledger = served, ledger
        self.host, self.port, self.url = served.host, served.port, served.url
        self._local = threading.local()

    def session(self) -> requests.Session:
        """One session per thread (a Session is not meant to be shared across threads)."""
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.trust_env = False  # loopback: no proxy from the environment
            self._local.session = session
        return self._local.session  # type: ignore[no-any-return]

    def post(self, body: Any, *, path: str = "/", signature: str | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if signature is not None:
            sent["Signature"] = signature
        return self.session().post(self.url + path, data=body, headers=sent, timeout=TIMEOUT)

    def post_signed(self, body: bytes, path: str = "/") -> requests.Response:
        return self.post(body, path=path, signature=sign(body))

    def raw(self, request: bytes) -> bytes:
        """Send ``request`` as is on a new connection; return the answer's head and body."""
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return answer


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with TrainingLedger(tmp_path / "ledger.sqlite") as ledger, \
            ServedApp(make_app(ledger, secret=SECRET)) as served:
        yield Receiver(served, ledger)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# -- signatures -----------------------------------------------------------------------------


def test_forged_missing_and_replayed_signatures(receiver: Receiver) -> None:
    body = event("evt-1")
    forged = receiver.post(body, signature=sign(body, "not-the-secret"))
    missing = receiver.post(body)
    assert (forged.status_code, missing.status_code) == (401, 401)
    assert forged.json() == {"error": "invalid or missing signature"}
    assert receiver.ledger.event_count() == 0
    first, replay = receiver.post_signed(body), receiver.post_signed(body)
    assert (first.status_code, first.json()["changed"]) == (200, True)
    assert (replay.status_code, replay.json()["changed"]) == (200, False)
    assert receiver.ledger.event_count() == 1
    assert first.headers["Content-Type"] == "application/json"


def test_a_signature_over_the_raw_bytes_not_a_reencoding(receiver: Receiver) -> None:
    # PHP escapes "/" and non-ASCII; the signature covers exactly those bytes.
    body = event("evt-php").replace(b'"T trn-1"', b'"S\\u00e9curit\\u00e9 \\/ 1"')
    assert receiver.post_signed(body).status_code == 200
    (state,) = receiver.ledger.records_for("ana@example.com")
    assert state.title == "Sécurité / 1"
    reencoded = json.dumps(json.loads(body)).encode()
    assert receiver.post(reencoded, signature=sign(body)).status_code == 401


# -- order and concurrency ------------------------------------------------------------------


def test_events_out_of_order_keep_the_latest_state(receiver: Receiver) -> None:
    later = event("evt-later", progress=0.6, at="2024-01-20 09:20:00")
    earlier = event("evt-earlier", progress=0.4, at="2024-01-20 09:10:00")
    assert receiver.post_signed(later).json() == {"status": "recorded", "changed": True}
    assert receiver.post_signed(earlier).json() == {"status": "recorded", "changed": False}
    (state,) = receiver.ledger.records_for("ana@example.com")
    assert (state.progress, str(state.last_action_at)) == (0.6, "2024-01-20 09:20:00")
    assert receiver.ledger.event_count() == 2


def test_500_events_from_20_threads_are_each_counted_once(receiver: Receiver) -> None:
    # 50 learners x 10 trainings; the first 100 events are also delivered a second time.
    bodies = [event(f"evt-{n}", email=f"learner{n % 50}@example.com",
                    training=f"trn-{n // 50}", progress=round((n % 7 + 1) / 10, 1))
              for n in range(500)]
    deliveries = bodies + bodies[:100]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(receiver.post_signed, deliveries))
    assert [a.status_code for a in answers] == [200] * 600
    changed = [a.json()["changed"] for a in answers]
    # Every (learner, training) is new: exactly one delivery of each event changed it,
    # the first to arrive, original or redelivery (the threads race).
    assert changed[100:500] == [True] * 400
    assert [changed[n] + changed[500 + n] for n in range(100)] == [1] * 100
    assert receiver.ledger.event_count() == 500
    assert len(receiver.ledger.learners()) == 50
    state = receiver.ledger.records_for("learner7@example.com")
    assert [(s.training_id, s.progress) for s in state] == [
        (f"trn-{n // 50}", round((n % 7 + 1) / 10, 1)) for n in range(7, 500, 50)]


# -- size -----------------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_413_before_any_body_is_sent(
    receiver: Receiver,
) -> None:
    # The body never comes: an answer proves the receiver did not wait to read it.
    head = (f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\nSignature: 00\r\n\r\n").encode()
    answer = receiver.raw(head)
    assert status_of(answer) == 413
    assert b'"error":"body too large: the limit is 1048576 bytes"' in answer


def test_a_2_mib_body_with_a_valid_signature_is_413(receiver: Receiver) -> None:
    body = event("evt-big")[:-1] + b" " * (2 * MAX_BODY_BYTES) + b"}"
    answer = receiver.post_signed(body)
    assert answer.status_code == 413
    assert receiver.ledger.event_count() == 0


def chunked(body: bytes, piece: int = 100_000) -> Callable[[], Iterator[bytes]]:
    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), piece):
            yield body[start:start + piece]
    return pieces


@pytest.mark.parametrize(("extra", "status", "stored"), [(0, 200, 1), (1, 413, 0)],
                         ids=["exactly the limit", "one byte over"])
def test_a_chunked_body_is_held_to_the_limit_without_content_length(
    receiver: Receiver, extra: int, status: int, stored: int,
) -> None:
    small = event("evt-chunked")
    body = small[:-1] + b" " * (MAX_BODY_BYTES - len(small) + extra) + b"}"
    assert len(body) == MAX_BODY_BYTES + extra
    connection = http.client.HTTPConnection(receiver.host, receiver.port, timeout=TIMEOUT)
    try:
        connection.request("POST", "/cards", body=chunked(body)(), encode_chunked=True,
                           headers={"Signature": sign(body), "Transfer-Encoding": "chunked"})
        answer = connection.getresponse()
        assert answer.status == status
        answer.read()
    finally:
        connection.close()
    assert receiver.ledger.event_count() == stored


# -- methods and paths ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_a_wrong_method_is_405_with_allow(receiver: Receiver, method: str) -> None:
    body = event("evt-method")
    answer = receiver.session().request(method, receiver.url + "/cards", data=body,
                                        headers={"Signature": sign(body)}, timeout=TIMEOUT)
    assert (answer.status_code, answer.headers["Allow"]) == (405, "POST")
    assert receiver.ledger.event_count() == 0


def test_cards_events_are_received_at_root_and_cards_only(receiver: Receiver) -> None:
    assert receiver.post_signed(event("evt-root"), "/").status_code == 200
    assert receiver.post_signed(event("evt-cards"), "/cards").status_code == 200
    assert receiver.post_signed(event("evt-query"), "/cards?from=cards").status_code == 200
    assert receiver.post_signed(event("evt-slash"), "/cards/").status_code == 200
    for path in ("/cards/extra", "/Cards", "/webhooks", "/cards//"):
        answer = receiver.post_signed(event(f"evt-{path}"), path)
        assert (answer.status_code, answer.json()["error"]) == (
            404, "not found: Cards events go to / or /cards")
    # Lucca's route without its secret: retried later by Lucca, never stored.
    assert receiver.post_signed(event("evt-lucca"), "/lucca").status_code == 503
    assert receiver.ledger.event_count() == 4


# -- the sandbox's fake Cards delivers to it ------------------------------------------------


def test_the_sandbox_delivers_its_signed_webhooks_into_the_ledger(tmp_path: Path) -> None:
    credentials = SandboxCredentials.generate(webhook_secret=SECRET)
    with TrainingLedger(tmp_path / "ledger.sqlite") as ledger, \
            ServedApp(make_app(ledger, secret=SECRET)) as served, \
            Sandbox(seed=5, employees=80, departments=6, lucca_rate_limit=0,
                    cards_rate_limit=0, credentials=credentials,
                    webhook_url=served.url + "/cards") as box:
        assert box.connection_info()["webhook_secret"] == SECRET
        reports = [box.simulate_activity(learners=12, seed=seed) for seed in (1, 2)]
        assert [r.failed for r in reports] == [0, 0]
        assert ledger.event_count() == sum(r.delivered for r in reports) > 0
        truth = box.cards.data
        expected = {
            (truth.users[user_id].email.strip().lower(), training_id):
                len(set(progress.chapters_done)) / len(truth.trainings[training_id].chapters)
            for (user_id, training_id), progress in truth.progress.items()
            if progress.chapters_done
        }
        got = {(s.email, s.training_id): s.progress for s in ledger.states()}
        assert got == pytest.approx(expected)
        assert len(ledger.learners()) == len({email for email, _ in expected}) > 0
