"""The framework-neutral Cards webhook handler, on a real ledger in a SQLite file.

Every status it answers, in its order (405, 413, 401, 400, 503, 200), that nothing is
stored unless it answers 200, and its log lines (its configuration:
``test_receiver_config.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers

from conftest import SECRET_MARK
from lucca_cards.cards.webhooks import MAX_BODY_BYTES
from lucca_cards.receiver import CardsWebhookHandler
from lucca_cards.state import TrainingLedger

SECRET = f"{SECRET_MARK}-receiver"
EMAIL = "zoe.martin@example.com"


def event(event_id: str = "evt-1", *, progress: float = 0.2, email: str = EMAIL,
          training: str = "trn-1", at: str = "2024-01-20 09:09:00",
          kind: str = "chapter-complete") -> bytes:
    """A Cards event body, encoded as PHP's json_encode does (``\\/``, ``\\u00e9``)."""
    payload = {
        "id": event_id, "type": kind, "created_at": "2024-01-20 09:10:00",
        "data": {
            "created_at": at, "points": 1,
            "user": {"id": "usr-1", "firstname": "Zoé", "lastname": "Martin", "email": email},
            "training": {"id": training, "title": "Sécurité", "chapters_count": 5,
                         "image": "https://cards.example/i.png",
                         "chapter": {"id": "chp-1", "title": "Intro", "position": 1}},
            "score": {"points": 1, "max_points": 5, "progress": progress},
        },
    }
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "Signature": sign(body)}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[TrainingLedger]:
    with TrainingLedger(tmp_path / "ledger.sqlite") as opened:
        yield opened


@pytest.fixture
def handler(ledger: TrainingLedger) -> CardsWebhookHandler:
    return CardsWebhookHandler(ledger, SECRET)


# -- 200: stored, once ----------------------------------------------------------------------


def test_a_signed_event_is_stored_then_answered_200(
    handler: CardsWebhookHandler, ledger: TrainingLedger,
) -> None:
    body = event()
    reply = handler.handle("POST", body, signed(body))
    assert (reply.status, reply.json()) == (200, {"status": "recorded", "changed": True})
    assert reply.content_type == "application/json"
    assert ledger.event_count() == 1
    (state,) = ledger.records_for(EMAIL)
    assert (state.training_id, state.title, state.progress) == ("trn-1", "Sécurité", 0.2)


def test_a_redelivered_event_is_200_and_changes_nothing(
    handler: CardsWebhookHandler, ledger: TrainingLedger,
) -> None:
    body = event()
    assert handler.handle("POST", body, signed(body)).json()["changed"] is True
    before = ledger.records_for(EMAIL)
    again = handler.handle("POST", body, signed(body))
    assert (again.status, again.json()) == (200, {"status": "recorded", "changed": False})
    assert ledger.event_count() == 1
    assert ledger.records_for(EMAIL) == before  # updated_at included: nothing was written


def test_an_event_of_an_unknown_type_is_stored_without_changing_a_state(
    handler: CardsWebhookHandler, ledger: TrainingLedger,
) -> None:
    body = b'{"id":"evt-b","type":"badge-unlocked","created_at":"2024-01-20 09:10:00","data":{}}'
    reply = handler.handle("POST", body, signed(body))
    assert (reply.status, reply.json()["changed"]) == (200, False)
    assert (ledger.event_count(), ledger.learners()) == (1, [])


def test_the_body_is_any_bytes_like_object(
    handler: CardsWebhookHandler, ledger: TrainingLedger,
) -> None:
    for number, wrap in enumerate([bytearray, memoryview]):
        body = event(f"evt-{number}")
        assert handler.handle("POST", wrap(body), signed(body)).status == 200
    assert ledger.event_count() == 2


def test_a_text_body_is_a_programming_error_not_an_answer(handler: CardsWebhookHandler) -> None:
    body = event()
    with pytest.raises(TypeError, match="raw request body as bytes"):
        handler.handle("POST", body.decode(), signed(body))  # type: ignore[arg-type]


# -- 405 and 413: before the body -----------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "HEAD", "OPTIONS", "DELETE", "post"])
def test_any_method_but_post_is_405_with_allow_even_when_signed(
    handler: CardsWebhookHandler, ledger: TrainingLedger, method: str,
) -> None:
    body = event()
    reply = handler.handle(method, body, signed(body))
    assert (reply.status, dict(reply.headers)) == (405, {"Allow": "POST"})
    assert "POST" in reply.json()["error"]
    assert ledger.event_count() == 0


def test_a_body_over_the_limit_is_413_even_when_signed(ledger: TrainingLedger) -> None:
    body = event()
    small = CardsWebhookHandler(ledger, SECRET, max_body_bytes=len(body) - 1)
    reply = small.handle("POST", body, signed(body))
    assert reply.status == 413
    assert str(len(body) - 1) in reply.json()["error"]
    assert ledger.event_count() == 0
    exact = CardsWebhookHandler(ledger, SECRET, max_body_bytes=len(body))
    assert exact.handle("POST", body, signed(body)).status == 200  # the limit is inclusive


