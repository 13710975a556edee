"""The plumbing every fake shares: request log, rate-limit window, faults, control endpoints."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from conftest import FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox import Faults
from lucca_cards.sandbox._legacy_api import UserView
from lucca_cards.sandbox._legacy_query import parse_fields
from lucca_cards.sandbox._service import (
    FakeService,
    WindowLimiter,
    encode_json,
    json_response,
    request_json,
)
from sandbox_company import TODAY, build_company


class EchoFake(FakeService):
    """Serves ``/api/…`` (counted and faulted) and ``/free/…`` (not rate limited)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.handled: list[str] = []

    def api_of(self, path: str) -> str | None:
        return "api" if path.startswith("/api/") else "free" if path.startswith("/free/") else None

    def limited(self, api: str) -> bool:
        return api == "api"

    def dispatch(self, request: Request, api: str) -> Response:
        self.handled.append(request.path)
        if request.path == "/api/echo":  # the body, as the fakes store what clients write
            return json_response(request_json(request))
        return json_response({"path": request.path})

    def error(self, api: str, status: int, message: str, request: Request) -> Response:
        return json_response({"message": message, "api": api}, status)

    def state(self) -> dict[str, Any]:
        return {"handled": len(self.handled)}


@pytest.fixture
def served(clock: FakeClock) -> Iterator[tuple[EchoFake, str]]:
    fake = EchoFake(rate_limit=3, rate_window=10.0, clock=clock)
    with ServedApp(fake) as app:
        yield fake, app.url


def test_the_log_keeps_method_path_and_status_without_query(served: tuple[EchoFake, str]) -> None:
    fake, url = served
    requests.get(f"{url}/api/users?page=2&secret=x", timeout=5)
    requests.post(f"{url}/api/users", json={}, timeout=5)
    requests.get(f"{url}/nowhere", timeout=5)
    body = requests.get(f"{url}/_sandbox/requests", timeout=5).json()
    assert body["counts"] == {"GET /api/users": 1, "POST /api/users": 1, "GET /nowhere": 1}
    assert body["log"] == [
        {"method": "GET", "path": "/api/users", "status": 200},
        {"method": "POST", "path": "/api/users", "status": 200},
        {"method": "GET", "path": "/nowhere", "status": 404},
    ]
    assert requests.delete(f"{url}/_sandbox/requests", timeout=5).status_code == 204
    assert fake.log.entries() == []


def test_state_is_served_and_control_requests_are_not_logged(
    served: tuple[EchoFake, str],
) -> None:
    fake, url = served
    requests.get(f"{url}/api/a", timeout=5)
    assert requests.get(f"{url}/_sandbox/state", timeout=5).json() == {"handled": 1}
    assert requests.get(f"{url}/_sandbox/nothing", timeout=5).status_code == 404
    assert fake.log.counts() == {"GET /api/a": 1}


def test_the_window_answers_429_with_retry_after_then_reopens(
    served: tuple[EchoFake, str], clock: FakeClock
) -> None:
    fake, url = served
    assert [requests.get(f"{url}/api/x", timeout=5).status_code for _ in range(3)] == [200] * 3
    clock.now += 2.5
    over = requests.get(f"{url}/api/x", timeout=5)
    assert over.status_code == 429
    assert over.headers["Retry-After"] == "8"  # 7.5 s left in the window, rounded up
    assert requests.get(f"{url}/free/x", timeout=5).status_code == 200  # not limited
    clock.now += 7.5
    assert requests.get(f"{url}/api/x", timeout=5).status_code == 200
    assert fake.handled.count("/api/x") == 4


def test_unlimited_window_never_refuses(clock: FakeClock) -> None:
    limiter = WindowLimiter(0, 60.0, clock)
    assert all(limiter.admit() is None for _ in range(1000))


def test_fault_draws_are_deterministic_and_near_their_fractions() -> None:
    faults = Faults(rate_limited=0.1, server_error=0.1, unavailable=0.05, reset=0.05, seed=3)
    draws = [faults.draw(n) for n in range(1, 4001)]
    assert draws == [faults.draw(n) for n in range(1, 4001)]
    assert draws != [Faults(server_error=0.1, rate_limited=0.1, unavailable=0.05, reset=0.05,
                            seed=4).draw(n) for n in range(1, 4001)]
    seen = Counter(draws)
    assert 320 <= seen["rate_limited"] <= 480
    assert 320 <= seen["server_error"] <= 480
    assert 140 <= seen["unavailable"] <= 260
    assert 140 <= seen["reset"] <= 260
    assert seen["timeout"] == 0


@pytest.mark.parametrize("bad", [{"server_error": 1.5}, {"reset": -0.1},
                                 {"server_error": 0.6, "unavailable": 0.6}])
def test_impossible_fractions_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"Faults\.|add up"):
        Faults(**bad)


@pytest.mark.parametrize(("kind", "status"), [("rate_limited", 429), ("server_error", 500),
                                              ("unavailable", 503)])
