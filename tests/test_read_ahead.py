"""``read_ahead`` and ``Pager.ahead``: one page ahead of the caller, never more, same calls."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lucca_cards import LuccaLegacyApiClient, RateLimiter
from lucca_cards._read_ahead import read_ahead
from lucca_cards.sandbox import Sandbox
from sync_support import sandbox

WORKER = "lucca-cards-read-ahead"


def counted(total: int, asked: list[int], change: threading.Condition,
            fail_at: int | None = None) -> Iterator[int]:
    """A page source that records each page asked for (and can fail at one)."""
    for number in range(total):
        with change:
            asked.append(number)
            change.notify_all()
        if number == fail_at:
            raise ConnectionError(f"page {number} lost")
        yield number


def joined_workers() -> None:
    for thread in threading.enumerate():
        if thread.name == WORKER:
            thread.join(timeout=10)
            assert not thread.is_alive()


def test_every_page_comes_in_order() -> None:
    asked: list[int] = []
    assert list(read_ahead(counted(5, asked, threading.Condition()))) == [0, 1, 2, 3, 4]
    assert asked == [0, 1, 2, 3, 4]


def test_a_caller_that_stops_has_had_at_most_one_page_read_for_nothing() -> None:
    asked: list[int] = []
    change = threading.Condition()
    pages = read_ahead(counted(10, asked, change))
    assert next(pages) == 0
    with change:  # the next page is read while the caller holds the first…
        assert change.wait_for(lambda: len(asked) >= 2, timeout=10)
    pages.close()  # …and the caller stops there
    joined_workers()
    assert asked == [0, 1]


def test_a_failure_is_raised_in_its_place() -> None:
    asked: list[int] = []
    pages = read_ahead(counted(5, asked, threading.Condition(), fail_at=2))
    assert [next(pages), next(pages)] == [0, 1]
    with pytest.raises(ConnectionError, match="page 2 lost"):
        next(pages)
    joined_workers()


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox() as started:
        yield started


def test_a_legacy_sweep_read_ahead_makes_the_same_calls(box: Sandbox, tmp_path: Path) -> None:
    settings = box.settings()
    with LuccaLegacyApiClient.from_settings(settings, rate_limiter=RateLimiter(0)) as legacy:
        plain = [user.id for user in legacy.users.list(page_size=7)]
        calls = box.lucca.log.counts()["GET /api/v3/users"]
        box.lucca.log.clear()
        ahead = [user.id for user in legacy.users.list(page_size=7).ahead()]
        joined_workers()
    assert ahead == plain and len(plain) > 14
    assert calls == math.ceil((len(plain) + 1) / 7)
    assert box.lucca.log.counts()["GET /api/v3/users"] == calls