def test_the_default_limit_is_one_mebibyte(handler: CardsWebhookHandler) -> None:
    assert handler.max_body_bytes == MAX_BODY_BYTES == 1024 * 1024
    padded = event()[:-1] + b" " * (MAX_BODY_BYTES - len(event())) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    assert handler.handle("POST", padded, signed(padded)).status == 200
    over = padded[:-1] + b" }"
    assert handler.handle("POST", over, signed(over)).status == 413


def test_before_body_refuses_what_needs_no_body(handler: CardsWebhookHandler) -> None:
    limit = handler.max_body_bytes
    refused = handler.before_body("POST", limit + 1)
    assert refused is not None
    assert refused.status == 413
    assert handler.before_body("POST", limit) is None
    assert handler.before_body("POST", None) is None  # chunked: the reader enforces it
    method = handler.before_body("GET", limit + 1)  # the method is checked first
    assert method is not None
    assert method.status == 405
    assert handler.too_large().status == 413


@pytest.mark.parametrize(("declared", "status"), [
    (str(MAX_BODY_BYTES + 1), 413), (f" {MAX_BODY_BYTES + 1} ", 413), ("9" * 5000, 413),
    (str(MAX_BODY_BYTES), None), ("0", None), ("lots", None), ("-5", None), ("\u0663", None),
])
def test_before_body_reads_the_header_text_too(
    handler: CardsWebhookHandler, declared: str, status: int | None,
) -> None:
    refused = handler.before_body("POST", declared)
    assert (refused.status if refused else None) == status


# -- 401: the signature, before anything else ----------------------------------------------


@pytest.mark.parametrize("headers", [
    {},
    {"Signature": ""},
    {"Signature": sign(event(), "another-secret")},
    {"Signature": sign(event("evt-other"))},  # a genuine signature of another body
    {"Signature": "sha256=" + "0" * 64},
    {"X-Signature": sign(event())},  # the right value under another header
], ids=["missing", "blank", "other secret", "other body", "zeros", "other header"])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    handler: CardsWebhookHandler, ledger: TrainingLedger, headers: dict[str, str],
) -> None:
    reply = handler.handle("POST", event(), headers)
    assert (reply.status, reply.json()) == (401, {"error": "invalid or missing signature"})
    assert ledger.event_count() == 0


def test_the_signature_is_checked_before_the_body_is_read(handler: CardsWebhookHandler) -> None:
    # Unsigned garbage is 401, not 400: nothing tells a forger what the parser thinks.
    assert handler.handle("POST", b'{"id": ', {"Signature": "00"}).status == 401
    assert handler.handle("POST", b"\xff\xfe", {}).status == 401


def test_a_tampered_body_fails_its_signature(
    handler: CardsWebhookHandler, ledger: TrainingLedger,
) -> None:
    body = event(progress=0.2)
    tampered = body.replace(b'"progress":0.2', b'"progress":1')
    assert handler.handle("POST", tampered, signed(body)).status == 401
    assert ledger.event_count() == 0


@pytest.mark.parametrize("headers", [
    lambda s: {"signature": s},
    lambda s: {"SIGNATURE": s},
    lambda s: [("Signature", s)],
    lambda s: [(b"signature", s.encode())],
    lambda s: Headers([("Signature", s)]),
    lambda s: {"HTTP_SIGNATURE": s},  # a WSGI environ
    lambda s: {"Signature": "SHA256=" + s.upper()},
], ids=["lower", "upper", "pairs", "asgi bytes", "werkzeug", "environ", "prefixed upper"])
def test_headers_come_in_every_shape_frameworks_give(
    handler: CardsWebhookHandler, ledger: TrainingLedger, headers: Any,
) -> None:
    body = event()
    assert handler.handle("POST", body, headers(sign(body))).status == 200
    assert ledger.event_count() == 1


def test_the_signature_header_name_is_configurable(ledger: TrainingLedger) -> None:
    custom = CardsWebhookHandler(ledger, SECRET, signature_header="X-Cards-Signature")
    body = event()
    assert custom.handle("POST", body, {"Signature": sign(body)}).status == 401
    assert custom.handle("POST", body, {"x-cards-signature": sign(body)}).status == 200


# -- 400: a signed body that is not an event ------------------------------------------------


