"""``lucca_cards._untrusted``: which names are refused and why; what a terminal is shown.

Also the display side of a report (``SyncReport.lines``, the CLI's ``readable``), which
escapes, against its data side (``to_dict``/``to_json``), which stays exact.
"""

from __future__ import annotations

import json
import unicodedata

import pytest

from lucca_cards import SyncItem, SyncOutcome, SyncReport
from lucca_cards._untrusted import escape_json, is_visible, printable, text_problem
from lucca_cards.cli._output import readable
from lucca_cards.sync._rules import email_problem, name_problem

LEGITIMATE = [
    "Zoë-Anaïs", "François", "D'Almeida", "D\u2019Amico", "Jean-Pierre", "Mary Ann",
    "王小明", "山田 太郎", "김민준", "محمد", "שרה", "Ελένη", "Łukasz", "Nguyễn Thị Minh Khai",
    "O\u0301scar",                       # a combining accent on a visible base
    "👩\u200d💻", "👨\u200d👩\u200d👧",    # emoji ZWJ sequences
    "❤️", "👍🏽",                         # variation selector, skin-tone modifier
    "\u0645\u0647\u0631\u200c\u0646\u0627\u0632",  # a Persian name: zero-width non-joiner
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland's flag
]


@pytest.mark.parametrize("name", LEGITIMATE)
def test_names_people_have_pass(name: str) -> None:
    assert text_problem("the first name", name) is None
    assert name_problem(name, name) is None


@pytest.mark.parametrize(("value", "reason"), [
    ("A\x00B", "holds a control character (U+0000)"),
    ("A\tB", "holds a control character (U+0009, tab)"),
    ("A\nB", "holds a control character (U+000A, line feed)"),
    ("A\rB", "holds a control character (U+000D, carriage return)"),
    ("A\x1b[0m", "holds a control character (U+001B, escape)"),
    ("A\x7f", "holds a control character (U+007F, delete)"),
    ("A\x9bB", "holds a control character (U+009B)"),
    ("A\u202aB", "holds a bidirectional embedding (U+202A)"),
    ("A\u202cB", "holds a bidirectional embedding (U+202C)"),
    ("A\u202eB", "holds a bidirectional override (U+202E)"),
    ("A\u2067B", "holds a bidirectional isolate (U+2067)"),
    ("A\u2069B", "holds a bidirectional isolate (U+2069)"),
    ("A\u200eB", "holds a bidirectional mark (U+200E)"),
    ("\u061cA", "holds a bidirectional mark (U+061C)"),
    ("A\u200bB", "holds a zero-width character (U+200B)"),
    ("A\u2060B", "holds a zero-width character (U+2060)"),
    ("\ufeffA", "holds a zero-width character (U+FEFF)"),
    ("A\U000e0041", "holds an invisible tag character (U+E0041)"),
    ("A\u2028B", "holds a line separator (U+2028)"),
    ("A\u2029B", "holds a paragraph separator (U+2029)"),
    ("A\ud800", "holds an unpaired surrogate (U+D800)"),
    ("\u00a0", "has no visible character (only U+00A0)"),
    ("\u3164", "has no visible character (only U+3164)"),
    ("\u115f\u1160", "has no visible character (only U+115F, U+1160)"),
    ("\u2800", "has no visible character (only U+2800)"),
    ("\u0301\u0302", "has no visible character (only U+0301, U+0302)"),
    ("\u00ad", "has no visible character (only U+00AD)"),
    ("", "is empty"),
])
def test_each_refused_class_names_the_code_point(value: str, reason: str) -> None:
    assert text_problem("the first name", value) == f"the first name {reason}"


def test_the_first_offending_character_is_named() -> None:
    assert text_problem("x", "a\u202eb\x07") == "x holds a bidirectional override (U+202E)"


def test_name_problem_checks_the_trimmed_names_it_sends() -> None:
    assert name_problem(" \tJeanne\n ", "Martin") is None  # trimmed, then sent trimmed
    assert name_problem("Jeanne", "Mar\ttin") == (
        "the last name holds a control character (U+0009, tab); fix it in Lucca")
    assert name_problem("\u200b", "Martin") == (
        "the first name holds a zero-width character (U+200B); fix it in Lucca")
    assert name_problem("  ", "Martin") == "the first name is empty; Cards requires it"


