"""Lucca webhooks: the signature scheme of §B14, the freshness window, reading events."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from werkzeug.datastructures import Headers

from conftest import SECRET_MARK
from lucca_cards import ConfigurationError, Secret, ValidationError
from lucca_cards.lucca import webhooks
from lucca_cards.lucca.webhooks import (
    LIFECYCLE_TOPICS,
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE,
    LuccaEvent,
    check_request,
    parse,
    sign,
)

SECRET = f"{SECRET_MARK}-lucca-webhook"
NOW = dt.datetime(2025, 1, 1, 8, 34, 23, tzinfo=dt.timezone.utc)
STAMP = "2025-01-01T08:34:23Z"
SOURCE = "https://acme.ilucca.net"


def event(topic: str = "employee.created", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": "416", "type": "employee", "givenName": "Zoé"}
    if not topic.startswith("employee."):
        data = {"id": "74", "type": topic.split(".")[0], "employee": {"id": "416"}}
    body: dict[str, Any] = {
        "id": "evt-1", "type": "event", "url": f"{SOURCE}/lucca-api/events/evt-1",
        "topic": topic, "occurredAt": "2025-01-01T08:34:20.1234567Z", "source": SOURCE,
        "apiVersion": "2024-11-01", "data": data, "businessEstablishment": None,
    }
    body.update(changes)
    return body


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


BODY = encoded(event())


def expected_signature(stamp: str, body: bytes, secret: str = SECRET) -> str:
    """The signature computed here from §B14's words, independently of the module."""
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def headers(stamp: str = STAMP, body: bytes = BODY, **extra: str) -> dict[str, str]:
    return {SIGNATURE_HEADER: expected_signature(stamp, body), TIMESTAMP_HEADER: stamp, **extra}


# -- sign -------------------------------------------------------------------------------------


def test_sign_is_base64_hmac_sha256_of_timestamp_dot_body() -> None:
    assert sign(STAMP, BODY, SECRET) == expected_signature(STAMP, BODY)
    assert sign(STAMP, BODY, Secret(SECRET)) == expected_signature(STAMP, BODY)


def test_sign_known_vector() -> None:
    # Computed once by hand: base64(HMAC-SHA256(b"k", b"2025-01-01T08:34:23Z.{}")).
    assert sign("2025-01-01T08:34:23Z", b"{}", "k") == \
        "bkRBXr6tF2zhLPmyEgMCzOpHdFR+cqmBp3fwlJkpHk8="


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_a_missing_or_blank_secret_is_a_configuration_error(secret: Any) -> None:
    with pytest.raises(ConfigurationError, match="lucca_webhook_secret"):
        sign(STAMP, BODY, secret)
    with pytest.raises(ConfigurationError):
        check_request(BODY, headers(), secret, now=NOW)


def test_sign_and_check_need_bytes() -> None:
    with pytest.raises(TypeError, match="raw request body"):
        sign(STAMP, BODY.decode(), SECRET)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        check_request(BODY.decode(), headers(), SECRET, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign(b"2025", BODY, SECRET)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"str or a lucca_cards\.Secret"):
        sign(STAMP, BODY, b"k")  # type: ignore[arg-type]


# -- check_request ----------------------------------------------------------------------------


def test_a_genuine_request_passes() -> None:
    assert check_request(BODY, headers(), SECRET, now=NOW) is None
    assert check_request(BODY, headers(), Secret(SECRET), now=NOW) is None
    assert check_request(bytearray(BODY), headers(), SECRET, now=NOW) is None


def test_header_names_are_case_insensitive() -> None:
    lower = {key.lower(): value for key, value in headers().items()}
    upper = {key.upper(): value for key, value in headers().items()}
    assert check_request(BODY, lower, SECRET, now=NOW) is None
    assert check_request(BODY, upper, SECRET, now=NOW) is None
    assert check_request(BODY, Headers(list(lower.items())), SECRET, now=NOW) is None
    environ = {"HTTP_LUCCA_SIGNATURE": headers()[SIGNATURE_HEADER],
               "HTTP_LUCCA_TIMESTAMP": STAMP}
    assert check_request(BODY, environ, SECRET, now=NOW) is None


