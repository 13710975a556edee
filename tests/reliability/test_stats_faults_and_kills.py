"""The statistics publish under faults and real ``SIGKILL``s: a rerun always converges.

Converged means: every learner's file holds exactly what a clean publish writes (computed
from the fake Cards and the ledger), one occurrence per title, and the other files hold
nothing. Faults hit 10 % of the legacy API's and Cards' requests (every kind); retries
wait on a :class:`FakeClock`. Kills: the publisher runs in its own process, halts after
each ``PUT`` the sandbox answered, and the test kills it with ``SIGKILL`` at a seeded
write, then reruns it in process.
"""

from __future__ import annotations

import dataclasses
import json
import random
import signal
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import FakeClock
from kill_chain import KillPoint, run_until_killed
from lucca_cards import SyncOutcome, SyncReport, Timeout, TrainingLedger
from lucca_cards.lucca.training_records import read_training_records
from lucca_cards.sandbox import Faults, Sandbox
from lucca_cards.state._published import FileMark, PublishedFiles
from stats_support import (
    database,
    expected,
    feed,
    files,
    import_everyone,
    legacy_writes,
    planned_files,
    publisher,
    stats_sandbox,
)
from sync_support import converge

TEN_PERCENT = Faults.spread(0.1, delay=1.0)

PUBLISHER = textwrap.dedent("""
    import json, sys
    import requests
    sys.path.insert(0, sys.argv[1])
    from sync_support import settings_from_line
    from lucca_cards import (CardsClient, LuccaLegacyApiClient, RateLimiter, StatsPublisher,
                             TrainingLedger)

    def answered(response, *args, **kwargs):
        if response.request.method == "PUT":
            print("write", flush=True)
            if sys.stdin.readline() != "go\\n":
                raise SystemExit(3)

    info = json.loads(sys.stdin.readline())
    settings = settings_from_line(info, lucca_api_key=info["api_key"])
    session = requests.Session()
    session.hooks["response"].append(answered)
    with LuccaLegacyApiClient.from_settings(settings, rate_limiter=RateLimiter(0),
                                            session=session) as legacy, \\
            CardsClient.from_settings(settings, rate_limiter=RateLimiter(0)) as cards, \\
            TrainingLedger(sys.argv[3]) as ledger:
        StatsPublisher(legacy, cards, ledger).run()
    print("done", flush=True)
""")


def converged(box: Sandbox, ledger: TrainingLedger) -> None:
    want = expected(box, ledger)
    got = files(box)
    assert {user: got[user] for user in want} == want
    assert all(not records for user, records in got.items() if user not in want)
    for employee in box.company.lucca.employees.values():
        titles = Counter(s.record.title for s in read_training_records(employee.extended_data))
        assert all(count == 1 for count in titles.values())


@pytest.mark.parametrize("seed", [3, 11])
def test_ten_percent_faults_while_publishing_then_a_clean_rerun(
        seed: int, tmp_path: Path, clock: FakeClock) -> None:
    faults = {api: dataclasses.replace(TEN_PERCENT, seed=seed + n)
              for n, api in enumerate(("legacy", "cards"))}
    with stats_sandbox() as box, TrainingLedger(database(tmp_path)) as ledger:
        import_everyone(box)
        feed(box, ledger, learners=60)
        box.lucca.log.clear()
        box.cards.log.clear()
        for api, fault in faults.items():
            box.set_faults(api, fault)
        history = _publish_under(box, ledger, clock)
        struck = [e for e in box.lucca.log.entries() + box.cards.log.entries()
                  if e["status"] != 200]
        assert len(struck) >= 3, "the faults struck"
        for api in faults:
            box.set_faults(api, None)
        box.lucca.log.clear()
        with publisher(box, ledger) as stats:
            final = stats.run()
        converged(box, ledger)
        assert final.ok and final.writes == 0, "the last faulted run had converged"
        assert history[-1] is not None and history[-1].ok


def _publish_under(box: Sandbox, ledger: TrainingLedger, clock: FakeClock
                   ) -> list[SyncReport | None]:
    from lucca_cards import CardsClient, LuccaLegacyApiClient, RateLimiter, StatsPublisher

    settings = box.settings()
    options = {"rate_limiter": RateLimiter(0), "clock": clock, "sleep": clock.sleep,
               "timeout": Timeout(connect=1, read=0.3)}
    with LuccaLegacyApiClient.from_settings(settings, **options) as legacy, \
            CardsClient.from_settings(settings, **options) as cards:
        return converge(StatsPublisher(legacy, cards, ledger).run)


