"""A publish does not plan again the files its marks show up to date, and misses no change.

The marks (``published_files`` in the state database) are a shortcut: each test changes
one thing a file's plan depends on (the file in Lucca, the learner's activity, the Cards
trainings, the formats, the emails) and checks against the sandbox's own files that the
rerun planned that file again and left it as the ledger says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lucca_cards import StatsFormat, SyncItem, SyncOutcome, TrainingLedger
from lucca_cards.cards.models import Training
from lucca_cards.lucca.training_records import StatsFieldCodes
from lucca_cards.sandbox import Sandbox
from lucca_cards.state._published import FileMark, PublishedFiles
from lucca_cards.sync._stats_marks import (
    Pending,
    Survey,
    ToPlan,
    Unsorted,
    UpToDate,
    context_digest,
    file_digest,
)
from lucca_cards.sync.stats import StatsPlan
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


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with stats_sandbox() as started:
        yield started


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[TrainingLedger]:
    with TrainingLedger(database(tmp_path)) as opened:
        yield opened


@pytest.fixture
def planned() -> Iterator[list[int]]:
    """The Lucca user ids whose file a publish planned, in order."""
    with planned_files() as seen:
        yield seen


def published(box: Sandbox, ledger: TrainingLedger, **options: Any) -> None:
    """Publish once (every learner's file written), then forget the sandbox's log."""
    with publisher(box, ledger, **options) as stats:
        assert stats.run().ok
    box.lucca.log.clear()


def rerun(box: Sandbox, ledger: TrainingLedger, **options: Any) -> Any:
    with publisher(box, ledger, **options) as stats:
        return stats.run()


def as_expected(box: Sandbox, ledger: TrainingLedger) -> bool:
    want, got = expected(box, ledger), files(box)
    return {user: got[user] for user in want} == want


def test_a_rerun_after_a_publish_plans_no_file(box: Sandbox, ledger: TrainingLedger,
                                              planned: list[int]) -> None:
    feed(box, ledger)
    published(box, ledger)
    planned.clear()
    report = rerun(box, ledger)
    assert planned == []
    assert legacy_writes(box) == []
    learners = expected(box, ledger)
    assert {int(item.employee_id) for item in report.of(SyncOutcome.UNCHANGED)} == set(learners)
    assert report.ok and len(report.items) == len(learners)


def test_a_file_edited_in_lucca_is_planned_and_written_again(
        box: Sandbox, ledger: TrainingLedger, planned: list[int]) -> None:
    feed(box, ledger)
    published(box, ledger)
    user = next(iter(expected(box, ledger)))
    field = box.company.lucca.employees[user].extended_data["e_formation"]
    field[0]["value"]["e_progress"]["value"] = "1 %"  # by hand, in Lucca
    planned.clear()
    report = rerun(box, ledger)
    assert planned == [user]
    assert [int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)] == [user]
    assert as_expected(box, ledger)


def test_new_activity_plans_only_the_files_of_the_learners_who_moved(
        box: Sandbox, ledger: TrainingLedger, planned: list[int]) -> None:
    import_everyone(box)  # so that nearly every learner is an employee
    feed(box, ledger, learners=40, seed=1)
    published(box, ledger)
    before_counts, before_files = ledger.event_counts(), files(box)
    feed(box, ledger, learners=3, seed=2)
    moved = {email for email, count in ledger.event_counts().items()
             if count != before_counts.get(email)}
    employees = box.company.lucca.employees.values()
    movers = {e.id for e in employees if (e.email or "").lower() in moved} & set(
        expected(box, ledger))
    planned.clear()
    report = rerun(box, ledger)
    assert 0 < len(movers) <= 3 < len(expected(box, ledger))
    assert set(planned) == movers
    after = files(box)
    changed = {user for user in after if after[user] != before_files[user]}
    assert {int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)} == changed
    assert as_expected(box, ledger)


def test_a_renamed_training_plans_every_file_again(
        box: Sandbox, ledger: TrainingLedger, planned: list[int]) -> None:
    feed(box, ledger)
    published(box, ledger)
    holders = {user for user, records in files(box).items() if records}
    title = files(box)[next(iter(holders))][0].title
    training = next(t for t in box.company.cards.trainings.values() if t.title == title)
    training.title = f"{title} (2e édition)"
    planned.clear()
    report = rerun(box, ledger)
    assert set(planned) == set(expected(box, ledger))
    renamed = {user for user, records in files(box).items()
               if any(record.title == training.title for record in records)}
    assert renamed and {int(i.employee_id) for i in report.of(SyncOutcome.UPDATED)} == renamed
    assert as_expected(box, ledger)


def test_other_formats_plan_every_file_again(box: Sandbox, ledger: TrainingLedger,
                                             planned: list[int]) -> None:
    feed(box, ledger)
    published(box, ledger)
    planned.clear()
    report = rerun(box, ledger, style=StatsFormat(progress="{percent:.1f} %"))
    learners = set(expected(box, ledger))
    assert set(planned) == learners
    assert {int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)} == {
        user for user, records in files(box).items() if records}


def test_a_format_of_its_own_is_planned_on_every_run(
        box: Sandbox, ledger: TrainingLedger, planned: list[int]) -> None:
    class Loud(StatsFormat):
        """Formats the title in capitals: code no digest sees."""

        def record(self, state: Any, training: Any = None) -> Any:
            import attrs

            plain = super().record(state, training)
            return attrs.evolve(plain, title=plain.title.upper())

    feed(box, ledger)
    published(box, ledger, style=Loud())
    planned.clear()
    report = rerun(box, ledger, style=Loud())
    assert set(planned) == {int(item.employee_id) for item in report.items}
    assert report.writes == 0 and planned


def test_a_dry_run_uses_the_marks_and_changes_none(
        box: Sandbox, ledger: TrainingLedger, planned: list[int]) -> None:
    import_everyone(box)
    feed(box, ledger, learners=40, seed=1)
    published(box, ledger)
    marks = PublishedFiles(ledger.database)
    before = marks.load()
    feed(box, ledger, learners=3, seed=2)
    planned.clear()
    with publisher(box, ledger) as stats:
        report = stats.run(dry_run=True)
    assert marks.load() == before
    assert 0 < len(planned) <= 3 < len(expected(box, ledger))
    assert {int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)} <= set(planned)
    assert legacy_writes(box) == []


def test_two_files_sharing_an_email_are_skipped_though_one_was_up_to_date(
        box: Sandbox, ledger: TrainingLedger) -> None:
    feed(box, ledger)
    published(box, ledger)
    learners = expected(box, ledger)
    employees = box.company.lucca.employees
    user = next(iter(learners))
    other = next(e for e in employees.values() if e.id not in learners and e.email)
    other.email = employees[user].email.upper()
    report = rerun(box, ledger)
    skipped = {int(item.employee_id) for item in report.of(SyncOutcome.SKIPPED)}
    assert {user, other.id} <= skipped
    assert legacy_writes(box) == []


def test_the_safety_stop_counts_the_files_known_up_to_date() -> None:
    def line(number: int) -> SyncItem:
        return SyncItem(employee_id=str(number), name="A", email="a@x",
                        outcome=SyncOutcome.UNCHANGED)

    known = (UpToDate(key="a@x", holding=True, line=line(1)),
             UpToDate(key="b@x", holding=False, line=line(2)))
    plan = StatsPlan(files=(), skipped=(), notes=(), employees=2, up_to_date=known)
    assert plan.holding == 1


def test_a_user_of_another_shape_is_read_the_full_way() -> None:
    survey = Survey(StatsFieldCodes(), {"ana@acme.fr": 2}, {})
    survey.context = "c"
    plain = {"id": 7, "name": "Ana", "mail": "Ana@acme.fr", "extendedData": None}
    assert isinstance(survey(plain, None), ToPlan) and survey(plain, None).digest
    other = survey({**plain, "Login": "ana"}, None)
    assert isinstance(other, ToPlan) and other.digest is None and other.user.id == 7
    assert survey({**plain, "mail": "bob@acme.fr"}, None) is None
    with pytest.raises(Exception, match="id"):
        survey({"name": "no id", "mail": "ana@acme.fr"}, None)


def test_a_mark_is_taken_only_when_every_digest_matches() -> None:
    codes = StatsFieldCodes()
    value = [{"id": 1, "value": {"e_title": {"value": "Safety"}}}]
    digest = file_digest("ana@acme.fr", 2, value)
    assert digest is not None
    user = {"id": 7, "name": "Ana", "mail": "ana@acme.fr", "extendedData": {"e_formation": value}}
    for context, events, stored, wanted in (("c", 2, digest, UpToDate), ("d", 2, digest, ToPlan),
                                            ("c", 3, digest, ToPlan), ("c", 2, "x", ToPlan)):
        survey = Survey(codes, {"ana@acme.fr": events}, {7: FileMark("c", stored, True)})
        survey.context = context
        assert isinstance(survey(user, None), wanted), (context, events, stored)
    early = Survey(codes, {"ana@acme.fr": 2}, {7: FileMark("c", digest, True)})
    pending = early(user, None)  # read before the Cards trainings: settled later
    assert isinstance(pending, Pending)
    early.context = "c"
    assert isinstance(early.settle(pending), UpToDate)
    early.context = "d"
    settled = early.settle(pending)
    assert isinstance(settled, ToPlan) and settled.user.mail == "ana@acme.fr"


def test_digests_refuse_what_they_cannot_see() -> None:
    assert file_digest("ana@acme.fr", 1, [{"id": 2**70}]) is None
    assert file_digest("a", 1, {"x": 1, "y": 2}) == file_digest("a", 1, {"y": 2, "x": 1})
    assert file_digest("a", 1, None) != file_digest("a", 2, None)
    trainings = {"t1": Training(id="t1", title="Safety", public_url="https://x/t1")}

    class Mine(StatsFormat):
        """A subclass: it may format in its own way."""

    assert context_digest(trainings, Mine(), StatsFieldCodes()) is None
    plain = context_digest(trainings, StatsFormat(), StatsFieldCodes())
    renamed = {"t1": Training(id="t1", title="Safety 2", public_url="https://x/t1")}
    assert plain != context_digest(renamed, StatsFormat(), StatsFieldCodes())
    assert plain != context_digest(trainings, StatsFormat(), StatsFieldCodes(score="e_grade"))


def test_a_ledger_that_cannot_be_read_fails_the_run_before_any_write(
        box: Sandbox, ledger: TrainingLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    # The ledger is read on the Cards side while Lucca's files are read: its failure is
    # the run's, and nothing is written.
    feed(box, ledger)

    def broken() -> dict[str, int]:
        raise OSError("disk gone")

    monkeypatch.setattr(ledger, "event_counts", broken)
    box.lucca.log.clear()
    with publisher(box, ledger) as stats, pytest.raises(OSError, match="disk gone"):
        stats.run()
    assert legacy_writes(box) == []


def test_users_read_before_the_ledger_are_sorted_once_it_is() -> None:
    survey = Survey(StatsFieldCodes())
    ana = {"id": 7, "name": "Ana", "mail": "ana@acme.fr", "extendedData": None}
    bob = {"id": 8, "name": "Bob", "mail": "bob@acme.fr", "extendedData": None}
    odd = {**ana, "id": 9, "Login": "ana9"}  # another shape: read typed at once
    early = [survey(item, None) for item in (ana, bob, odd)]
    assert all(isinstance(entry, Unsorted) for entry in early)
    survey.start({"ana@acme.fr": 1}, {})
    entries = survey.sort_later(early, lambda: False)  # type: ignore[arg-type]
    assert entries is not None
    assert [(type(e).__name__, e.user.id) for e in entries] == [("ToPlan", 7), ("ToPlan", 9)]
    with pytest.raises(Exception, match="id"):
        Survey(StatsFieldCodes())({"mail": "no-id@acme.fr"}, None)


def test_a_survey_waits_for_the_ledger_until_the_other_side_fails() -> None:
    survey = Survey(StatsFieldCodes())
    survey.POLL = 0  # asks at once: no waiting in the test
    asked: list[bool] = []

    def stopped() -> bool:
        asked.append(True)
        return len(asked) >= 3

    assert survey.wait(stopped) is False and len(asked) == 3
    survey.start({}, {})
    assert survey.wait(lambda: True) is True


def test_marks_that_cannot_be_kept_lose_nothing_of_the_run(
        box: Sandbox, ledger: TrainingLedger, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    feed(box, ledger)

    def full(self: PublishedFiles, marks: Any) -> None:
        raise OSError("disk full: sqlite:///secret-path")

    monkeypatch.setattr(PublishedFiles, "remember", full)
    report = rerun(box, ledger)
    assert report.ok and len(report.of(SyncOutcome.UPDATED)) == len(expected(box, ledger))
    assert as_expected(box, ledger)
    warned = [r.getMessage() for r in caplog.records if r.name == "lucca_cards.stats"]
    assert warned and "OSError" in warned[0] and "secret-path" not in warned[0]
    assert PublishedFiles(ledger.database).load() == {}


def test_the_context_set_meanwhile_is_read_once() -> None:
    # The Cards side sets the context while the Lucca side sorts: a mark of another
    # context must never pass because the two reads of it saw different values.
    digest = file_digest("ana@acme.fr", 2, None)
    assert digest is not None

    class Racing(Survey):
        """Its context is None at the first read, the run's at the next ones."""

        reads = 0

        @property  # type: ignore[override]
        def context(self) -> str | None:
            Racing.reads += 1
            return None if Racing.reads == 1 else "new"

        @context.setter
        def context(self, value: str | None) -> None:
            pass

    survey = Racing(StatsFieldCodes(), {"ana@acme.fr": 2}, {7: FileMark("old", digest, True)})
    entry = survey({"id": 7, "name": "Ana", "mail": "ana@acme.fr", "extendedData": None}, None)
    assert not isinstance(entry, UpToDate)


def test_a_write_whose_answer_lacks_the_field_is_not_marked(
        box: Sandbox, ledger: TrainingLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing in the answer to say what the file holds now: planned again next time, so
    # a file emptied by hand afterwards is written again.
    import attrs

    from lucca_cards.lucca.legacy import LegacyUsers

    real = LegacyUsers.write_training_records

    def no_echo(self: LegacyUsers, *args: Any, **kwargs: Any) -> Any:
        return attrs.evolve(real(self, *args, **kwargs), field_value=None)

    feed(box, ledger)
    monkeypatch.setattr(LegacyUsers, "write_training_records", no_echo)
    published(box, ledger)
    monkeypatch.setattr(LegacyUsers, "write_training_records", real)
    assert PublishedFiles(ledger.database).load() == {}
    user = next(u for u, records in expected(box, ledger).items() if records)
    box.company.lucca.employees[user].extended_data.pop("e_formation")  # emptied by hand
    report = rerun(box, ledger)
    assert user in {int(item.employee_id) for item in report.of(SyncOutcome.UPDATED)}
    assert as_expected(box, ledger)
