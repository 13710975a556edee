from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from conftest import SECRET_MARK, FakeClock
from lucca_cards import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)
from lucca_cards._auth import HeaderAuth
from lucca_cards._http import Transport
from lucca_cards._retry import retry_after_seconds
from lucca_cards.errors import UnexpectedResponseError

BASE = "https://tenant.example"
KEY = f"{SECRET_MARK}-key"


class CountingAuth:
    """An auth whose credentials can be renewed; counts renewals."""

    def __init__(self, renewable: bool = True) -> None:
        self.renewable = renewable
        self.refreshes = 0

    def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {SECRET_MARK}-{self.refreshes}"}

    def refresh(self) -> bool:
        self.refreshes += 1
        return self.renewable

    def secrets(self) -> list[str]:
        return [f"{SECRET_MARK}-{n}" for n in range(self.refreshes + 1)]


def transport(clock: FakeClock, auth: Any = None, **kwargs: Any) -> Transport:
    return Transport(
        BASE, service="Test API",
        auth=auth or HeaderAuth(headers={"Authorization": f"lucca application={KEY}"}),
        limiter=RateLimiter(0, clock=clock, sleep=clock.sleep),
        clock=clock, sleep=clock.sleep, **kwargs,
    )


@responses.activate
def test_sends_default_headers_and_decodes_json(clock: FakeClock) -> None:
    responses.get(f"{BASE}/things", json={"ok": True})
    body = transport(clock, headers={"Api-Version": "2024-11-01"}).request_json(
        "GET", "/things", params={"a": 1, "flag": True, "skip": None})
    assert body == {"ok": True}
    sent = responses.calls[0].request
    assert sent.headers["User-Agent"].startswith("lucca-cards/")
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Api-Version"] == "2024-11-01"
    assert sent.headers["Authorization"] == f"lucca application={KEY}"
    assert sent.url == f"{BASE}/things?a=1&flag=true"


@responses.activate
def test_retries_5xx_with_backoff_then_succeeds(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=503)
    responses.get(f"{BASE}/x", status=502)
    responses.get(f"{BASE}/x", json=[1])
    assert transport(clock).request_json("GET", "/x") == [1]
    assert len(responses.calls) == 3
    assert len(clock.sleeps) == 2
    # full jitter: each wait lies within the exponential cap (1 s, then 2 s)
    assert 0 <= clock.sleeps[0] <= 1 and 0 <= clock.sleeps[1] <= 2


@responses.activate
def test_429_waits_exactly_retry_after_seconds(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/x", json={})
    transport(clock).request_json("GET", "/x")
    assert clock.sleeps == [7.0]


@responses.activate
def test_429_retry_after_as_http_date(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=429, headers={
        "Retry-After": "Wed, 25 Nov 2026 10:00:30 GMT", "Date": "Wed, 25 Nov 2026 10:00:00 GMT"})
    responses.get(f"{BASE}/x", json={})
    transport(clock).request_json("GET", "/x")
    assert clock.sleeps == [30.0]


@responses.activate
def test_gives_up_after_max_attempts_with_typed_error(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=500, json={"message": "boom"})
    with pytest.raises(ServerError) as caught:
        transport(clock, retry=RetryPolicy(max_attempts=3)).request_json("GET", "/x")
    assert len(responses.calls) == 3
    assert caught.value.status == 500
    assert "boom" in str(caught.value)


@responses.activate
def test_rate_limit_error_after_retries_carries_retry_after(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimitError) as caught:
        transport(clock, retry=RetryPolicy(max_attempts=2)).request_json("GET", "/x")
    assert caught.value.retry_after == 2.0
    assert clock.sleeps == [2.0]


@responses.activate
def test_retry_after_beyond_the_budget_is_not_waited_for(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError):
        transport(clock).request_json("GET", "/x")
    assert clock.sleeps == []
    assert len(responses.calls) == 1


@responses.activate
def test_total_time_budget_stops_retries(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "40"})
    policy = RetryPolicy(max_attempts=10, max_elapsed=100)
    with pytest.raises(RateLimitError):
        transport(clock, retry=policy).request_json("GET", "/x")
    assert clock.sleeps == [40.0, 40.0]  # a third wait would end past 100 s


