"""Faults set from outside Python: ``Faults.spread``, ``/_sandbox/faults``, ``serve``'s flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from lucca_cards._serving import ServedApp
from lucca_cards.cli import build_parser, main
from lucca_cards.cli._sandbox import serve_faults
from lucca_cards.sandbox import Faults, Sandbox
from lucca_cards.sandbox._faults import FAULT_KINDS, fault_kinds
from lucca_cards.sandbox._service import FakeService, json_response

CALM = {"api": None, "free": None}


class TwoApis(FakeService):
    """Serves ``/api/…`` and ``/free/…``, two APIs that faults can tell apart."""

    apis = ("api", "free")

    def api_of(self, path: str) -> str | None:
        return path.split("/")[1] if path.split("/")[1] in self.apis else None

    def dispatch(self, request: Request, api: str) -> Response:
        return json_response({"api": api})

    def error(self, api: str, status: int, message: str, request: Request) -> Response:
        return json_response({"message": message}, status)

    def state(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def fake() -> Iterator[tuple[TwoApis, str]]:
    service = TwoApis(rate_limit=0)
    with ServedApp(service) as served:
        yield service, f"{served.url}/_sandbox/faults"


def statuses(base: str, path: str, count: int = 40) -> list[int]:
    return [requests.get(f"{base}{path}", timeout=5).status_code for _ in range(count)]


def test_spread_splits_a_rate_evenly_over_the_kinds() -> None:
    every = Faults.spread(0.2, seed=3, delay=0.5)
    assert [getattr(every, kind) for kind in FAULT_KINDS] == pytest.approx([0.04] * 5)
    assert (every.total, every.seed, every.delay) == (pytest.approx(0.2), 3, 0.5)
    two = Faults.spread(0.3, ["429", "reset", "rate_limited"])
    assert (two.rate_limited, two.reset, two.server_error, two.delay) == (0.15, 0.15, 0.0, 35.0)
    assert Faults.spread(1.0, ["500", "503", "timeout"]).total == pytest.approx(1.0)
    assert fault_kinds([" 503", "UNAVAILABLE", "timeout"]) == ("unavailable", "timeout")


@pytest.mark.parametrize(("rate", "kinds", "reason"), [
    (1.2, FAULT_KINDS, "between 0 and 1"), (0.1, [], "at least one"),
    (0.1, ["404"], "unknown fault kind '404'"),
])
def test_spread_refuses_what_cannot_be(rate: float, kinds: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Faults.spread(rate, kinds)


def test_control_sets_shows_and_clears_the_faults(fake: tuple[TwoApis, str]) -> None:
    service, url = fake
    base = url.removesuffix("/_sandbox/faults")
    assert requests.get(url, timeout=5).json() == CALM
    answer = requests.post(url, timeout=5, json={
        "rate": 1, "kinds": ["503"], "apis": ["api"], "seed": 2, "retry_after": 3})
    shown = {"rate_limited": 0.0, "server_error": 0.0, "unavailable": 1.0, "timeout": 0.0,
             "reset": 0.0, "total": 1.0, "seed": 2, "delay": 35.0, "retry_after": 3}
    assert answer.status_code == 200
    assert answer.json() == {"api": shown, "free": None}
    assert requests.get(url, timeout=5).json() == answer.json()
    assert set(statuses(base, "/api/x", 5)) == {503}
    assert set(statuses(base, "/free/x", 5)) == {200}
    assert service.log.counts() == {"GET /api/x": 5, "GET /free/x": 5}  # controls unlogged
    fractions = requests.post(url, timeout=5, json={"server_error": 0.5, "apis": "free"}).json()
    assert fractions["free"]["server_error"] == 0.5
    assert fractions["api"] == shown  # other APIs keep theirs
    assert requests.post(url, timeout=5, json={"rate": 0, "apis": ["api"]}).json()["api"] is None
    assert requests.delete(url, timeout=5).json() == CALM
    assert set(statuses(base, "/api/x", 5)) == {200}


def test_faults_set_twice_fail_the_same_requests(fake: tuple[TwoApis, str]) -> None:
    _, url = fake
    base = url.removesuffix("/_sandbox/faults")
    body = {"rate": 0.5, "kinds": ["500", "503"], "seed": 9, "apis": ["api"]}
    requests.post(url, timeout=5, json=body)
    first = statuses(base, "/api/x")
    requests.post(url, timeout=5, json=body)  # numbering starts again
    assert statuses(base, "/api/x") == first
    assert {200, 500, 503} <= set(first)
    requests.post(url, timeout=5, json={**body, "seed": 10})
    assert statuses(base, "/api/x") != first


@pytest.mark.parametrize(("body", "reason"), [
    (b"{nope", "the body is not JSON"),
    (b"[0.2]", "must be a JSON object"),
    (b'{"rate": 0.2, "kind": ["reset"]}', "unknown keys ['kind']"),
    (b'{"rate": 1.5}', "rate must be a number between 0 and 1, not 1.5"),
    (b'{"rate": "0.2"}', "rate must be a number between 0 and 1"),
    (b'{"rate": 0.2, "kinds": ["404"]}', "unknown fault kind '404'"),
    (b'{"rate": 0.2, "kinds": "reset"}', "kinds must be a list"),
    (b'{"kinds": ["reset"]}', "kinds needs a rate"),
    (b'{"rate": 0.2, "reset": 0.1}', "either rate (with kinds) or per-kind fractions"),
    (b'{"reset": 0.6, "timeout": 0.6}', "add up to more than 1"),
    (b'{"rate": 0.2, "seed": true}', "seed must be a whole number"),
    (b'{"rate": 0.2, "delay": -1}', "delay must be a number of seconds >= 0"),
    (b'{"rate": 0.2, "retry_after": 1.5}', "retry_after must be a whole number >= 0"),
    (b'{"rate": 0.2, "apis": ["cards"]}', "this fake serves api, free, not cards"),
    (b'{"rate": 0.2, "apis": []}', "apis must be a non-empty list"),
])
def test_a_bad_body_is_a_400_that_says_why_and_changes_nothing(
    fake: tuple[TwoApis, str], body: bytes, reason: str
) -> None:
    _, url = fake
    requests.post(url, timeout=5, json={"reset": 0.1})
    before = requests.get(url, timeout=5).json()
    answer = requests.post(url, timeout=5, data=body)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("Bad faults: ")
    assert reason in answer.json()["message"]
    assert requests.get(url, timeout=5).json() == before


def test_other_verbs_are_refused(fake: tuple[TwoApis, str]) -> None:
    _, url = fake
    answer = requests.put(url, timeout=5, json={})
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, POST, DELETE"


def test_each_fake_sets_its_own_apis_and_names_the_other() -> None:
    with Sandbox(employees=20, departments=6, faults={"cards": Faults(reset=0.1)}) as box:
        lucca, cards = f"{box.lucca_url}/_sandbox/faults", f"{box.cards_root}/_sandbox/faults"
        assert requests.get(lucca, timeout=5).json() == dict.fromkeys(["token", "lucca",
                                                                       "legacy"])
        assert requests.get(cards, timeout=5).json()["cards"]["reset"] == 0.1
        wrong = requests.post(lucca, timeout=5, json={"rate": 0.2, "apis": ["cards"]})
        assert wrong.status_code == 400
        assert "other fake" in wrong.json()["message"]
        requests.post(lucca, timeout=5, json={"rate": 0.2, "kinds": ["timeout"], "delay": 1})
        assert box.lucca.faults["legacy"] == Faults(timeout=0.2, delay=1.0)
        assert box.lucca.faults["token"] == box.lucca.faults["lucca"]


def parsed(*options: str) -> dict[str, Faults]:
    return serve_faults(build_parser().parse_args(["sandbox", "serve", *options]))


def test_serve_flags_spread_the_rate_over_every_api() -> None:
    assert parsed() == {}
    every = Faults.spread(0.2)
    assert parsed("--faults", "0.2") == dict.fromkeys(["token", "lucca", "legacy", "cards"],
                                                      every)
    lucca = Faults(rate_limited=0.05, reset=0.05, seed=3, delay=0.5)
    assert parsed("--faults", "0.2", "--lucca-faults", "0.1", "--cards-faults", "0",
                  "--fault-kinds", "429,reset", "--fault-seed", "3",
                  "--fault-delay", "0.5") == dict.fromkeys(["token", "lucca", "legacy"], lucca)
    assert parsed("--cards-faults", "0.3", "--fault-kinds", "500") == {
        "cards": Faults(server_error=0.3)}


@pytest.mark.parametrize(("options", "reason"), [
    (["--faults", "1.5"], "argument --faults: 1.5 is not a fraction from 0 to 1"),
    (["--faults", "nan"], "argument --faults: nan is not a fraction from 0 to 1"),
    (["--cards-faults", "lots"], "argument --cards-faults: 'lots' is not a fraction from 0"),
    (["--fault-kinds", "429,404"], "argument --fault-kinds: unknown fault kind '404'"),
    (["--fault-kinds", ","], "argument --fault-kinds: name at least one fault kind"),
    (["--fault-delay", "-1"], "argument --fault-delay: -1 is not a number of seconds >= 0"),
    (["--port", "65535"], "argument --port: 65535 is not a port from 1 to 65534"),
    (["--today", "2026-13-01"], "argument --today: '2026-13-01' is not a date"),
])
def test_bad_fault_flags_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], options: list[str], reason: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sandbox", "serve", *options])
    assert caught.value.code == 2
    error = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert error == [f"lucca-cards sandbox serve: error: {reason}" + error[0].split(reason)[1]]


def test_fault_options_without_a_rate_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "serve", "--fault-kinds", "reset", "--fault-seed", "2"]) == 2
    assert capsys.readouterr().err == (
        "lucca-cards sandbox serve: error: --fault-kinds, --fault-seed need a rate: add "
        "--faults RATE (or --lucca-faults / --cards-faults)\n")