@pytest.mark.parametrize(("body", "said"), [
    (b'{"id": "x", "type": ', "not valid JSON"),
    (b"[]", "expected a JSON object"),
    (b'{"type":"chapter-complete","created_at":null,"data":{}}', "lacks id"),
    (event(progress=2), "data.score.progress"),
    (event().replace(b'"points":1,', b'"points":NaN,', 1), "not valid JSON"),
], ids=["truncated", "array", "no id", "progress 2", "NaN"])
def test_a_signed_but_invalid_event_is_400_with_the_sdk_reason(
    handler: CardsWebhookHandler, ledger: TrainingLedger, body: bytes, said: str,
) -> None:
    reply = handler.handle("POST", body, signed(body))
    assert reply.status == 400
    assert said in reply.json()["error"]
    assert ledger.event_count() == 0


def test_a_400_never_echoes_the_body(handler: CardsWebhookHandler) -> None:
    body = event(progress=2).replace(b"Martin", b"Zyzzyva-Unique")
    reply = handler.handle("POST", body, signed(body))
    assert reply.status == 400
    assert b"Zyzzyva" not in reply.body
    assert EMAIL.encode() not in reply.body


# -- 503: the ledger failed, Cards retries --------------------------------------------------


def test_a_closed_ledger_is_503_then_the_retry_is_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "ledger.sqlite"
    closed = TrainingLedger(path)
    closed.close()
    body = event("evt-retried")
    with caplog.at_level(logging.INFO, logger="lucca_cards.receiver"):
        reply = CardsWebhookHandler(closed, SECRET).handle("POST", body, signed(body))
    assert (reply.status, reply.json()) == (
        503, {"error": "the event could not be stored; retry later"})
    (line,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "evt-retried" in line.getMessage()
    assert "503" in line.getMessage()
    with TrainingLedger(path) as reopened:  # Cards delivers it again: now it lands
        assert CardsWebhookHandler(reopened, SECRET).handle("POST", body, signed(body)
                                                             ).status == 200
        assert reopened.event_count() == 1


def test_a_database_error_is_503_without_its_text_or_the_learner(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "ledger.sqlite"
    with TrainingLedger(path) as ledger:
        with sqlite3.connect(path) as raw:  # a broken database: the table is gone
            raw.execute("DROP TABLE training_states")
        body = event("evt-broken")
        with caplog.at_level(logging.DEBUG, logger="lucca_cards"):
            reply = CardsWebhookHandler(ledger, SECRET).handle("POST", body, signed(body))
    assert reply.status == 503
    assert b"training_states" not in reply.body
    assert b"Traceback" not in reply.body
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [("evt-broken" in r.getMessage()) for r in errors] == [True]
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not [m for m in shown if EMAIL in m or "Zoé" in m]


# -- the log --------------------------------------------------------------------------------


def test_one_info_line_per_event_with_type_id_and_change_never_the_learner(
    handler: CardsWebhookHandler, caplog: pytest.LogCaptureFixture,
) -> None:
    first, quiz = event("evt-1"), event("evt-2", kind="quiz-complete", at="2024-01-20 09:30:00")
    with caplog.at_level(logging.INFO, logger="lucca_cards.receiver"):
        for body in (first, quiz, first):
            handler.handle("POST", body, signed(body))
    lines = [r.getMessage() for r in caplog.records if r.name == "lucca_cards.receiver"]
    assert len(lines) == 3
    assert "chapter-complete" in lines[0]
    assert "evt-1" in lines[0]
    assert lines[0].endswith("recorded, changed")
    assert "quiz-complete evt-2" in lines[1]
    assert "evt-1" in lines[2]
    assert "unchanged" in lines[2]
    assert "redelivery" in lines[2]
    for line in lines:
        assert EMAIL not in line
        assert "Zoé" not in line
        assert "Martin" not in line


def test_refusals_are_logged_with_their_reason_never_the_secret_or_signature(
    handler: CardsWebhookHandler, caplog: pytest.LogCaptureFixture,
) -> None:
    body, bad = event(), event(progress=2)
    forged = sign(body, "forged")
    with caplog.at_level(logging.DEBUG, logger="lucca_cards"):
        handler.handle("GET", body, signed(body))
        handler.handle("POST", body, {"Signature": forged})
        handler.handle("POST", bad, signed(bad))
        handler.handle("POST", b" " * (MAX_BODY_BYTES + 1), {})
    lines = [r.getMessage() for r in caplog.records if r.name == "lucca_cards.receiver"]
    assert [line.split(")")[0] for line in lines] == [
        "cards webhook refused (405", "cards webhook refused (401",
        "cards webhook refused (400", "cards webhook refused (413"]
    assert "data.score.progress" in lines[2]
    text = "\n".join(r.getMessage() for r in caplog.records)
    for hidden in (SECRET, forged, sign(body), sign(bad), EMAIL):
        assert hidden not in text


def test_an_untrusted_method_is_logged_escaped_and_short(
    handler: CardsWebhookHandler, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="lucca_cards.receiver"):
        handler.handle("\x1b[2J" + "X" * 500, b"", {})
    (line,) = [r.getMessage() for r in caplog.records]
    assert "\x1b" not in line
    assert len(line) < 200
