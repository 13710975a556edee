"""The benchmark's yardstick: minimum calls and floor, from a sandbox's state (in-process)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from minimum import (  # the benchmarks folder is not a package: on sys.path above
    Rates,
    calls_by_api,
    floor_seconds,
    minimum_calls,
    snapshot,
    total,
)

from lucca_cards import CardsClient, LuccaOAuthClient, RateLimiter, Sandbox, UserImporter
from lucca_cards.sandbox._model import CardsUser
from lucca_cards.sandbox.generator import generate_company


def test_reads_are_pages_of_each_swept_collection() -> None:
    company = generate_company(seed=3, employees=250, departments=8)
    state = snapshot(company)

    calls = minimum_calls("departments", state, state)

    assert calls == {"token": {"POST": 1},
                     "lucca": {"GET": math.ceil(state.at_work / 100) + 1},
                     "cards": {"GET": 2}}
    assert minimum_calls("stats", state, state) == {
        "legacy": {"GET": 1 + state.legacy_users // 1000 + 1}, "cards": {"GET": 1}}


def test_the_life_cycle_sweeps_employees_of_every_status() -> None:
    company = generate_company(seed=3, employees=450, departments=8)
    state = snapshot(company)

    calls = minimum_calls("lifecycle", state, state)

    assert state.everyone == 450 > state.at_work  # the generator makes some leave
    assert calls == {"token": {"POST": 1}, "lucca": {"GET": math.ceil(450 / 100) + 1},
                     "cards": {"GET": 1}}  # employees, then departments
    assert minimum_calls("users", state, state)["lucca"] == {
        "GET": math.ceil(state.at_work / 100)}


def test_writes_are_what_changed_between_two_states() -> None:
    company = generate_company(seed=3, employees=60, departments=8)
    before = snapshot(company)
    cards, lucca = company.cards, company.lucca
    cards.users["new"] = CardsUser(id="new", firstname="A", lastname="B", email="a@b.fr")
    first, second = list(cards.users.values())[:2]
    first.group_ids = [*first.group_ids, "another"]
    second.email, second.group_ids = "moved@acme.fr", [*second.group_ids, "x"]  # one PUT
    next(iter(lucca.employees.values())).extended_data["e_formation"] = [{"id": 1}]

    calls = minimum_calls("users", before, snapshot(company))

    assert calls["cards"] == {"GET": 1, "POST": 1, "PUT": 2}
    assert calls["legacy"] == {"PUT": 1}


def test_floor_reads_both_apis_in_parallel_then_writes() -> None:
    rates = Rates(50)  # Lucca 30 ms apart, Cards 20 ms apart
    calls = {"token": {"POST": 1}, "lucca": {"GET": 9}, "cards": {"GET": 20, "POST": 100}}

    assert rates.lucca_interval == pytest.approx(0.03)
    assert floor_seconds(calls, rates) == pytest.approx(max(10 * 0.03, 20 * 0.02) + 100 * 0.02)
    assert floor_seconds({"legacy": {"GET": 3, "PUT": 10}, "cards": {"GET": 1}}, rates) == \
        pytest.approx(3 * 0.03 + 10 * 0.03)


def test_a_users_import_makes_the_minimum_the_log_shows() -> None:
    with Sandbox(seed=2, employees=120, departments=6, lucca_rate_limit=0,
                 cards_rate_limit=0) as box:
        before = snapshot(box.company)
        settings, fast = box.settings(), RateLimiter(0)
        with LuccaOAuthClient.from_settings(settings, rate_limiter=fast) as lucca, \
                CardsClient.from_settings(settings, rate_limiter=fast) as cards:
            report = UserImporter(lucca, cards).run()
        logged = calls_by_api({"lucca": box.lucca.log.entries(),
                               "cards": box.cards.log.entries()})
        minimum = minimum_calls("users", before, snapshot(box.company))

    created = sum(1 for item in report.items if item.outcome.value == "created")
    assert minimum["cards"]["POST"] == created > 0
    assert logged["cards"]["POST"] == created
    assert total(logged) >= total(minimum)
