"""The publish rules on plain data: which occurrences a file keeps, gets, and loses; formats."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from lucca_cards import ConfigurationError, LearnerTraining, StatsFormat, Training
from lucca_cards.lucca.training_records import StoredTrainingRecord, TrainingRecord
from lucca_cards.sync._stats_plan import FilePlan, plan_file, write_order

NOON = dt.datetime(2026, 3, 2, 12, 0)
TRAININGS = {
    "t1": Training(id="t1", title="RGPD", public_url="https://cards/t1"),
    "t2": Training(id="t2", title="Excel avancé", public_url="https://cards/t2"),
}


def state(training_id: str, progress: float = 0.5, **changes: Any) -> LearnerTraining:
    values: dict[str, Any] = {
        "email": "ana@acme.fr", "training_id": training_id, "title": None,
        "chapters_count": 4, "progress": progress, "points": 3, "max_points": 6,
        "last_action_at": NOON, "last_completed_at": None,
        "updated_at": NOON.replace(tzinfo=dt.timezone.utc)}
    return LearnerTraining(**{**values, **changes})


def stored(ident: int, title: str, **values: Any) -> StoredTrainingRecord:
    return StoredTrainingRecord(id=ident, record=TrainingRecord(title=title, **values))


def plan(current: list[StoredTrainingRecord], *states: LearnerTraining,
         trainings: dict[str, Training] = TRAININGS) -> FilePlan:
    return plan_file(user_id=7, name="Ana", email="ana@acme.fr", current=current,
                     states=states, trainings=trainings, style=StatsFormat())


def test_a_state_becomes_the_default_texts() -> None:
    done = NOON + dt.timedelta(days=1)
    (record,) = plan([], state("t1", 1.0, points=8, max_points=10,
                               last_completed_at=done)).desired
    assert record == TrainingRecord(title="RGPD", link="https://cards/t1", progress="100 %",
                                    score="8/10", last_completion_date=done.date())


def test_no_score_without_a_maximum_and_titles_sorted() -> None:
    records = plan([], state("t1", max_points=0), state("t2", points=None)).desired
    assert [r.title for r in records] == ["Excel avancé", "RGPD"]
    assert [r.score for r in records] == [None, None]


def test_occurrences_the_ledger_cannot_claim_are_left_alone() -> None:
    hand = stored(1, "Habilitation électrique", progress="100 %")
    result = plan([hand, stored(2, "rgpd ", progress="10 %")], state("t1"))
    assert hand.record in result.desired
    assert [r.title for r in result.desired] == ["Habilitation électrique", "RGPD"]
    assert result.changed and result.removed == ()


def test_a_renamed_training_is_claimed_by_its_link() -> None:
    old = stored(3, "Excel (ancien titre)", link="https://cards/t2", progress="10 %")
    result = plan([old], state("t2", title="Excel (ancien titre)"))
    assert [r.title for r in result.desired] == ["Excel avancé"]


def test_only_a_training_gone_from_cards_loses_its_occurrence() -> None:
    gone = stored(4, "Sécurité", progress="50 %")
    result = plan([gone, stored(5, "RGPD", progress="50 %")],
                  state("t9", title="Sécurité"), state("t1"))
    assert result.removed == ("Sécurité",)
    assert [r.title for r in result.desired] == ["RGPD"]


def test_an_up_to_date_file_is_unchanged_in_any_order() -> None:
    first = plan([], state("t1"), state("t2"))
    again = plan([stored(9 - n, r.title, link=r.link, progress=r.progress, score=r.score)
                  for n, r in enumerate(reversed(first.desired))], state("t2"), state("t1"))
    assert not again.changed


def test_two_trainings_with_one_title_keep_the_latest() -> None:
    twins = {"a": Training(id="a", title="Onboarding"), "b": Training(id="b", title="onboarding")}
    later = NOON + dt.timedelta(hours=1)
    (record,) = plan([], state("a", 0.2), state("b", 0.9, last_action_at=later),
                     trainings=twins).desired
    assert record.progress == "90 %"


def test_files_never_written_go_first_then_the_longest_waiting() -> None:
    def file(user: int, current: list[StoredTrainingRecord], hours: int) -> FilePlan:
        changed = NOON.replace(tzinfo=dt.timezone.utc) + dt.timedelta(hours=hours)
        return plan_file(user_id=user, name="", email="", current=current,
                         states=[state("t1", updated_at=changed)], trainings=TRAININGS,
                         style=StatsFormat())

    old = [stored(1, "RGPD", progress="1 %")]
    order = write_order([file(3, old, 1), file(9, [], 5), file(1, old, 2), file(5, [], 5),
                         file(2, old, 0)])
    assert [p.user_id for p in order] == [5, 9, 2, 3, 1]


def test_a_training_recreated_under_its_title_is_no_removal() -> None:
    new = {"t3": Training(id="t3", title="RGPD", public_url="https://cards/t3")}
    for states in ([state("t1", title="RGPD"), state("t3")],
                   [state("t3"), state("t1", title="RGPD")]):
        result = plan([stored(1, "RGPD", progress="50 %")], *states, trainings=new)
        assert result.removed == ()
        assert [r.link for r in result.desired] == ["https://cards/t3"]


def test_repeated_titles_left_alone_stop_the_file_for_a_human() -> None:
    twins = [stored(1, "Habilitation"), stored(2, " habilitation ")]
    result = plan([*twins, stored(3, "RGPD")], state("t1"))
    assert result.problem is not None and "['habilitation']" in result.problem
    assert write_order([result]) == []
    claimed_twins = plan([stored(1, "RGPD"), stored(2, "rgpd")], state("t1"))
    assert claimed_twins.problem is None  # the ledger's own duplicates shrink to one


def test_custom_templates_and_a_bad_one() -> None:
    style = StatsFormat(progress="{fraction:.2f}", score="{points} pts", empty_score="-")
    record = style.record(state("t1", 0.25, max_points=None), TRAININGS["t1"])
    assert (record.progress, record.score) == (0.25, "-")
    with pytest.raises(ConfigurationError, match=r"StatsFormat.score.*\{points\}/\{max_points\}"):
        StatsFormat(score="{point}/{max_points}")


def test_the_ledger_title_serves_when_the_training_is_unknown() -> None:
    record = StatsFormat().record(state("t7", title="  Gestes et postures "))
    assert (record.title, record.link) == ("Gestes et postures", None)


def test_changed_is_worked_out_from_the_plan_itself_even_when_evolved() -> None:
    first = plan([], state("t1"))
    unchanged = plan([StoredTrainingRecord(id=1, record=first.desired[0])], state("t1"))
    assert first.changed and not unchanged.changed

    emptied = attrs.evolve(unchanged, desired=())

    assert emptied.changed  # not the copied answer of the plan it came from
    rebuilt = FilePlan(user_id=7, name="Ana", email="ana@acme.fr",
                       current=unchanged.current, desired=unchanged.desired)
    assert rebuilt == unchanged and not rebuilt.changed