def test_email_problem_says_what_is_wrong_before_the_format() -> None:
    assert email_problem("jean\x07@acme.fr") == (
        "the email holds a control character (U+0007); fix it in Lucca")
    assert email_problem("jean@acme.fr\u202e") == (
        "the email holds a bidirectional override (U+202E); fix it in Lucca")
    assert email_problem("jean@acme") == "email 'jean@acme' is not one Cards accepts"
    assert email_problem("jean@acme.fr") is None


def test_visible_means_something_is_drawn() -> None:
    assert [is_visible(c) for c in "aé1.€王"] == [True] * 6
    assert [is_visible(c) for c in " \u00a0\u200b\u0301\u3164\x07"] == [False] * 6


@pytest.mark.parametrize(("text", "shown"), [
    ("plain text", "plain text"),
    ("Zoë Anaïs 王小明 👩\u200d💻", "Zoë Anaïs 王小明 👩\u200d💻"),  # kept as is
    ("\x1b[2Jgone", "\\x1b[2Jgone"),
    ("bell\x07", "bell\\x07"),
    ("a\nb\r\tc", "a\\nb\\r\\tc"),
    ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
    ("moc.elgoog\u202e", "moc.elgoog\\u202e"),
    ("\u2066iso\u2069", "\\u2066iso\\u2069"),
    ("zw\u200bsp\ufeff", "zw\\u200bsp\\ufeff"),
    ("tag\U000e0041", "tag\\U000e0041"),
    ("line\u2028sep", "line\\u2028sep"),
    ("half\ud800", "half\\ud800"),
])
def test_printable_escapes_what_acts_and_keeps_the_rest(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown  # applying it again changes nothing
    assert all(unicodedata.category(c) not in {"Cc", "Zl", "Zp", "Cs"} for c in shown)


def test_escape_json_stays_valid_json_with_the_same_data() -> None:
    data = {"name": "A\u202eB\x7f\x85\U000e0041 é", "lines": ["x\ny", "\u2028"]}
    text = escape_json(json.dumps(data, ensure_ascii=False, indent=2))
    assert json.loads(text) == data
    assert "\u202e" not in text and "\x7f" not in text and "\U000e0041" not in text
    assert "\\u202e" in text and "\\udb40\\udc41" in text  # beyond the BMP: a UTF-16 pair
    assert "é" in text  # readable characters are not escaped


def hostile_report() -> SyncReport:
    return SyncReport(operation="users", dry_run=False, items=[
        SyncItem(employee_id="1", name="Jean\x1b[2J\u202eX", email="j@acme.fr\x07",
                 outcome=SyncOutcome.SKIPPED, reason="the first name holds …"),
        SyncItem(employee_id="2", name="Zoë", email="z@acme.fr", outcome=SyncOutcome.FAILED,
                 reason="Cards API: 500: boom \x1b]0;title\x07\nforged"),
    ], notes=["department 3 (Ventes\u2067) has no employee to import"])


def test_report_lines_are_escaped_for_display() -> None:
    lines = hostile_report().lines()
    assert lines == [
        "skipped        1       Jean\\x1b[2J\\u202eX <j@acme.fr\\x07>: the first name holds …",
        "failed         2       Zoë <z@acme.fr>: Cards API: 500: boom \\x1b]0;title\\x07\\nforged",
        "note: department 3 (Ventes\\u2067) has no employee to import",
    ]


def test_report_data_stays_exact() -> None:
    report = hostile_report()
    assert report.to_dict()["items"][0]["name"] == "Jean\x1b[2J\u202eX"
    assert json.loads(report.to_json())["notes"] == list(report.notes)


def test_the_cli_report_text_is_escaped() -> None:
    text = "\n".join(readable(hostile_report()))
    assert "\x1b" not in text and "\u202e" not in text and "\u2067" not in text
    assert "\\x1b]0;title\\x07\\nforged" in text
    assert text.count("\n") == len(readable(hostile_report())) - 1  # no forged line