def test_injected_errors_speak_the_api_dialect(
    served: tuple[EchoFake, str], kind: str, status: int
) -> None:
    fake, url = served
    fake.set_faults("api", Faults(**{kind: 1.0}, retry_after=4))
    answer = requests.get(f"{url}/api/x", timeout=5)
    assert answer.status_code == status
    assert answer.json() == {"message": f"Injected fault ({status})", "api": "api"}
    assert (answer.headers.get("Retry-After") == "4") is (status == 429)
    assert fake.handled == []  # refused before it was processed
    fake.set_faults("api", None)
    assert requests.get(f"{url}/api/x", timeout=5).status_code == 200


def test_a_reset_cuts_the_connection_before_processing(served: tuple[EchoFake, str]) -> None:
    fake, url = served
    fake.set_faults("api", Faults(reset=1.0))
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/api/x", json={}, timeout=5)
    assert fake.handled == []
    assert fake.log.entries() == [{"method": "POST", "path": "/api/x", "status": None}]


def test_a_timeout_processes_then_answers_too_late(served: tuple[EchoFake, str]) -> None:
    fake, url = served
    fake.set_faults("api", Faults(timeout=1.0, delay=30.0))
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{url}/api/x", json={}, timeout=0.3)
    assert fake.handled == ["/api/x"]  # the change was made; only the answer is late
    # Closing the server releases the late answer at once instead of after 30 s.


# -- how answers are written -------------------------------------------------------------------

class Level(enum.IntEnum):
    HIGH = 3


def legacy_page() -> dict[str, Any]:
    """A page of the legacy API as the fake builds it: accents, nulls, nested extended data."""
    data = build_company()
    view = UserView(data, TODAY, "http://127.0.0.1:1")
    project = view.projector(parse_fields("id,name,mail,department[id,name],extendedData"))
    users = [project(employee) for employee in data.employees.values()]
    return {"header": {"principal": "Sandbox API key"}, "data": {"items": users}}


def test_a_page_is_written_by_orjson_with_the_values_of_json_dumps() -> None:
    page = legacy_page()
    assert any(user["extendedData"]["e_formation"] for user in page["data"]["items"])

    encoded = encode_json(page)

    assert isinstance(encoded, bytes)  # the fast way
    assert json.loads(encoded) == json.loads(json.dumps(page, ensure_ascii=False)) == page
    assert "Lefèvre".encode() in encoded  # UTF-8 as it is, as ensure_ascii=False wrote it


@pytest.mark.parametrize("body", [
    {"name": "Zoé Lefèvre ñ \u2028 \U0001d11e", "tab": "a\tb", "quote": '"\\'},
    {"ratio": 0.1, "tiny": 5e-324, "huge": 1e308, "edge": [2**64 - 1, -(2**63)]},
    {"empty": {}, "none": None, "flags": [True, False], "pair": (1, "two")},
], ids=["non-ascii", "numbers", "shapes"])
def test_plain_values_are_written_by_orjson_with_the_values_of_json_dumps(body: Any) -> None:
    encoded = encode_json(body)

    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == json.loads(json.dumps(body, ensure_ascii=False))


@pytest.mark.parametrize("body", [
    {"big": 2**70}, {"small": [-(2**63) - 1]}, {1: "an int key"}, {"score": float("nan")},
    {"up": float("inf"), "down": [float("-inf")]}, {"level": Level.HIGH},
    [[[[{"deep": [0.5, {"x": float("nan")}]}]]]],
], ids=["2**70", "-2**63-1", "int-key", "nan", "infinities", "int-subclass", "nested-nan"])
def test_what_orjson_refuses_or_would_change_is_written_by_json_dumps(body: Any) -> None:
    # Character for character: NaN stays NaN (orjson would write null), 2**70 stays exact.
    assert encode_json(body) == json.dumps(body, ensure_ascii=False)


def test_what_json_dumps_refuses_is_still_refused() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular reference"):
        encode_json({"loop": looped})
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_json({"when": dt.date(2025, 3, 14)})  # orjson would write "2025-03-14"


@pytest.mark.parametrize("odd", [b'{"score": NaN}', b'[1.5, -Infinity]',
                                 b'{"big": 1180591620717411303424, "name": "Zo\xc3\xa9"}'])
def test_values_a_client_wrote_are_served_back_as_json_dumps_writes_them(
    served: tuple[EchoFake, str], odd: bytes
) -> None:
    _, url = served
    plain = '{"name": "Zoé", "items": [1, 2.5, null, {"ok": true}]}'.encode()

    odd_answer = requests.post(f"{url}/api/echo", data=odd, timeout=5)
    plain_answer = requests.post(f"{url}/api/echo", data=plain, timeout=5)

    assert odd_answer.content == json.dumps(json.loads(odd), ensure_ascii=False).encode()
    assert plain_answer.json() == json.loads(plain)
    assert "Zoé".encode() in plain_answer.content
    assert plain_answer.headers["Content-Type"] == odd_answer.headers["Content-Type"]
