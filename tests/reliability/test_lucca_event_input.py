"""Lucca event input: what a hostile (or broken) sender may put in a delivery.

A forged or replayed request never gets past :func:`check_request`; a signed one that is
malformed (a bug at Lucca, a leaked secret) is refused by :func:`parse` with a reason that
names the field and never echoes the value, never crashes, and never lets a value that is
not text (a lone surrogate, a control character) reach the inbox or the logs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lucca_cards import ValidationError
from lucca_cards.lucca.webhooks import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_request,
    parse,
    sign,
)
from test_lucca_webhooks import NOW, SECRET, STAMP

EVENT: dict[str, Any] = {
    "id": "evt-1", "type": "event", "topic": "employee.created",
    "occurredAt": "2025-01-01T08:34:20Z", "source": "https://acme.ilucca.net",
    "data": {"id": "416"},
}


def body_with(**changes: Any) -> bytes:
    return json.dumps({**EVENT, **changes}).encode()


@pytest.mark.parametrize("value", [
    "evt\x00", "evt\x1b[2J", "evt\u202e1", "\u200b", "evt\r\nX-Injected: 1", "\u3164",
])
def test_ids_and_sources_that_are_not_plain_text_are_refused(value: str) -> None:
    for field in ("id", "source"):
        with pytest.raises(ValidationError) as caught:
            parse(body_with(**{field: value}))
        assert field in caught.value.errors
        assert value not in str(caught.value)


@pytest.mark.parametrize("value", [True, 1.5, 10**30, {"id": "e"}, ["e"]])
def test_ids_of_another_type_are_refused_never_stringified(value: Any) -> None:
    with pytest.raises(ValidationError, match="id must be a string"):
        parse(body_with(id=value))
    with pytest.raises(ValidationError, match=r"data\.id must be a string"):
        parse(body_with(data={"id": value}))


def test_a_huge_id_or_source_is_refused() -> None:
    with pytest.raises(ValidationError, match="longer than 256"):
        parse(body_with(id="e" * 257))
    with pytest.raises(ValidationError, match="longer than 2048"):
        parse(body_with(source="https://" + "a" * 2048))


@pytest.mark.parametrize("escape", [b'"\\ud800"', b'"\\udfff"', b'"a\\udc00b"'])
def test_a_lone_surrogate_anywhere_is_refused(escape: bytes) -> None:
    body = body_with(data={"id": "416", "givenName": "X"}).replace(b'"X"', escape)
    with pytest.raises(ValidationError, match="lone surrogate"):
        parse(body)
    assert parse(body_with(data={"id": "416", "n": "\U0001F600"})).data["n"] == "\U0001F600"


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_json_constants_are_refused(literal: bytes) -> None:
    body = body_with(data={"id": "416", "n": 0}).replace(b'"n": 0', b'"n": ' + literal)
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse(body)


def test_the_limit_is_exact() -> None:
    base = body_with(data={"id": "416", "pad": ""})
    padded = base.replace(b'"pad": ""', b'"pad": "' + b"x" * (MAX_BODY_BYTES - len(base)) + b'"')
    assert len(padded) == MAX_BODY_BYTES
    assert parse(padded).id == "evt-1"
    with pytest.raises(ValidationError, match="more than the limit"):
        parse(padded + b" ")


def test_deep_nesting_is_a_validation_error_not_a_crash() -> None:
    deep = body_with(data={"id": "416", "x": "HOLE"}).replace(
        b'"HOLE"', b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(ValidationError):
        parse(deep)


def test_a_str_body_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValidationError, match="UTF-8"):
        parse(body_with().decode() + "\ud800")


def test_a_byte_order_mark_is_tolerated() -> None:
    assert parse(b"\xef\xbb\xbf" + body_with()).id == "evt-1"


@pytest.mark.parametrize("value", [
    "x" * 10_000, "é" * 44, "\x00", "A" * 43 + "=\n", "bad\r\nLucca-Timestamp: 2099",
])
def test_hostile_signatures_are_refused_quietly(value: str) -> None:
    headers = {SIGNATURE_HEADER: value, TIMESTAMP_HEADER: STAMP}
    reason = check_request(body_with(), headers, SECRET, now=NOW)
    assert reason == "the signature does not match"


@pytest.mark.parametrize("value", ["\x00", "2025-01-01T08:34:23Z\x00", "9" * 10_000,
                                   "2025-01-01T08:34:23.1234567890123Z", "+2025-01-01T08:34:23Z"])
def test_hostile_timestamps_are_not_date_times(value: str) -> None:
    headers = {SIGNATURE_HEADER: sign(value, body_with(), SECRET), TIMESTAMP_HEADER: value}
    reason = check_request(body_with(), headers, SECRET, now=NOW) or ""
    assert reason.startswith("the Lucca-Timestamp header is not a date-time")


def test_a_signature_made_for_another_tenant_secret_is_refused() -> None:
    body = body_with()
    headers = {SIGNATURE_HEADER: sign(STAMP, body, SECRET + "-other"), TIMESTAMP_HEADER: STAMP}
    assert check_request(body, headers, SECRET, now=NOW) == "the signature does not match"
    headers[SIGNATURE_HEADER] = sign(STAMP, body, SECRET)
    assert check_request(body, headers, SECRET, now=NOW) is None


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_an_occurred_at_past_the_last_date_is_refused_not_a_crash(when: str) -> None:
    with pytest.raises(ValidationError, match="occurredAt is out of the range of dates"):
        parse(json.dumps({**EVENT, "occurredAt": when}))
