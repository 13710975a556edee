"""The CLI's words: bars only on a terminal and without inverted rates, durations, plurals."""

from __future__ import annotations

import io

import pytest

from lucca_cards.cli._demo import _EDGE_CASES, _edge_cases
from lucca_cards.cli._output import ProgressBar, duration


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_only() -> None:
    piped, terminal = io.StringIO(), Terminal()
    for file in (piped, terminal):
        bar = ProgressBar("dry run of users", "employees", enabled=True, file=file)
        for done in range(1, 4):
            bar(done, 3)
        bar.close()
    assert piped.getvalue() == ""
    drawn = terminal.getvalue()
    assert "dry run of users: 100%" in drawn
    assert "3/3 employees" in drawn
    assert "s/" not in drawn and "/s" not in drawn  # no rate, never "1.99s/ employees"


def test_a_bar_disabled_is_never_drawn() -> None:
    terminal = Terminal()
    ProgressBar("importing users", "employees", enabled=False, file=terminal)(1, 1)
    assert terminal.getvalue() == ""


@pytest.mark.parametrize(("seconds", "said"), [
    (0.2, "about 1 second"), (40, "about 40 seconds"), (61, "about 1 minute"),
    (420, "about 7 minutes"), (3600, "about 1 h 00 min"), (7800, "about 2 h 10 min")])
def test_durations_read_as_a_person_says_them(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_the_demos_cases_say_one_in_the_singular() -> None:
    out = io.StringIO()
    _edge_cases(dict.fromkeys((key for key, _, _ in _EDGE_CASES), 1), out)
    text = out.getvalue()
    assert "1  pair of employees sharing one email (different case)" in text
    assert "1  employee who already has a Cards account" in text
    assert "pairs" not in text


def test_a_report_is_coloured_on_a_terminal_unless_no_color(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from lucca_cards import SyncItem, SyncOutcome, SyncReport
    from lucca_cards.cli._output import print_report, readable

    report = SyncReport(operation="users", dry_run=False, items=[
        SyncItem(employee_id="1", name="Ana", email="a@x.fr", outcome=SyncOutcome.FAILED,
                 reason="500"),
        SyncItem(employee_id="2", name="Bo", email="b@x.fr", outcome=SyncOutcome.CREATED)])
    lines = readable(report, coloured=True)
    assert "  \033[31mfailed\033[0m         1       Ana <a@x.fr>: 500" in lines
    assert "  \033[32mcreated\033[0m        2       Bo <b@x.fr>" in lines
    assert "\033[" not in "".join(readable(report))
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    print_report(report, False, terminal)
    assert "\033[31mfailed" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    print_report(report, False, plain)
    assert "\033[" not in plain.getvalue()


def test_a_learners_progress_reads_short_in_a_repr_and_stays_exact() -> None:
    import datetime as dt

    from lucca_cards.state import LearnerTraining

    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    state = LearnerTraining(email="a@acme.fr", training_id="t", title="T", chapters_count=6,
                            progress=1 / 6, points=1, max_points=2, last_action_at=at,
                            last_completed_at=None, updated_at=at)
    assert "progress=0.1667," in repr(state)
    assert state.progress == 1 / 6
