"""``bench.py``'s probe: how long the sandbox serves each page, against the factor's rule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _report import pages_line  # the benchmarks folder is not a package: on sys.path above
from bench import PROBED, interval_shares, probe
from minimum import Rates

from lucca_cards import Sandbox
from lucca_cards.sandbox.generator import generate_company


def test_every_probed_page_is_served_and_timed() -> None:
    company = generate_company(seed=3, employees=40, departments=4, existing_cards_users=1.0)
    with Sandbox(company=company, seed=3, lucca_rate_limit=40, cards_rate_limit=60) as box:
        pages = probe(box, *PROBED)
        # Ten pages of each, unthrottled: a limit of 40 a minute would have refused most.
        assert box.lucca.log.counts()["GET /api/v3/users"] == 10
        assert box.lucca.limiter.limit == 40  # put back after the probe
    assert set(pages) == set(PROBED)
    assert all(0 < ms < 10_000 for ms in pages.values())


def test_a_page_is_measured_against_its_own_apis_interval() -> None:
    rates = Rates(25)  # Lucca every 60 ms, Cards every 40 ms
    shares = interval_shares({"legacy_users_page": 30.0, "cards_users_page": 30.0}, rates)
    assert shares == pytest.approx({"legacy_users_page": 0.5, "cards_users_page": 0.75})
    line = pages_line({"sandbox_page_ms": {"legacy_users_page": 36.0, "cards_users_page": 20.0},
                       "sandbox_page_interval_share": {"legacy_users_page": 0.6,
                                                       "cards_users_page": 0.5}})
    assert "legacy users with their trainings (1 000) 36 ms (60% of an interval, OVER " \
           "half)" in line
    assert "Cards users (500) 20 ms (50% of an interval)" in line
