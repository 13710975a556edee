"""Cards webhooks: signatures over the exact bytes, typed events, malformed bodies."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime

import pytest

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError, Secret, ValidationError
from lucca_cards.cards import webhooks
from lucca_cards.cards.client import CardsClient
from lucca_cards.cards.webhooks import (
    ChapterCompleteEvent,
    QuizCompleteEvent,
    TrainingActivityEvent,
    WebhookEvent,
    Webhooks,
)

SECRET = f"{SECRET_MARK}-webhook"

# The documented chapter-complete sample (reference §10.2) as PHP's json_encode writes it
# with default flags: "/" escaped as "\/", non-ASCII as "\uXXXX". These are the bytes
# Cards signs; Python's json.dumps would write them differently.
PHP_BODY = (
    b'{"id":"evt_01","type":"chapter-complete","created_at":"2024-01-20 09:10:00",'
    b'"data":{"created_at":"2024-01-20 09:09:00","points":1,'
    b'"user":{"id":"usr_1","firstname":"J\\u00e9r\\u00f4me","lastname":"Doe",'
    b'"email":"jerome.doe@example.com","company":"X","lang":"fr"},'
    b'"training":{"id":"trn_1","title":"Titre de ma formation",'
    b'"description":"Description de ma formation",'
    b'"image":"https:\\/\\/api.cards-microlearning.com\\/img_1","chapters_count":5,'
    b'"chapter":{"id":"chp_1","title":"Titre de mon chapitre","position":1}},'
    b'"score":{"points":1,"max_points":1,"progress":0.2}}}'
)


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- signatures -------------------------------------------------------------------------


def test_signature_over_the_raw_php_bytes_verifies() -> None:
    assert webhooks.verify(PHP_BODY, sign(PHP_BODY), SECRET) is True
    assert webhooks.verify(PHP_BODY, sign(PHP_BODY), Secret(SECRET)) is True


def test_re_serialised_body_does_not_verify() -> None:
    reserialised = json.dumps(json.loads(PHP_BODY), separators=(",", ":")).encode()
    assert reserialised != PHP_BODY
    assert webhooks.verify(reserialised, sign(PHP_BODY), SECRET) is False


def test_wrong_secret_or_tampered_body_fails() -> None:
    signature = sign(PHP_BODY)
    assert webhooks.verify(PHP_BODY, signature, f"{SECRET_MARK}-other") is False
    tampered = PHP_BODY.replace(b'"points":1,', b'"points":9,', 1)
    assert webhooks.verify(tampered, signature, SECRET) is False
    assert webhooks.verify(PHP_BODY, signature[:-1], SECRET) is False


@pytest.mark.parametrize(
    "shape",
    [
        lambda s: f"sha256={s}",
        lambda s: f"  {s.upper()}\n",
        lambda s: f"SHA256={s.upper()}",
    ],
)
def test_prefix_blanks_and_uppercase_are_tolerated(shape: Callable[[str], str]) -> None:
    assert webhooks.verify(PHP_BODY, shape(sign(PHP_BODY)), SECRET) is True


@pytest.mark.parametrize("signature", [None, "", "   ", "sha256=", "é" * 64])
def test_missing_or_garbage_signature_is_false(signature: str | None) -> None:
    assert webhooks.verify(PHP_BODY, signature, SECRET) is False


def test_str_body_and_empty_secret_are_refused() -> None:
    with pytest.raises(TypeError, match="raw request body"):
        webhooks.verify(PHP_BODY.decode(), sign(PHP_BODY), SECRET)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as empty:
        webhooks.verify(PHP_BODY, sign(PHP_BODY, ""), "")
    assert empty.value.setting == "cards_webhook_secret"


def test_verify_request_reads_the_header_case_insensitively() -> None:
    signature = sign(PHP_BODY)
    headers = {"Content-Type": "application/json", "signature": signature}
    assert webhooks.verify_request(headers, PHP_BODY, SECRET) is True
    assert webhooks.verify_request({"Content-Type": "application/json"}, PHP_BODY, SECRET) is False
    custom = {"X-Cards-Signature": signature}
    assert webhooks.verify_request(custom, PHP_BODY, SECRET) is False
    assert webhooks.verify_request(custom, PHP_BODY, SECRET, header="x-cards-signature") is True


def test_bound_webhooks_use_their_secret_and_header() -> None:
    hooks = Webhooks(secret=SECRET, signature_header="X-Cards-Signature")
    assert hooks.verify_request({"x-cards-signature": sign(PHP_BODY)}, PHP_BODY) is True
    assert hooks.verify(PHP_BODY, sign(PHP_BODY, f"{SECRET_MARK}-2"), f"{SECRET_MARK}-2") is True
    assert SECRET_MARK not in repr(hooks)
    with pytest.raises(ConfigurationError, match="cards_webhook_secret"):
        Webhooks().verify(PHP_BODY, sign(PHP_BODY))


def test_client_exposes_webhooks() -> None:
    client = CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-k", webhook_secret=SECRET)
    assert client.webhooks.verify_request({"Signature": sign(PHP_BODY)}, PHP_BODY) is True
    assert isinstance(client.webhooks.parse(PHP_BODY), ChapterCompleteEvent)


# --- events -----------------------------------------------------------------------------


def test_parse_chapter_complete_with_every_documented_value() -> None:
    event = webhooks.parse(PHP_BODY)
    assert isinstance(event, ChapterCompleteEvent)
    assert (event.id, event.type) == ("evt_01", "chapter-complete")
    assert event.created_at == datetime(2024, 1, 20, 9, 10)
    assert event.created_at.tzinfo is None  # gap 5: kept naive, as sent
    data = event.data
    assert data.created_at == datetime(2024, 1, 20, 9, 9)
    assert data.points == 1
    assert data.user is not None
    assert (data.user.id, data.user.firstname, data.user.lastname) == ("usr_1", "Jérôme", "Doe")
    assert (data.user.email, data.user.company, data.user.lang) == (
        "jerome.doe@example.com",
        "X",
        "fr",
    )
    training = data.training
    assert training is not None
    assert (training.id, training.title) == ("trn_1", "Titre de ma formation")
    assert training.description == "Description de ma formation"
    assert training.image == "https://api.cards-microlearning.com/img_1"
    assert training.chapters_count == 5
    assert training.chapter is not None
    assert (training.chapter.id, training.chapter.title, training.chapter.position) == (
        "chp_1",
        "Titre de mon chapitre",
        1,
    )
    assert data.score is not None
    assert (data.score.points, data.score.max_points, data.score.progress) == (1, 1, 0.2)


def test_parse_quiz_complete_shares_the_shape() -> None:
    payload = json.loads(PHP_BODY)
    payload.update(id="evt_02", type="quiz-complete")
    payload["data"]["score"] = {"points": 3, "max_points": 4, "progress": 1}
    event = webhooks.parse(json.dumps(payload))
    assert isinstance(event, QuizCompleteEvent)
    assert isinstance(event, TrainingActivityEvent)
    assert event.data.score is not None
    assert (event.data.score.points, event.data.score.max_points) == (3, 4)
    assert event.data.score.progress == 1.0


def test_unknown_type_is_a_generic_event() -> None:
    body = (
        b'{"id":"evt_03","type":"training-complete","created_at":"2024-01-21 10:00:00",'
        b'"data":{"training":{"id":"trn_1"},"extra":[1,2]}}'
    )
    event = webhooks.parse(body)
    assert type(event) is WebhookEvent
    assert event.type == "training-complete"
    assert event.created_at == datetime(2024, 1, 21, 10, 0)
    assert event.data == {"training": {"id": "trn_1"}, "extra": [1, 2]}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"id": "x", "type": ', "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b'["chapter-complete"]', "JSON object"),
        (b'{"id":"x","type":"quiz-complete","created_at":"2024-01-20 09:10:00"}', "data"),
        (b'{"type":"quiz-complete","created_at":"2024-01-20 09:10:00","data":{}}', "id"),
        (
            b'{"id":"x","type":"chapter-complete","created_at":"2024-01-20 09:10:00",'
            b'"data":{"points":"many"}}',
            "ChapterCompleteEvent",
        ),
        (b'{"id":"x","type":"ping","created_at":"yesterday","data":{}}',
         "'ping' event cannot be read.*created_at"),
    ],
)
def test_malformed_bodies_raise_validation_error(body: bytes, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        webhooks.parse(body)


def test_missing_envelope_keys_are_named() -> None:
    with pytest.raises(ValidationError) as missing:
        webhooks.parse(b'{"id":"x","data":{}}')
    assert set(missing.value.errors) == {"type", "created_at"}
