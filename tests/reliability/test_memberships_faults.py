"""Joins on groups re-read in bulk, under faults, back-office changes and crashes.

The department import re-reads the pages of its Cards sweep once they are older than
``memberships_max_age`` (here 10 readings of a ticking clock, so that re-reads happen
throughout). Under a storm of faults on every API, with a back-office that adds groups
in Cards while the import runs, a rerun until clean must end like a clean run: every
member in their department's group, no group anyone else gave lost, one account per
email. An interrupted run keeps the links it found (buffered links are written on the
way out), and a rerun converges.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import FakeClock
from lucca_cards import DepartmentImporter, LinkStore, SyncOutcome, UserImporter
from lucca_cards.sandbox import Faults
from sync_support import accounts_per_email, clients, converge, memberships, sandbox

STORM = Faults.spread(0.2, delay=1.0)
APIS = ("token", "lucca", "legacy", "cards")
BACK_OFFICE = "Comité RSE"


class Ticking:
    """Monotonic seconds, one more at every reading: the sweep's pages age as it writes."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_joins_under_faults_with_stale_reads_end_like_a_clean_run(clock: FakeClock) -> None:
    with sandbox() as clean, clients(clean) as both:
        links = LinkStore()
        assert UserImporter(*both, links=links).run().ok
        assert DepartmentImporter(*both, links=links).run().ok
        expected = memberships(clean)

    faults = {api: dataclasses.replace(STORM, seed=41 + n) for n, api in enumerate(APIS)}
    with sandbox() as box, clients(box, clock=clock, sleep=clock.sleep) as both:
        links = LinkStore()
        converge(UserImporter(*both, links=links).run)
        for api, fault in faults.items():
            box.set_faults(api, fault)
        importer = DepartmentImporter(*both, links=links, memberships_max_age=10,
                                      clock=Ticking())
        box.cards.log.clear()
        history = converge(importer.run)
        log = box.cards.log.entries()
        pages = [e["status"] for e in log if (e["method"], e["path"]) == ("GET", "/v1/users")]
        puts = [e["status"] for e in log if e["method"] == "PUT"]

        assert len(pages) > 2 * len(history)  # pages were read again, not only swept
        assert set(pages) - {200} and set(puts) - {200}  # and the storm hit both
        assert memberships(box) == expected
        assert max(accounts_per_email(box).values()) == 1


def test_a_group_given_in_cards_during_a_long_import_is_kept(clock: FakeClock) -> None:
    with sandbox() as box, clients(box) as both:
        links = LinkStore()
        assert UserImporter(*both, links=links).run().ok
        given: list[str] = []

        def meanwhile(done: int, total: int) -> None:
            if done % 5 == 0:  # the back-office, between two writes of the import
                user = both[1].users.get(sorted(box.company.cards.users)[done % 50])
                both[1].users.update(user.id, groups=[*user.groups, {"name": BACK_OFFICE}])
                given.append(user.id)

        # 10 readings of the ticking clock: what the import read goes stale quickly,
        # as in a two-hour import with the default of 5 minutes.
        report = DepartmentImporter(*both, links=links, memberships_max_age=0.5,
                                    clock=Ticking()).run(progress=meanwhile)

        assert report.ok and report.of(SyncOutcome.ADDED_TO_GROUP)
        cards = box.company.cards
        names = {u.id: {cards.groups[g].name for g in u.group_ids} for u in cards.users.values()}
        assert given and all(BACK_OFFICE in names[i] for i in given)


@pytest.mark.parametrize("kind", [UserImporter, DepartmentImporter])
def test_an_interrupted_rerun_keeps_the_links_it_found(
    kind: type[UserImporter] | type[DepartmentImporter], tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite"
    with sandbox() as box, clients(box) as both:
        with LinkStore(path) as links:
            assert UserImporter(*both, links=links).run().ok
            linked = links.all()
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

        def crash(done: int, total: int) -> None:
            if done == 60:
                raise KeyboardInterrupt

        with LinkStore(path) as links, pytest.raises(KeyboardInterrupt):
            kind(*both, links=links).run(progress=crash)
        with LinkStore(path) as links:
            found = links.all()
            assert 0 < len(found) < len(linked)  # those applied before the interruption
            assert all(linked[e] == u for e, u in found.items())
            assert kind(*both, links=links).run().ok
            assert links.all() == linked  # the rerun links the others, to the same accounts
