"""``StatsPublisher`` end to end against the sandbox over sockets, with a real ledger file.

Every check reads the sandbox's own records (the fake Lucca's employee files, its request
log) and compares them with what the ledger and the fake Cards say, never with the plan.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from conftest import FakeClock
from lucca_cards import (
    ConfigurationError,
    StatsFieldCodes,
    SyncOutcome,
    TrainingLedger,
    TrainingRecord,
)
from lucca_cards.sandbox import Sandbox
from stats_support import database, expected, feed, files, legacy_writes, publisher, stats_sandbox


@pytest.fixture
def box() -> Sandbox:
    with stats_sandbox() as started:
        yield started


@pytest.fixture
def ledger(tmp_path: Path) -> TrainingLedger:
    with TrainingLedger(database(tmp_path)) as opened:
        yield opened


def learners_on_files(box: Sandbox, ledger: TrainingLedger) -> dict[int, list[TrainingRecord]]:
    want = expected(box, ledger)
    assert want, "the sandbox's learners must include Lucca employees"
    return want


def test_a_publish_writes_every_learner_file_as_the_ledger_says(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    with publisher(box, ledger) as stats:
        report = stats.run()
    want = learners_on_files(box, ledger)
    got = files(box)
    assert {user: got[user] for user in want} == want
    assert all(not records for user, records in got.items() if user not in want)
    assert report.ok and len(report.of(SyncOutcome.UPDATED)) == len(want)
    assert len(legacy_writes(box)) == len(want)
    sample = next(records for records in want.values() if records)[0]
    assert str(sample.progress).endswith(" %")


def test_a_rerun_over_unchanged_data_writes_nothing(box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    with publisher(box, ledger) as stats:
        stats.run()
        box.lucca.log.clear()
        report = stats.run()
    assert legacy_writes(box) == []
    assert report.of(SyncOutcome.UPDATED) == ()
    assert len(report.of(SyncOutcome.UNCHANGED)) == len(expected(box, ledger))


def test_only_the_files_that_changed_are_written(box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger, learners=20, seed=1)
    with publisher(box, ledger) as stats:
        stats.run()
        before = files(box)
        feed(box, ledger, learners=3, seed=2)
        box.lucca.log.clear()
        report = stats.run()
    after = files(box)
    changed = {user for user in after if after[user] != before[user]}
    assert changed and len(legacy_writes(box)) == len(changed)
    assert {int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)} == changed
    assert {user: after[user] for user in expected(box, ledger)} == expected(box, ledger)


def test_reads_take_the_fewest_calls(box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    box.lucca.log.clear()
    box.cards.log.clear()
    with publisher(box, ledger) as stats:
        stats.run(dry_run=True)
    lucca = box.lucca.log.counts()
    employees = len(box.company.lucca.employees)
    assert lucca == {"GET /api/v3/extensionuserdefinitions": 1,
                     "GET /api/v3/users": math.ceil(employees / 1000)}
    assert box.cards.log.counts() == {"GET /v1/trainings": 1}


def test_a_deleted_training_is_removed_and_unknown_occurrences_stay(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    with publisher(box, ledger, max_removal_share=1.0) as stats:
        stats.run()
        user = next(iter(learners_on_files(box, ledger)))
        employee = box.company.lucca.employees[user]
        hand = TrainingRecord(title="Habilitation électrique", progress="100 %")
        stats.legacy.users.write_training_records(user, [*files(box)[user], hand])
        gone = ledger.records_for(employee.email or "")[0].training_id
        del box.company.cards.trainings[gone]
        report = stats.run()
    after = files(box)
    assert hand in after[user]
    assert {user: [r for r in after[user] if r != hand]} == {
        user: expected(box, ledger)[user]}
    assert any("no longer in Cards" in (item.reason or "")
               for item in report.of(SyncOutcome.UPDATED))


def test_an_empty_ledger_removes_nothing(box: Sandbox, ledger: TrainingLedger,
                                         tmp_path: Path) -> None:
    feed(box, ledger)
    with publisher(box, ledger) as stats:
        stats.run()
    before = files(box)
    with TrainingLedger(database(tmp_path, "lost.sqlite")) as empty, \
            publisher(box, empty) as stats:
        box.lucca.log.clear()
        report = stats.run()
    assert files(box) == before and legacy_writes(box) == []
    assert report.ok and report.items == ()


def test_a_run_removing_from_too_many_files_stops_unless_forced(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)  # learners are a few of the employees: the default share must hold
    with publisher(box, ledger) as stats:
        stats.run()
        before = files(box)
        box.company.cards.trainings.clear()  # Cards answers with no training at all
        box.lucca.log.clear()
        stopped = stats.run()
        assert files(box) == before and legacy_writes(box) == []
        assert not stopped.ok and "Nothing was written" in (stopped.stopped or "")
        assert stopped.of(SyncOutcome.DEFERRED)
        forced = stats.run(force=True)
    assert forced.ok and all(not records for records in files(box).values())


def test_the_write_budget_defers_the_rest_and_the_next_run_resumes(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    want = learners_on_files(box, ledger)
    with publisher(box, ledger) as stats:
        first = stats.run(max_writes=2)
        assert len(legacy_writes(box)) == 2
        assert len(first.of(SyncOutcome.DEFERRED)) == len(want) - 2
        second = stats.run()
    assert len(second.of(SyncOutcome.UPDATED)) == len(want) - 2
    assert {user: files(box)[user] for user in want} == want


def test_files_never_written_go_first(box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    want = learners_on_files(box, ledger)
    with publisher(box, ledger) as stats:
        stats.run(max_writes=len(want) - 1)
        feed(box, ledger, learners=20, seed=3)  # older files change too
        box.lucca.log.clear()
        stats.run(max_writes=1)
    (path,) = legacy_writes(box)
    untouched = [user for user in want if not files(box)[user] or path.endswith(f"/{user}")]
    assert path.rsplit("/", 1)[1] in {str(user) for user in untouched}


def test_a_deadline_defers_the_rest(box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    clock = FakeClock()

    def now() -> dt.datetime:
        clock.sleep(60)  # every look at the clock takes a minute
        return dt.datetime.fromtimestamp(clock(), dt.timezone.utc)

    with publisher(box, ledger, clock=now) as stats:
        report = stats.run(deadline=dt.timedelta(minutes=2.5))
    assert len(legacy_writes(box)) == 2
    assert report.of(SyncOutcome.DEFERRED)


def test_a_missing_field_code_stops_before_any_read_of_users(
        tmp_path: Path) -> None:
    with stats_sandbox(stats_field=False) as box, \
            TrainingLedger(database(tmp_path)) as ledger:
        feed(box, ledger)
        box.lucca.log.clear()
        with publisher(box, ledger) as stats, pytest.raises(ConfigurationError) as caught:
            stats.run()
        assert "e_formation" in str(caught.value)
        assert "Data management" in str(caught.value)
        assert [e["path"] for e in box.lucca.log.entries()] == [
            "/api/v3/extensionuserdefinitions"]


def test_custom_codes_missing_on_the_tenant_are_named(box: Sandbox,
                                                      ledger: TrainingLedger) -> None:
    with publisher(box, ledger, codes=StatsFieldCodes(score="e_grade")) as stats, \
            pytest.raises(ConfigurationError, match="e_grade"):
        stats.run(dry_run=True)


def test_switched_off_statistics_make_no_request(box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    box.lucca.log.clear()
    with publisher(box, ledger, enabled=False) as stats:
        report = stats.run()
    assert box.lucca.log.entries() == [] and report.items == ()
    assert "switched off" in report.notes[0]


def test_a_dry_run_writes_nothing_and_reports_the_plan(box: Sandbox,
                                                      ledger: TrainingLedger) -> None:
    feed(box, ledger)
    with publisher(box, ledger) as stats:
        report = stats.run(dry_run=True)
        budgeted = stats.run(dry_run=True, max_writes=2)
    assert legacy_writes(box) == [] and report.dry_run
    assert len(report.of(SyncOutcome.UPDATED)) == len(expected(box, ledger))
    assert str(report).startswith("dry run of statistics publish:")
    assert len(budgeted.of(SyncOutcome.UPDATED)) == 2
    assert len(budgeted.of(SyncOutcome.DEFERRED)) == len(expected(box, ledger)) - 2


def test_a_file_with_repeated_foreign_titles_is_skipped_for_a_human(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    user = next(iter(learners_on_files(box, ledger)))
    twins = [{"id": 0, "value": {"e_title": {"value": "Habilitation"}}}] * 2
    box.company.lucca.employees[user].extended_data["e_formation"] = [
        {**twin, "id": 9000 + n} for n, twin in enumerate(twins)]
    with publisher(box, ledger) as stats:
        first = stats.run()
        again = stats.run()
    (skipped,) = [i for i in first.of(SyncOutcome.SKIPPED) if i.employee_id == str(user)]
    assert "repeat the titles ['habilitation']" in (skipped.reason or "")
    assert first.ok and again.ok, "a file for a human is not a failure"
    assert [r.title for r in files(box)[user]] == ["Habilitation", "Habilitation"]


def test_the_written_payload_reads_back_through_the_legacy_api(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    with publisher(box, ledger) as stats:
        stats.run()
        want = learners_on_files(box, ledger)
        for user, records in want.items():
            read = stats.legacy.users.read_training_records(user)
            assert sorted((s.record for s in read), key=lambda r: r.title.casefold()) == records


def test_bad_budgets_are_refused_before_anything_is_read(box: Sandbox,
                                                         ledger: TrainingLedger) -> None:
    box.lucca.log.clear()
    with publisher(box, ledger) as stats:
        with pytest.raises(ValueError, match="max_writes"):
            stats.run(max_writes=-1)
        with pytest.raises(TypeError, match="deadline"):
            stats.run(deadline=30)  # type: ignore[arg-type]
    assert box.lucca.log.entries() == []
