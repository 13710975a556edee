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
