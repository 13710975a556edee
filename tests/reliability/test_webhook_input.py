"""Webhook inputs: forgiving about shapes frameworks differ on, strict about what a sender says.

Signatures as ``str`` or ``bytes``; headers as any mapping or ``(name, value)`` pairs
(``bytes`` ones as ASGI gives them); blank secrets refused; ``parse`` refusing ids and
progress of the wrong type, oversize and non-UTF-8 bodies, and JSON's missing ``NaN``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict
from werkzeug.datastructures import EnvironHeaders, Headers

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError, Secret, ValidationError
from lucca_cards.cards import webhooks
from lucca_cards.cards.webhooks import (
    MAX_BODY_BYTES,
    BodyTooLargeError,
    ChapterCompleteEvent,
    WebhookEvent,
    Webhooks,
)

SECRET = f"{SECRET_MARK}-webhook"
EVENT: dict[str, Any] = {
    "id": "evt_1", "type": "chapter-complete", "created_at": "2024-01-20 09:10:00",
    "data": {
        "created_at": "2024-01-20 09:09:00", "points": 1,
        "user": {"id": "usr_1", "firstname": "Zoé", "email": "zoe@example.com"},
        "training": {"id": "trn_1", "title": "T", "chapters_count": 5,
                     "chapter": {"id": "chp_1", "title": "C", "position": 1}},
        "score": {"points": 1, "max_points": 5, "progress": 0.2},
    },
}
BODY = json.dumps(EVENT, separators=(",", ":"), ensure_ascii=False).encode()


def sign(body: bytes = BODY, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event_with(path: str, value: Any) -> bytes:
    """The sample event with the value at dotted ``path`` replaced (as JSON bytes)."""
    event = json.loads(json.dumps(EVENT))
    *parents, last = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    target[last] = value
    return json.dumps(event).encode()


# -- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [
    sign(),
    sign().encode(),
    bytearray(sign().encode()),
    sign().upper(),
    f"sha256={sign()}",
    f"SHA256={sign().upper()}".encode(),
    f"  {sign()}\r\n",
], ids=["str", "bytes", "bytearray", "uppercase", "prefix", "bytes-prefix", "blanks"])
def test_signature_shapes_that_verify(signature: str | bytes) -> None:
    assert webhooks.verify(BODY, signature, SECRET) is True
    assert webhooks.verify(memoryview(BODY), signature, Secret(SECRET)) is True


@pytest.mark.parametrize("signature", [
    None, b"", "   ", "sha256=", sign()[:-1], sign()[:-1] + "é",
    "é" * 64, b"\xff" * 64, sign().encode() + b"\xe9", "\u0661" * 64,  # Arabic-Indic digits
], ids=["none", "empty-bytes", "blank", "bare-prefix", "short", "non-ascii-tail",
        "non-ascii", "non-ascii-bytes", "bytes-tail", "unicode-digits"])
def test_missing_wrong_or_non_ascii_signature_is_false_never_an_error(signature: Any) -> None:
    assert webhooks.verify(BODY, signature, SECRET) is False


def test_a_signature_of_another_type_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        webhooks.verify(BODY, 12345, SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["", " ", "\t\n", Secret(""), Secret("   ")],
                         ids=["empty", "space", "whitespace", "empty-secret", "blank-secret"])
def test_blank_secrets_are_refused(secret: str | Secret) -> None:
    blank = secret.reveal() if isinstance(secret, Secret) else secret
    with pytest.raises(ConfigurationError) as refused:
        webhooks.verify(BODY, sign(BODY, blank), secret)  # a match under the blank key
    assert refused.value.setting == "cards_webhook_secret"
    with pytest.raises(ConfigurationError):
        webhooks.verify_request({"Signature": sign(BODY, blank)}, BODY, secret)
    with pytest.raises(ConfigurationError):
        Webhooks(secret=secret).verify(BODY, sign(BODY, blank))


@pytest.mark.parametrize("secret", [SECRET.encode(), 42, [SECRET]], ids=["bytes", "int", "list"])
def test_a_secret_of_another_type_is_a_clear_type_error(secret: Any) -> None:
    with pytest.raises(TypeError, match=r"str or a lucca_cards\.Secret"):
        webhooks.verify(BODY, sign(), secret)
    with pytest.raises(TypeError, match=r"str or a lucca_cards\.Secret"):
        Webhooks(secret=secret)


def test_a_missing_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="is not set"):
        webhooks.verify(BODY, sign(), None)  # type: ignore[arg-type]


# -- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json", "signature": sign()},
    [("Content-Type", "application/json"), ("SIGNATURE", sign())],
    [(b"content-type", b"application/json"), (b"signature", sign().encode())],
    Headers([("Content-Type", "application/json"), ("Signature", sign())]),
    EnvironHeaders({"HTTP_SIGNATURE": sign(), "CONTENT_TYPE": "application/json"}),
    CaseInsensitiveDict({"Signature": sign()}),
    {"HTTP_SIGNATURE": sign(), "wsgi.input": object()},  # a WSGI environ (Django's META)
    [("Signature", sign()), ("signature", sign().upper())],  # the same value twice
], ids=["dict", "str-pairs", "asgi-bytes-pairs", "werkzeug", "werkzeug-environ",
        "requests", "wsgi-environ", "same-twice"])
def test_headers_in_every_framework_shape_verify(headers: Any) -> None:
    assert webhooks.verify_request(headers, BODY, SECRET) is True
    assert Webhooks(secret=SECRET).verify_request(headers, BODY) is True


def test_a_generator_of_pairs_is_read_once() -> None:
    pairs = ((name, value) for name, value in [("Signature", sign())])
    assert webhooks.verify_request(pairs, BODY, SECRET) is True


@pytest.mark.parametrize("headers", [
    [("Signature", sign()), ("Signature", sign(BODY, f"{SECRET_MARK}-other"))],
    Headers([("Signature", "0" * 64), ("Signature", sign())]),
    [(b"signature", sign().encode()), (b"Signature", b"")],
    {"Signature": [sign(), "deadbeef"]},
], ids=["str-pairs", "werkzeug", "bytes-pairs", "list-value"])
def test_two_different_signature_headers_are_false(headers: Any) -> None:
    # Either could be the one Cards sent: ambiguous, so not verified (and no exception).
    assert webhooks.verify_request(headers, BODY, SECRET) is False


def test_no_signature_header_is_false_and_a_custom_name_is_matched() -> None:
    assert webhooks.verify_request([("X-Other", sign())], BODY, SECRET) is False
    custom = [(b"x-cards-signature", sign().encode())]
    assert webhooks.verify_request(custom, BODY, SECRET, header="X-Cards-Signature") is True
    bound = Webhooks(secret=SECRET, signature_header="X-Cards-Signature")
    assert bound.verify_request(custom, BODY) is True


@pytest.mark.parametrize("headers", ["Signature: abc", b"Signature: abc", 42, [("one",)]],
                         ids=["str", "bytes", "int", "bad-pair"])
def test_headers_that_are_no_headers_are_a_type_error(headers: Any) -> None:
    with pytest.raises(TypeError, match="mapping or"):
        webhooks.verify_request(headers, BODY, SECRET)


# -- parse: ids and progress -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["id", "data.user.id", "data.training.id",
                                  "data.training.chapter.id"])
@pytest.mark.parametrize("value", [True, False, None, {"x": 1}, [1], "", "  "],
                         ids=["true", "false", "null", "object", "list", "empty", "blank"])
def test_ids_that_are_not_strings_or_numbers_are_refused(path: str, value: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        webhooks.parse(event_with(path, value))
    assert path in refused.value.errors
    assert "must be a non-blank string or a number" in str(refused.value)


@pytest.mark.parametrize(("value", "text"), [(7, "7"), (12.0, "12"), (1.5, "1.5"),
                                             (10**30, str(10**30)), ("evt_9", "evt_9")])
def test_ids_that_are_numbers_become_text(value: Any, text: str) -> None:
    event = webhooks.parse(event_with("id", value))
    assert event.id == text
    user = webhooks.parse(event_with("data.user.id", value)).data.user
    assert user is not None and user.id == text


@pytest.mark.parametrize("progress", [b"-0.1", b"1.5", b"2", b"1e400", b"-1e400", b'"0.5"',
                                      b"true", b"false", b"[0.5]", b'{"v":0.5}'],
                         ids=["negative", "over-one", "two", "overflow", "-overflow", "string",
                              "true", "false", "list", "object"])
def test_progress_outside_a_finite_0_to_1_number_is_refused(progress: bytes) -> None:
    body = BODY.replace(b'"progress":0.2', b'"progress":' + progress)
    assert body != BODY
    with pytest.raises(ValidationError) as refused:  # 1e400 reads as inf: not finite
        webhooks.parse(body)
    assert list(refused.value.errors) == ["data.score.progress"]
    assert "finite number from 0 to 1" in str(refused.value)
    assert "ChapterCompleteEvent" in str(refused.value)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_json_nan_and_infinity_literals_are_refused(literal: bytes) -> None:
    body = BODY.replace(b'"progress":0.2', b'"progress":' + literal)
    assert body != BODY
    with pytest.raises(ValidationError, match=f"{literal.decode()} is not a JSON value"):
        webhooks.parse(body)


@pytest.mark.parametrize("progress", [0, 0.0, -0.0, 0.5, 1, 1.0, None])
def test_progress_at_the_bounds_and_null_are_read(progress: Any) -> None:
    event = webhooks.parse(event_with("data.score.progress", progress))
    assert isinstance(event, ChapterCompleteEvent)
    assert event.data.score is not None and event.data.score.progress == progress


@pytest.mark.parametrize(("path", "value", "problem"), [
    ("data.points", "5", "whole number"),
    ("data.points", 1.5, "whole number"),
    ("data.training.chapter.position", True, "whole number"),
    ("data.user.firstname", {"first": "x"}, "must be a string"),
    ("data.user", "usr_1", "must be an object"),
    ("data", [], "must be an object"),
    ("type", 3, "non-empty string"),
])
def test_other_values_of_the_wrong_type_are_refused_never_coerced(
    path: str, value: Any, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem) as refused:
        webhooks.parse(event_with(path, value))
    assert path in refused.value.errors


def test_every_wrong_field_is_named_at_once() -> None:
    event = json.loads(BODY)
    event["data"]["user"]["id"] = None
    event["data"]["score"]["progress"] = 7
    with pytest.raises(ValidationError) as refused:
        webhooks.parse(json.dumps(event))
    assert set(refused.value.errors) == {"data.user.id", "data.score.progress"}


def test_an_unknown_type_keeps_its_raw_data_but_its_id_is_checked() -> None:
    body = b'{"id":5,"type":"badge-unlocked","created_at":"2024-01-20 09:10:00","data":[1]}'
    event = webhooks.parse(body)
    assert type(event) is WebhookEvent and (event.id, event.data) == ("5", [1])
    with pytest.raises(ValidationError, match="id"):
        webhooks.parse(body.replace(b'"id":5', b'"id":{"a":1}'))


# -- parse: size and encoding ------------------------------------------------------------------


def test_the_limit_is_one_mebibyte() -> None:
    assert MAX_BODY_BYTES == 1024 * 1024


def test_a_body_over_the_limit_is_refused_before_reading() -> None:
    padded = BODY[:-1] + b',"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    with pytest.raises(BodyTooLargeError) as refused:
        webhooks.parse(padded)
    error = refused.value
    assert isinstance(error, ValidationError)
    assert (error.size, error.max_bytes) == (len(padded), MAX_BODY_BYTES)
    assert f"limit of {MAX_BODY_BYTES} bytes" in str(error)
    assert pickle.loads(pickle.dumps(error)).max_bytes == MAX_BODY_BYTES  # noqa: S301 - ours


def test_the_limit_is_exact_and_can_be_changed() -> None:
    assert webhooks.parse(BODY, max_bytes=len(BODY)).id == "evt_1"
    with pytest.raises(BodyTooLargeError):
        webhooks.parse(BODY, max_bytes=len(BODY) - 1)
    with pytest.raises(BodyTooLargeError):
        Webhooks(secret=SECRET, max_bytes=100).parse(BODY)
    assert Webhooks(secret=SECRET, max_bytes=None).parse(BODY).id == "evt_1"
    text = BODY.decode().replace("Zoé", "é" * 40)  # the limit counts UTF-8 bytes, not chars
    with pytest.raises(BodyTooLargeError):
        webhooks.parse(text, max_bytes=len(text))


@pytest.mark.parametrize("body", [
    BODY.replace(b"Zo\xc3\xa9", b"Zo\xe9"),          # Latin-1 é
    b"\xff\xfe" + BODY.decode().encode("utf-16-le"),  # UTF-16, which json.loads would read
    BODY[:-3] + b"\xc3",                              # cut inside a character
], ids=["latin-1", "utf-16", "truncated"])
def test_a_body_that_is_not_utf8_is_refused(body: bytes) -> None:
    with pytest.raises(ValidationError, match="not UTF-8") as refused:
        webhooks.parse(body)
    assert refused.value.errors == {"body": ["is not UTF-8"]}


def test_a_utf8_byte_order_mark_is_tolerated() -> None:
    assert webhooks.parse(b"\xef\xbb\xbf" + BODY).id == "evt_1"


def test_a_deeply_nested_body_is_a_validation_error_not_a_crash() -> None:
    body = b'{"id":"x","type":"t","created_at":"2024-01-20 09:10:00","data":' + (
        b"[" * 200_000) + (b"]" * 200_000) + b"}"
    with pytest.raises(ValidationError, match="nested too deeply"):
        webhooks.parse(body)


def test_a_body_of_another_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="bytes or str"):
        webhooks.parse(EVENT)  # type: ignore[arg-type]


def test_verify_hashes_a_large_body_it_is_given() -> None:
    # The limit is enforced where the body is read (413), not by verify: documented.
    big = b"x" * (MAX_BODY_BYTES + 1)
    assert webhooks.verify(big, sign(big), SECRET) is True


@pytest.mark.parametrize("escape", [rb"\ud800", rb"\uDFFF", rb"x\udbff", rb"\ude00y"])
def test_a_lone_surrogate_escape_is_refused_a_pair_is_text(escape: bytes) -> None:
    body = BODY.replace(b'"title":"T"', b'"title":"' + escape + b'"')
    with pytest.raises(ValidationError, match="lone surrogate") as caught:
        webhooks.parse(body)
    assert caught.value.errors == {"body": ["holds a lone surrogate escape"]}
    pair = BODY.replace(b'"title":"T"', rb'"title":"\ud83d\ude00 \\ud800"')
    assert webhooks.parse(pair).data.training.title == "\U0001f600 \\ud800"


def test_a_badly_typed_value_is_named_as_a_webhook_fault_not_a_server_answer() -> None:
    with pytest.raises(ValidationError) as caught:
        webhooks.parse(event_with("created_at", "yesterday"))
    message = str(caught.value)
    assert message.startswith("Cards webhook: the 'chapter-complete' event cannot be read: ")
    assert "created_at" in message and "API version" not in message
    assert caught.value.__cause__ is None and caught.value.__context__ is None