@pytest.mark.parametrize(("status", "error"), [
    (400, ValidationError), (401, AuthenticationError), (403, PermissionDeniedError),
    (404, NotFoundError), (422, ValidationError),
])
@responses.activate
def test_client_errors_are_never_retried(clock: FakeClock, status: int,
                                         error: type[ApiError]) -> None:
    responses.get(f"{BASE}/x", status=status, json={"message": "nope"})
    with pytest.raises(error) as caught:
        transport(clock).request_json("GET", "/x")
    assert len(responses.calls) == 1
    assert caught.value.status == status
    assert clock.sleeps == []


@responses.activate
def test_post_is_not_retried_on_5xx_but_is_on_429(clock: FakeClock) -> None:
    responses.post(f"{BASE}/users", status=500)
    with pytest.raises(ServerError):
        transport(clock).request_json("POST", "/users", json={})
    assert len(responses.calls) == 1
    responses.reset()
    responses.post(f"{BASE}/users", status=429, headers={"Retry-After": "1"})
    responses.post(f"{BASE}/users", status=201, json={"id": "u1"})
    assert transport(clock).request_json("POST", "/users", json={}) == {"id": "u1"}
    assert len(responses.calls) == 2


def _never_connected() -> requests.ConnectionError:
    reason = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/users", reason))  # type: ignore[arg-type]


def _dropped_after_sending() -> requests.ConnectionError:
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


@responses.activate
def test_post_is_retried_only_when_the_connection_never_opened(clock: FakeClock) -> None:
    responses.post(f"{BASE}/users", body=_never_connected())
    responses.post(f"{BASE}/users", status=201, json={"id": "u1"})
    assert transport(clock).request_json("POST", "/users", json={}) == {"id": "u1"}
    responses.reset()
    responses.post(f"{BASE}/users", body=_dropped_after_sending())
    responses.post(f"{BASE}/users", status=201, json={"id": "u2"})
    with pytest.raises(TransportError) as caught:
        transport(clock).request_json("POST", "/users", json={})
    assert caught.value.request_sent is True
    assert len(responses.calls) == 1