def test_bytes_headers_as_asgi_gives_them() -> None:
    given = {key.encode(): value.encode() for key, value in headers().items()}
    assert check_request(BODY, given, SECRET, now=NOW) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("missing", "reason"), [
    (SIGNATURE_HEADER, "the Lucca-Signature header is missing"),
    (TIMESTAMP_HEADER, "the Lucca-Timestamp header is missing"),
])
def test_a_missing_header_is_refused(missing: str, reason: str) -> None:
    given = headers()
    del given[missing]
    assert check_request(BODY, given, SECRET, now=NOW) == reason
    given[missing] = "  "
    assert check_request(BODY, given, SECRET, now=NOW) == reason


@pytest.mark.parametrize("forged", [
    "body",
    "signature",
    "secret",
    "timestamp",
])
def test_a_forged_request_is_refused_without_quoting_secrets(forged: str) -> None:
    body, given = BODY, headers()
    if forged == "body":
        body = encoded(event(data={"id": "417"}))
    elif forged == "signature":
        given[SIGNATURE_HEADER] = base64.b64encode(b"\0" * 32).decode()
    elif forged == "secret":
        given[SIGNATURE_HEADER] = expected_signature(STAMP, BODY, secret="other")
    else:  # a fresh timestamp on an old signature: the timestamp is signed too
        given[TIMESTAMP_HEADER] = "2025-01-01T08:34:24Z"
    reason = check_request(body, given, SECRET, now=NOW)
    assert reason == "the signature does not match"
    assert SECRET not in reason and given[SIGNATURE_HEADER] not in reason


def test_a_non_ascii_signature_does_not_match() -> None:
    given = headers()
    given[SIGNATURE_HEADER] = "é" * 44
    assert check_request(BODY, given, SECRET, now=NOW) == "the signature does not match"


def test_two_different_signatures_are_refused() -> None:
    given = Headers(list(headers().items()))
    given.add(SIGNATURE_HEADER, "other")
    assert "given twice" in (check_request(BODY, given, SECRET, now=NOW) or "")
    same = Headers(list(headers().items()))
    same.add(SIGNATURE_HEADER, headers()[SIGNATURE_HEADER])
    assert check_request(BODY, same, SECRET, now=NOW) is None


