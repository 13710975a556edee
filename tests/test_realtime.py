"""Real time, end to end: an HR change in the sandbox's Lucca reaches Cards by itself.

The sandbox emits and signs Lucca's events and POSTs them to a receiver served on
loopback; the receiver stores them in a SQLite file and wakes the worker, which applies
them with the life-cycle rules. The tests wait on the worker's progress with a timeout,
never on a clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import attrs

from lucca_cards import DepartmentImporter, LinkStore, RateLimiter
from lucca_cards.cli._demo_realtime import Applied
from lucca_cards.cli._demo_realtime import live as serve_live
from lucca_cards.sandbox import Sandbox
from lucca_cards.state import Database
from lucca_cards.state.inbox import LuccaInbox
from lucca_cards.sync.lifecycle import LifecycleSync
from sync_support import accounts_per_email, clients, memberships, sandbox

SECRET = "lucca-endpoint-secret-for-the-tests"
WAIT = 20.0


@attrs.define
class Live:
    """A sandbox whose Lucca events reach a served receiver and its worker."""

    box: Sandbox
    inbox: LuccaInbox
    links: LinkStore
    applied: Applied

    def wait_applied(self, count: int) -> bool:
        """Wait until ``count`` events are applied (``False`` after :data:`WAIT` s)."""
        return self.applied.wait_for(lambda: self.applied.count() >= count, WAIT)


@contextlib.contextmanager
def live(tmp_path: Path, **options: object) -> Iterator[Live]:
    with sandbox() as box, Database(tmp_path / "state.sqlite") as db, \
            clients(box, sleep=lambda _: None, rate_limiter=RateLimiter(0)) as (lucca, cards):
        links = LinkStore(db)
        DepartmentImporter(lucca, cards, links=links).run(department_ids=["2"])
        box.cards.log.clear()
        sync = LifecycleSync(lucca, cards, links, **options)
        with serve_live(box, db, sync, secret=SECRET) as applied:
            yield Live(box, applied.inbox, links, applied)


def test_a_hire_in_lucca_gets_a_cards_account_in_its_department_group(tmp_path: Path) -> None:
    with live(tmp_path) as world:
        hired = world.box.lucca.hire(given_name="Nina", family_name="Nouvelle",
                                     email="nina.nouvelle@acme.fr", department_id=2)
        assert world.wait_applied(3)  # employee, employment and job position created
        name = world.box.company.lucca.departments[2].name
        assert memberships(world.box)["nina.nouvelle@acme.fr"] == [name]
        assert world.links.link(str(hired)).created
        assert world.box.cards.log.counts()["POST /v1/users"] == 1


def test_duplicates_and_out_of_order_deliveries_apply_once(tmp_path: Path) -> None:
    with live(tmp_path) as world:
        world.box.lucca.deliveries.configure(shuffle=True, duplicate_rate=1.0)
        world.box.lucca.hire(given_name="Ana", family_name="Double",
                             email="ana.double@acme.fr", department_id=2)
        assert world.wait_applied(3)
        assert world.box.lucca.deliveries.wait_idle(WAIT)
        assert world.inbox.counts() == {**dict.fromkeys(world.inbox.counts(), 0),
                                        "applied": 3}
        assert accounts_per_email(world.box)["ana.double@acme.fr"] == 1


def test_a_move_an_email_change_and_a_leaver_follow_in_real_time(tmp_path: Path) -> None:
    # A dozen linked accounts: one leaver is more than 5 % of them, which the safety
    # threshold would hold for a human; here that share is lifted.
    with live(tmp_path, leavers="remove-from-groups", departments="all",
              max_offboarded_share=1.0) as world:
        lucca = world.box.lucca
        hired = lucca.hire(given_name="Leo", family_name="Mobile", email="leo@acme.fr",
                           department_id=2)
        assert world.wait_applied(3)
        done = world.inbox.counts()["applied"]
        moved = lucca.move(hired, 3)
        assert world.wait_applied(done + len(moved))
        names = world.box.company.lucca.departments
        assert memberships(world.box)["leo@acme.fr"] == [names[3].name]
        done = world.inbox.counts()["applied"]
        lucca.change_email(hired, "leo.mobile@acme.fr")
        assert world.wait_applied(done + 1)
        assert memberships(world.box).get("leo.mobile@acme.fr") == [names[3].name]
        assert "leo@acme.fr" not in memberships(world.box)
        done = world.inbox.counts()["applied"]
        deleted = lucca.delete_employee(hired)
        assert world.wait_applied(done + len(deleted))
        assert memberships(world.box)["leo.mobile@acme.fr"] == []
        assert world.links.link(str(hired)).offboarded == "remove-from-groups"