@responses.activate
def test_get_is_retried_after_a_reset_and_a_timeout(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", body=_dropped_after_sending())
    responses.get(f"{BASE}/x", body=requests.ReadTimeout("slow"))
    responses.get(f"{BASE}/x", json={"ok": 1})
    assert transport(clock).request_json("GET", "/x") == {"ok": 1}
    assert len(responses.calls) == 3


@responses.activate
def test_read_timeout_error_says_what_happened(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="timed out waiting for the answer"):
        transport(clock, retry=RetryPolicy(max_attempts=1)).request_json("GET", "/x")


def test_connection_refused_on_a_real_socket(clock: FakeClock) -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = Transport(
        f"http://127.0.0.1:{port}", service="Test API", auth=HeaderAuth(headers={}),
        limiter=RateLimiter(0), clock=clock, sleep=clock.sleep,
        retry=RetryPolicy(max_attempts=2),
    )
    with pytest.raises(TransportError, match="could not connect") as caught:
        refused.request_json("POST", "/users", json={})
    assert caught.value.request_sent is False
    assert len(clock.sleeps) == 1  # never sent, so even a POST was retried once


@responses.activate
def test_401_refreshes_credentials_once_then_retries(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=401)
    responses.get(f"{BASE}/x", json={"ok": True})
    auth = CountingAuth()
    assert transport(clock, auth=auth).request_json("GET", "/x") == {"ok": True}
    assert auth.refreshes == 1
    assert responses.calls[1].request.headers["Authorization"].endswith("-1")


@responses.activate
def test_second_401_raises_authentication_error(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=401)
    auth = CountingAuth()
    with pytest.raises(AuthenticationError):
        transport(clock, auth=auth).request_json("GET", "/x")
    assert auth.refreshes == 1
    assert len(responses.calls) == 2


@responses.activate
def test_api_key_401_is_not_retried(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=401, json={"Message": "bad key", "Status": 401})
    with pytest.raises(AuthenticationError, match="bad key"):
        transport(clock).request_json("GET", "/x")
    assert len(responses.calls) == 1


@responses.activate
def test_problem_json_is_parsed_with_trace_id(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=400, content_type="application/problem+json", json={
        "title": "One or more validation errors occurred.", "status": 400,
        "errors": {"endsOn": ["Invalid period."]}, "extensions": {"traceId": "|7877."}})
    with pytest.raises(ValidationError) as caught:
        transport(clock).request_json("GET", "/x")
    error = caught.value
    assert error.errors == {"endsOn": ["Invalid period."]}
    assert error.request_id == "|7877."
    assert error.message == "One or more validation errors occurred."
    assert "endsOn: Invalid period." in str(error)
    assert "What to do" in str(error)


@responses.activate
def test_laravel_422_is_parsed(clock: FakeClock) -> None:
    responses.post(f"{BASE}/users", status=422, json={
        "message": "The email has already been taken.",
        "errors": {"email": ["The email has already been taken."]}},
        headers={"X-Request-Id": "req-9"})
    with pytest.raises(ValidationError) as caught:
        transport(clock).request_json("POST", "/users", json={})
    assert caught.value.errors["email"] == ["The email has already been taken."]
    assert caught.value.request_id == "req-9"
    assert caught.value.method == "POST"


@responses.activate
def test_hints_customise_the_advice(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", status=403, json={"Message": "Forbidden"})
    with pytest.raises(PermissionDeniedError, match="needs the 'Collaborators' right"):
        transport(clock, hints={403: "the key needs the 'Collaborators' right"}).request_json(
            "GET", "/x")


@responses.activate
def test_a_body_that_is_not_json_is_an_api_error(clock: FakeClock) -> None:
    responses.get(f"{BASE}/x", body="<html>login</html>", content_type="text/html")
    with pytest.raises(ApiError, match="not JSON"):
        transport(clock).request_json("GET", "/x")


@responses.activate
def test_empty_body_decodes_to_none(clock: FakeClock) -> None:
    responses.delete(f"{BASE}/users/1", status=204)
    assert transport(clock).request_json("DELETE", "/users/1") is None


def test_refuses_to_send_credentials_to_another_host(clock: FakeClock) -> None:
    with pytest.raises(UnexpectedResponseError, match=(
            r"GET /steal was not sent: https://evil.example is not the configured "
            r"https://tenant.example")):
        transport(clock).request_json("GET", "https://evil.example/steal")


@responses.activate
def test_secrets_stay_out_of_logs_errors_and_reprs(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    responses.get(f"{BASE}/x", status=503)
    responses.get(f"{BASE}/x", status=401, json={"message": "Unauthenticated."})
    caplog.set_level(logging.DEBUG)
    t = transport(clock)
    with pytest.raises(AuthenticationError) as caught:
        t.request_json("GET", "/x", params={"access_token": f"{SECRET_MARK}-q"})
    kept = caught.value.response
    assert kept is not None
    texts = [caplog.text, str(caught.value), repr(caught.value), caught.value.url, repr(t),
             str(kept.request.headers)]
    assert all(SECRET_MARK not in text for text in texts), texts
    assert "retrying" in caplog.text


def test_retry_after_is_none_when_absent_or_garbage() -> None:
    response = requests.Response()
    assert retry_after_seconds(response.headers) is None
    response.headers["Retry-After"] = "soon"
    assert retry_after_seconds(response.headers) is None
