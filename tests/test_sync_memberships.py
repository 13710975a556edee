"""Bounded staleness: a join costs one ``PUT``, its groups read at most ``max_age`` before.

Against the sandbox's Cards: the sweep's pages serve the writes while they are recent;
once older than ``max_age``, the account's page is read again (one call for 500
accounts), or the account alone when it left that page; ``max_age=0`` reads each account
before its write, as before.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from lucca_cards import (
    CardsClient,
    ConfigurationError,
    DepartmentImporter,
    LifecycleSync,
    LinkStore,
    LuccaOAuthClient,
    Settings,
    SyncOutcome,
    UserImporter,
    ValidationError,
)
from lucca_cards.sandbox import Sandbox
from lucca_cards.sync._memberships import Memberships
from sync_support import clients, department_of, sandbox

Clients = tuple[LuccaOAuthClient, CardsClient]


class Ticking:
    """Monotonic seconds that move ``step`` at every reading (a slow, long import)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox(employees=1200, departments=30) as running:
        yield running


@pytest.fixture
def both(box: Sandbox) -> Iterator[Clients]:
    with clients(box) as made:
        yield made


def linked(both: Clients) -> LinkStore:
    """Give every employee an account (a users import), as before a departments import."""
    links = LinkStore()
    assert UserImporter(*both, links=links).run().ok
    return links


def cards_calls(box: Sandbox) -> dict[str, int]:
    counts = {"pages": 0, "reads": 0, "puts": 0}
    for call, count in box.cards.log.counts().items():
        method, path = call.split(" ", 1)
        if (method, path) == ("GET", "/v1/users"):
            counts["pages"] += count
        elif method == "GET" and path.startswith("/v1/users/"):
            counts["reads"] += count
        elif method == "PUT":
            counts["puts"] += count
    return counts


def test_recent_sweep_a_join_costs_one_put(box: Sandbox, both: Clients) -> None:
    links = linked(both)
    box.cards.log.clear()

    report = DepartmentImporter(*both, links=links).run()

    joins = len(report.of(SyncOutcome.ADDED_TO_GROUP))
    assert joins > 500  # more than one page of accounts to write
    assert cards_calls(box) == {"pages": math.ceil(len(box.company.cards.users) / 500),
                                "reads": 0, "puts": joins}


def test_read_before_each_write_when_max_age_is_zero(box: Sandbox, both: Clients) -> None:
    links = linked(both)
    box.cards.log.clear()

    report = DepartmentImporter(*both, links=links, memberships_max_age=0).run()

    joins = len(report.of(SyncOutcome.ADDED_TO_GROUP))
    assert cards_calls(box)["reads"] == cards_calls(box)["puts"] == joins


def test_old_reads_are_refreshed_a_page_at_a_time_in_the_sweeps_order(
    box: Sandbox, both: Clients
) -> None:
    links = linked(both)
    accounts = len(box.company.cards.users)
    box.cards.log.clear()
    # Every reading of the clock is 1 s later: a page swept is stale 10 readings on.
    report = DepartmentImporter(*both, links=links, memberships_max_age=10,
                                clock=Ticking(1.0)).run()

    joins = len(report.of(SyncOutcome.ADDED_TO_GROUP))
    calls = cards_calls(box)
    assert calls["puts"] == joins and calls["reads"] == 0
    # A page read again serves the writes that follow until it is stale in turn: far
    # fewer calls than one read per join.
    assert math.ceil(accounts / 500) < calls["pages"] < joins / 2
    order = [e["path"].rsplit("/", 1)[1] for e in box.cards.log.entries()
             if e["method"] == "PUT"]
    listed = list(box.company.cards.users)  # the fake lists accounts in this order
    assert order == sorted(order, key=listed.index)


def test_an_account_gone_from_its_page_is_read_alone(box: Sandbox, both: Clients) -> None:
    linked(both)
    memberships = Memberships(both[1], max_age=5, clock=(clock := Ticking()))
    swept = list(memberships.sweep())
    first, turning = swept[0], swept[500]  # the first account of page 2…
    del box.company.cards.users[first.id]  # …moves up to page 1
    box.cards.log.clear()
    clock.now += 6

    fresh = memberships.current(turning)

    assert fresh.id == turning.id
    assert cards_calls(box) == {"pages": 1, "reads": 1, "puts": 0}


def test_a_written_account_is_not_read_again(box: Sandbox, both: Clients) -> None:
    cards = both[1]
    memberships = Memberships(cards, max_age=5, clock=(clock := Ticking()))
    user = next(iter(memberships.sweep()))
    clock.now += 6
    written = cards.users.update(user.id, groups=[])
    memberships.wrote(written)
    box.cards.log.clear()

    assert memberships.current(user) is written
    assert cards_calls(box) == {"pages": 0, "reads": 0, "puts": 0}


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), "soon", True])
def test_a_bad_max_age_names_the_setting(both: Clients, value: object) -> None:
    with pytest.raises(ConfigurationError, match="cards_memberships_max_age"):
        DepartmentImporter(*both, memberships_max_age=value)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cards_memberships_max_age"):
        Settings(cards_memberships_max_age=value)


def test_the_setting_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARDS_MEMBERSHIPS_MAX_AGE", "0")
    assert Settings.load(config=None).cards_memberships_max_age == 0
    assert Settings().cards_memberships_max_age == 300


@pytest.mark.parametrize("number", [0, -2, 1.5, True, "2"])
def test_a_users_page_number_is_checked_before_sending(
    box: Sandbox, both: Clients, number: object
) -> None:
    box.cards.log.clear()
    with pytest.raises(ValidationError, match="page number"):
        both[1].users.page(number)  # type: ignore[arg-type]
    assert box.cards.log.entries() == []


@pytest.mark.parametrize(("max_age", "step", "reads", "again"), [
    (0, 0.0, 1, 0),       # the moved account read alone before its PUT
    (300, 0.0, 0, 0),     # the sweep is recent: its groups serve
    (5, 10.0, 0, 1),      # the sweep is stale by the write: its page read again
])
def test_a_move_builds_on_groups_as_recent_as_max_age(
    box: Sandbox, both: Clients, max_age: float, step: float, reads: int, again: int
) -> None:
    links = linked(both)
    assert DepartmentImporter(*both, links=links).run().ok
    employee = next(e for e in box.company.lucca.employees.values()
                    if links.get(str(e.id)) is not None)
    others = [d for d in box.company.lucca.departments if d != department_of(box, str(
        employee.id))]
    box.lucca.move(employee.id, others[0])
    box.cards.log.clear()

    report = LifecycleSync(*both, links, departments="all", memberships_max_age=max_age,
                           clock=Ticking(step)).run([str(employee.id)])

    assert [i.outcome for i in report.items] == [SyncOutcome.UPDATED]
    swept = math.ceil(len(box.company.cards.users) / 500)
    assert cards_calls(box) == {"pages": swept + again, "reads": reads, "puts": 1}


def test_a_users_sweep_can_keep_only_some_fields(box: Sandbox, both: Clients) -> None:
    cards = both[1]
    full = list(cards.users.list())
    slim = list(cards.users.list(fields=["email", "groups"]))

    assert [(u.id, u.email, u.groups) for u in slim] == [
        (u.id, u.email, u.groups) for u in full]
    assert all(u.firstname is None and u.role is None and u.extra == {} for u in slim)
    box.cards.log.clear()
    with pytest.raises(ValidationError, match="mail"):
        cards.users.list(fields=["mail"])
    assert box.cards.log.entries() == []