@pytest.mark.parametrize("seed", range(3))
def test_a_sigkill_mid_publish_then_a_rerun_converges(seed: int, tmp_path: Path) -> None:
    path = database(tmp_path)
    with stats_sandbox() as box, TrainingLedger(path) as ledger:
        import_everyone(box)
        feed(box, ledger, learners=30, seed=seed)
        total = len(expected(box, ledger))
        point = random.Random(seed).randint(1, total - 1)
        line = json.dumps(box.connection_info()) + "\n"
        killed = run_until_killed(KillPoint(point, "write"), line, "stats", Path(path),
                                  script=PUBLISHER)
        assert killed.status == -signal.SIGKILL and killed.writes == point
        assert len(legacy_writes(box)) == point
        box.lucca.log.clear()
        with publisher(box, ledger) as stats:
            report = stats.run()
        assert report.ok and len(legacy_writes(box)) == total - point
        converged(box, ledger)
        # The killed run marked nothing (its marks wait for the end); the rerun marked
        # what it wrote and what it found up to date: a third run plans no file.
        assert len(PublishedFiles(ledger.database).load()) == total
        again = _planned_by(box, ledger)
        assert again == ([], total)


def _planned_by(box: Sandbox, ledger: TrainingLedger) -> tuple[list[int], int]:
    """Publish again: the users whose file was planned, and how many were unchanged."""
    with planned_files() as seen, publisher(box, ledger) as stats:
        report = stats.run()
    assert report.ok and report.writes == 0
    return seen, len(report.of(SyncOutcome.UNCHANGED))


@pytest.mark.parametrize("lie", ["digests", "context", "other users", "holding"])
def test_marks_that_lie_cost_a_plan_never_a_missed_change(lie: str, tmp_path: Path) -> None:
    # A state database copied from another tenant, edited by hand, or written by a bug:
    # whatever the marks say, a changed file is written and an unchanged one is not.
    with stats_sandbox() as box, TrainingLedger(database(tmp_path)) as ledger:
        import_everyone(box)
        feed(box, ledger, learners=30, seed=5)
        with publisher(box, ledger) as stats:
            assert stats.run().ok
        marks = PublishedFiles(ledger.database)
        honest = marks.load()
        users = sorted(honest)
        if lie == "other users":  # each file given its neighbour's mark
            neighbours = users[1:] + users[:1]
            marks.remember({user: honest[other] for user, other in zip(users, neighbours,
                                                                       strict=True)})
        else:
            marks.remember({user: _lying(lie, honest[user]) for user in users})
        feed(box, ledger, learners=4, seed=6)
        before = files(box)
        box.lucca.log.clear()
        with publisher(box, ledger) as stats:
            report = stats.run()
        converged(box, ledger)
        after = files(box)
        changed = {user for user in after if after[user] != before[user]}
        assert changed and len(legacy_writes(box)) == len(changed)
        assert {int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)} == changed


def _lying(lie: str, mark: FileMark) -> FileMark:
    if lie == "digests":
        return mark._replace(digest="0" * 32)
    if lie == "context":
        return mark._replace(context="another tenant")
    return mark._replace(holding=not mark.holding)


def test_two_publishers_at_once_leave_nothing_the_next_run_cannot_see(tmp_path: Path) -> None:
    # B reads the files, A publishes them all, then B writes: B's writes add every
    # occurrence again (id 0), and B's answers show it. B marks none of those files, so
    # the next run plans them and repairs them.
    with stats_sandbox() as box, TrainingLedger(database(tmp_path)) as ledger:
        feed(box, ledger)
        with publisher(box, ledger) as first, publisher(box, ledger) as second:
            plan = second._plan

            def other_publisher_meanwhile(marks: Any) -> Any:
                planned = plan(marks)
                assert first.run().ok
                return planned

            second._plan = other_publisher_meanwhile  # type: ignore[method-assign]
            assert second.run().ok
        doubled = {user for user, records in files(box).items()
                   if len({r.title for r in records}) < len(records)}
        assert doubled, "the second publisher's writes doubled the occurrences"
        with publisher(box, ledger) as third:
            assert third.run().ok
        converged(box, ledger)


def test_a_write_lucca_answers_but_does_not_keep_is_tried_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hostile (or misunderstood) tenant answers 200 and stores nothing: the answer
    # does not hold what was planned, so the file is not marked and the next run writes
    # it again instead of reporting it unchanged.
    import lucca_cards.sandbox._legacy_api as legacy_api

    monkeypatch.setattr(legacy_api, "write_extended", lambda current, *rest: dict(current))
    with stats_sandbox() as box, TrainingLedger(database(tmp_path)) as ledger:
        feed(box, ledger)
        for _ in range(2):
            box.lucca.log.clear()
            with publisher(box, ledger) as stats:
                report = stats.run()
            assert report.of(SyncOutcome.UPDATED)
            assert len(legacy_writes(box)) == len(report.of(SyncOutcome.UPDATED))
        assert PublishedFiles(ledger.database).load() == {}