@pytest.mark.parametrize("seconds", [-301, 301, -3600, 86400 * 365])
def test_a_stale_timestamp_is_refused_both_ways(seconds: int) -> None:
    stamp = (NOW + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reason = check_request(BODY, headers(stamp), SECRET, now=NOW)
    assert reason == (f"the timestamp is {abs(seconds)} s away from now (more than 5 "
                      "minutes): a replay or a wrong clock")


@pytest.mark.parametrize("seconds", [-300, 300, 0, -299.5])
def test_exactly_five_minutes_away_is_accepted(seconds: float) -> None:
    now = NOW + dt.timedelta(seconds=seconds)
    assert dt.timedelta(minutes=5) == TOLERANCE
    assert check_request(BODY, headers(), SECRET, now=now) is None


def test_a_fraction_over_five_minutes_is_refused() -> None:
    now = NOW + TOLERANCE + dt.timedelta(microseconds=1)
    assert "301 s away" in (check_request(BODY, headers(), SECRET, now=now) or "")


@pytest.mark.parametrize("stamp", [
    "2025-01-01T08:34:23Z", "2025-01-01T08:34:23z", "2025-01-01T08:34:23+00:00",
    "2025-01-01T09:34:23+01:00", "2025-01-01T03:34:23-0500", "2025-01-01T08:34:23.5Z",
    "2025-01-01T08:34:23.123456789Z", "2025-01-01t08:34:23.000+00:00",
])
def test_timestamp_forms_accepted(stamp: str) -> None:
    assert check_request(BODY, headers(stamp), SECRET, now=NOW) is None


@pytest.mark.parametrize("stamp", [
    "yesterday", "1735720463", "2025-01-01", "2025-01-01 08:34:23Z", "20250101T083423Z",
    "2025-13-01T08:34:23Z", "2025-01-01T25:00:00Z", "\uff12\uff10\uff12\uff15-01-01T08:34:23Z",
    "2025-W01-3T08:34:23Z", "2025-01-01T08:34:23Z" + "0" * 100,
])
def test_a_timestamp_that_is_not_a_date_time_is_refused(stamp: str) -> None:
    assert check_request(BODY, headers(stamp), SECRET, now=NOW) == (
        "the Lucca-Timestamp header is not a date-time (UTC ISO 8601, such as "
        "2025-01-01T08:34:23Z)")


def test_a_naive_timestamp_is_refused() -> None:
    reason = check_request(BODY, headers("2025-01-01T08:34:23"), SECRET, now=NOW)
    assert reason == "the Lucca-Timestamp header has no time zone (UTC ISO 8601 ends with Z)"


def test_extreme_timestamps_are_stale_not_errors() -> None:
    for stamp in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"):
        assert "away from now" in (check_request(BODY, headers(stamp), SECRET, now=NOW) or "")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        check_request(BODY, headers(), SECRET, now=NOW.replace(tzinfo=None))


def test_headers_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        check_request(BODY, [("a", "b")], SECRET, now=NOW)  # type: ignore[arg-type]


# -- parse ------------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", LIFECYCLE_TOPICS)
def test_parse_every_lifecycle_topic(topic: str) -> None:
    parsed = parse(encoded(event(topic)))
    resource, action = topic.split(".")
    assert (parsed.resource, parsed.action) == (resource, action)
    assert parsed.employee_id == "416"
    assert parsed.id == "evt-1" and parsed.source == SOURCE and parsed.key == (SOURCE, "evt-1")
    assert parsed.occurred_at == dt.datetime(2025, 1, 1, 8, 34, 20, 123456,
                                             tzinfo=dt.timezone.utc)
    assert parsed.api_version == "2024-11-01"
    assert parsed.url == f"{SOURCE}/lucca-api/events/evt-1"
    assert parsed.raw == event(topic)


def test_parse_an_update_with_previous_attributes_and_an_establishment() -> None:
    body = event("employee.updated", previousAttributes={"email": "old@acme.test"},
                 businessEstablishment={"id": "3", "type": "business-establishment"})
    parsed = parse(json.dumps(body))
    assert parsed.previous_attributes == {"email": "old@acme.test"}
    assert parsed.business_establishment_id == "3"
    assert parsed.data["givenName"] == "Zoé"


def test_parse_other_topics() -> None:
    extension = parse(encoded(event("employee-extension.updated",
                                    data={"id": "9", "employee": {"id": "416"}})))
    assert (extension.resource, extension.action, extension.employee_id) == \
        ("employee-extension", "updated", None)
    ping = parse(encoded({k: v for k, v in event("ping").items() if k != "data"}))
    assert (ping.resource, ping.action, ping.data, ping.employee_id) == ("ping", "", {}, None)


def test_a_position_without_employee_names_nobody() -> None:
    parsed = parse(encoded(event("job-position.deleted", data={"id": "74"})))
    assert parsed.employee_id is None


def test_occurred_at_is_normalised_to_utc_and_a_naive_one_is_utc() -> None:
    offset = parse(encoded(event(occurredAt="2025-01-01T10:34:20+02:00")))
    assert offset.occurred_at == dt.datetime(2025, 1, 1, 8, 34, 20, tzinfo=dt.timezone.utc)
    assert offset.occurred_at.utcoffset() == dt.timedelta(0)
    naive = parse(encoded(event(occurredAt="2025-01-01T08:34:20")))
    assert naive.occurred_at == dt.datetime(2025, 1, 1, 8, 34, 20, tzinfo=dt.timezone.utc)


def test_the_repr_shows_no_personal_data() -> None:
    parsed = parse(encoded(event("employee.updated", previousAttributes={"email": "x@y.z"})))
    assert "Zoé" not in repr(parsed) and "x@y.z" not in repr(parsed)
    assert "evt-1" in repr(parsed)


def test_from_object_checks_like_parse() -> None:
    assert LuccaEvent.from_object(event()).employee_id == "416"
    with pytest.raises(ValidationError):
        LuccaEvent.from_object(event(id=7))


@pytest.mark.parametrize("body", [
    b"", b"{", b"not json", b"[]", b'"event"', b"null", b"\xff\xfe{}",
    b'{"id": NaN}', b"[" * 100_000 + b"]" * 100_000,
])
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(ValidationError, match=r"^Lucca event: "):
        parse(body)


def test_a_body_over_the_limit_is_refused() -> None:
    padded = event(data={"id": "416", "notes": "x" * MAX_BODY_BYTES})
    with pytest.raises(ValidationError, match="more than the limit") as caught:
        parse(encoded(padded))
    assert "body" in caught.value.errors
    assert parse(BODY, max_bytes=len(BODY)).id == "evt-1"
    with pytest.raises(ValidationError):
        parse(BODY, max_bytes=len(BODY) - 1)


@pytest.mark.parametrize(("field", "value", "named"), [
    ("id", 7, "id"), ("id", None, "id"), ("id", "", "id"), ("id", " e1", "id"),
    ("id", ["e1"], "id"), ("source", 1, "source"), ("source", {}, "source"),
    ("topic", "employee created", "topic"), ("topic", 3, "topic"), ("topic", "", "topic"),
    ("occurredAt", "yesterday", "occurredAt"), ("occurredAt", 1735720463, "occurredAt"),
    ("occurredAt", None, "occurredAt"), ("data", None, "data"), ("data", [], "data"),
    ("data", "x", "data"), ("type", "employee", "type"), ("apiVersion", 2024, "apiVersion"),
    ("previousAttributes", [], "previousAttributes"), ("url", {}, "url"),
    ("businessEstablishment", "3", "businessEstablishment"),
    ("businessEstablishment", {"id": 3}, "businessEstablishment"),
])
def test_wrong_types_are_refused_by_name(field: str, value: Any, named: str) -> None:
    body = event()
    body[field] = value
    with pytest.raises(ValidationError) as caught:
        parse(encoded(body))
    assert named in caught.value.errors
    assert str(caught.value).startswith("Lucca event: cannot read the event: ")


@pytest.mark.parametrize(("topic", "data", "path"), [
    ("employee.created", {"id": 416}, "data.id"),
    ("employee.created", {}, "data.id"),
    ("employee.deleted", {"id": " "}, "data.id"),
    ("job-position.created", {"id": "74", "employee": {"id": 416}}, "data.employee.id"),
    ("employment.created", {"id": "5", "employee": "416"}, "data.employee"),
    ("employment.created", {"id": "5", "employee": {}}, "data.employee.id"),
    ("job-position.updated", {"id": 74, "employee": {"id": "416"}}, "data.id"),
])
def test_employee_ids_are_strings(topic: str, data: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(encoded(event(topic, data=data)))
    assert path in caught.value.errors


def test_every_fault_is_named_at_once_without_quoting_values() -> None:
    with pytest.raises(ValidationError) as caught:
        parse(encoded({"id": 7, "topic": "x y", "source": f"{SECRET_MARK}\x1b[2J",
                       "data": []}))
    assert set(caught.value.errors) >= {"id", "topic", "source", "occurredAt", "data"}
    assert SECRET_MARK not in str(caught.value)


def test_the_module_is_reachable_from_the_package() -> None:
    assert webhooks.parse is parse
