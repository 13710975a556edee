"""Lucca and Cards are read at the same time, and a failure on one side stops the other.

``side_by_side`` is checked with plain functions (events instead of time: a test that
needed the two sides to overlap would hang, not pass, were they run one after the other),
then the importers are checked to read both APIs at once on the sandbox.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LifecycleSync,
    LinkStore,
    LuccaOAuthClient,
    UserImporter,
)
from lucca_cards.sandbox import Sandbox
from lucca_cards.sync._parallel import Stopped, side_by_side
from sync_support import clients, sandbox

WAIT = 10  # seconds; only reached when the code under test is wrong


def test_both_sides_run_at_once_and_both_results_come_back() -> None:
    lucca_started, cards_started = threading.Event(), threading.Event()

    def lucca(stopped: Stopped) -> str:
        lucca_started.set()
        assert cards_started.wait(WAIT), "the Cards side did not run meanwhile"
        return threading.current_thread().name

    def cards(stopped: Stopped) -> str:
        cards_started.set()
        assert lucca_started.wait(WAIT), "the Lucca side did not run meanwhile"
        return threading.current_thread().name

    here, there = side_by_side(lucca, cards)

    assert here == threading.current_thread().name  # Lucca on the caller's thread
    assert there.startswith("lucca-cards-read")


def test_a_cards_failure_stops_the_lucca_sweep_and_is_raised() -> None:
    pages: list[int] = []

    def lucca(stopped: Stopped) -> list[int]:
        for page in range(100_000_000):  # a busy sweep: no sleeping in tests
            pages.append(page)
            if stopped():
                return pages
        raise AssertionError("never stopped")

    def cards(stopped: Stopped) -> None:
        raise ConnectionError("Cards is down")

    with pytest.raises(ConnectionError, match="Cards is down"):
        side_by_side(lucca, cards)
    assert len(pages) < 100_000_000


@pytest.mark.parametrize("error", [RuntimeError("Lucca is down"), KeyboardInterrupt()])
def test_a_lucca_failure_stops_the_cards_sweep_before_it_is_raised(
    error: BaseException,
) -> None:
    cards_started, cards_done = threading.Event(), threading.Event()
    asked: list[bool] = []

    def lucca(stopped: Stopped) -> None:
        assert cards_started.wait(WAIT)
        raise error

    def cards(stopped: Stopped) -> None:
        cards_started.set()
        while not stopped():  # a sweep that only ends when told to
            pass
        asked.append(True)
        cards_done.set()

    with pytest.raises(type(error)):
        side_by_side(lucca, cards)
    assert cards_done.is_set()  # nothing keeps reading behind the caller's back
    assert asked == [True]


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox() as running:
        yield running


def _meet_halfway(lucca: LuccaOAuthClient, cards: CardsClient) -> threading.Event:
    """Make each sweep wait, after its first page, until the other has read one.

    Were the importer to read one API after the other, the first sweep would wait in
    vain (and the test fail on the timeout): it passes only if both are read at once.
    """
    cards_read, lucca_read = threading.Event(), threading.Event()
    users_list, employees_list = cards.users.list, lucca.employees.list

    def users(**kwargs):  # type: ignore[no-untyped-def]
        pager = users_list(**kwargs)
        original = pager.pages

        def pages():  # type: ignore[no-untyped-def]
            for page in original():
                cards_read.set()
                assert lucca_read.wait(WAIT), "Lucca was not read during the Cards sweep"
                yield page

        pager.pages = pages  # type: ignore[method-assign]
        return pager

    def employees(**kwargs):  # type: ignore[no-untyped-def]
        pager = employees_list(**kwargs)
        original = pager.pages

        def pages():  # type: ignore[no-untyped-def]
            for number, page in enumerate(original()):
                lucca_read.set()
                if number == 1:
                    assert cards_read.wait(WAIT), "Cards was not read during the Lucca sweep"
                yield page

        pager.pages = pages  # type: ignore[method-assign]
        return pager

    cards.users.list = users  # type: ignore[method-assign]
    lucca.employees.list = employees  # type: ignore[method-assign]
    return cards_read


@pytest.mark.parametrize("importer", [UserImporter, DepartmentImporter])
def test_the_importers_read_lucca_and_cards_at_once(
    box: Sandbox, importer: type[UserImporter] | type[DepartmentImporter]
) -> None:
    with clients(box) as (lucca, cards):
        cards_read = _meet_halfway(lucca, cards)

        report = importer(lucca, cards).run(dry_run=True)

    assert cards_read.is_set()
    assert report.items


def test_the_life_cycle_run_on_everyone_reads_lucca_and_cards_at_once(box: Sandbox) -> None:
    with clients(box) as (lucca, cards):
        links = LinkStore()
        assert UserImporter(lucca, cards, links=links).run().ok
        cards_read = _meet_halfway(lucca, cards)

        report = LifecycleSync(lucca, cards, links).run(dry_run=True)

    assert cards_read.is_set()
    assert report.items


def test_ctrl_c_while_waiting_for_cards_stops_the_cards_sweep() -> None:
    """A real SIGINT lands while the caller waits for the Cards side: it stops too."""
    cards_started, lucca_done = threading.Event(), threading.Event()
    told: list[bool] = []

    def lucca(stopped: Stopped) -> str:
        lucca_done.set()  # from here on, the caller waits for the Cards side
        return "Lucca read"

    def cards(stopped: Stopped) -> None:
        cards_started.set()
        deadline = time.monotonic() + WAIT
        while not stopped() and time.monotonic() < deadline:  # a sweep, busy
            pass
        told.append(stopped())

    def interrupt() -> None:
        if cards_started.wait(WAIT) and lucca_done.wait(WAIT):
            os.kill(os.getpid(), signal.SIGINT)

    # Python's own handler (a command tested earlier in the run may have left its own).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Thread(target=interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            side_by_side(lucca, cards)
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert told == [True]
