"""Hostile text from Lucca, through the real stack: refused with the reason, never sent.

Each case puts a control character, a bidirectional control or an invisible-only string
into the sandbox's Lucca records (names, emails, department names), then checks what the
importers say (the preview's reason, the report's skipped item), what reached Cards (its
live records and every JSON body the clients sent) and what the CLI printed (no raw
control or bidirectional character, in text or in ``--json``).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SECRET_MARK
from docserver import DocServer
from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LuccaOAuthClient,
    SyncOutcome,
    UserImporter,
    UserState,
)
from lucca_cards.cli import _imports as _cli_sync
from lucca_cards.cli import build_parser
from lucca_cards.sandbox import Sandbox
from sync_support import Recorder, clients, considered, department_of, sandbox, writes

# What must never reach a terminal raw: C0 controls but the newline ending each line, DEL,
# C1 controls, bidirectional controls, zero-width characters, line/paragraph separators.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028\u2029"
                 "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# (hostile first name, the code point the reason must name)
HOSTILE_NAMES = [
    ("Jean\x1b[31mPierre", "U+001B"),         # ESC: a terminal colour sequence
    ("Anna\x07", "U+0007"),                  # BEL, not trimmed: it is not whitespace
    ("Marie\nClaire", "U+000A"),             # LF inside: a forged second line
    ("Zoé\rFAKE", "U+000D"),                 # CR: overwrites the start of the line
    ("Paul\tJean", "U+0009"),                # tab inside
    ("Eve\x7f", "U+007F"),                   # DEL
    ("Ma\x85x", "U+0085"),                   # C1 "next line"
    ("Lé\u2028a", "U+2028"),                 # line separator
    ("\u202eeilrahC", "U+202E"),             # right-to-left override
    ("Ali\u2066ce", "U+2066"),               # left-to-right isolate
    ("Bob\u200f", "U+200F"),                 # right-to-left mark
    ("\u200b", "U+200B"),                    # zero-width space only
    ("\ufeff", "U+FEFF"),                    # byte-order mark only
    ("\u3164", "U+3164"),                    # Hangul filler only: a letter drawn as nothing
    ("\u0301\u0301", "U+0301"),              # combining accents with nothing to sit on
]
# Names real people have: they are created in Cards exactly as Lucca holds them.
FINE_NAMES = ["Zoë-Anaïs", "D\u2019Amico", "O'Connor", "王小明", "محمد", "Ana 👩\u200d💻",
              "Łukasz ❤️"]

Clients = tuple[LuccaOAuthClient, CardsClient]


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox(employees=40, departments=6) as running:
        yield running


def creatable(box: Sandbox, count: int) -> list[str]:
    """Return ``count`` employees the import would create a Cards account for."""
    with clients(box) as both:
        rows = UserImporter(*both).preview()
    ids = [row.employee.id for row in rows if row.state is UserState.WILL_BE_CREATED]
    assert len(ids) >= count
    return ids[:count]


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def assert_cards_holds_no_raw_text(box: Sandbox, recorder: Recorder) -> None:
    """Nothing hostile in Cards' records, nor in any JSON body sent to it."""
    cards = box.company.cards
    held = [text for user in cards.users.values()
            for text in (user.firstname, user.lastname, user.email or "")]
    held += [group.name for group in cards.groups.values()]
    sent = [text for _, url, body in recorder.sent if "/v1/" in url for text in strings(body)]
    assert [t for t in held + sent if RAW.search(t)] == []


# -- users ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("hostile", "code"), HOSTILE_NAMES,
                         ids=[code for _, code in HOSTILE_NAMES])
def test_a_hostile_first_name_is_refused_with_the_code_point_and_never_sent(
    box: Sandbox, hostile: str, code: str
) -> None:
    target, control = creatable(box, 2)
    employees = box.company.lucca.employees
    employees[int(target)].given_name = hostile
    employees[int(control)].given_name = "Anaïs"  # accented: still imported
    recorder = Recorder()
    with clients(box, session=recorder.session) as both:
        importer = UserImporter(*both)
        row = next(r for r in importer.preview() if r.employee.id == target)
        report = importer.run([target, control])

    assert row.state is UserState.CANNOT_BE_IMPORTED
    assert row.reason is not None
    assert row.reason.startswith("the first name ") and code in row.reason
    outcome = {item.employee_id: item for item in report.items}
    assert outcome[target].outcome is SyncOutcome.SKIPPED
    assert outcome[target].reason == row.reason
    assert outcome[control].outcome is SyncOutcome.CREATED
    created = box.company.cards.users[outcome[control].cards_user_id or ""]
    assert created.firstname == "Anaïs"
    posts = [url for method, url, _ in recorder.sent if method == "POST" and "/v1/" in url]
    assert len(posts) == 1  # the control's account, nothing else
    assert_cards_holds_no_raw_text(box, recorder)


def test_a_hostile_last_name_is_refused_too(box: Sandbox) -> None:
    (target,) = creatable(box, 1)
    box.company.lucca.employees[int(target)].family_name = "Martin\u202d\u2067x"
    with clients(box) as both:
        report = UserImporter(*both).run([target])
    (item,) = report.items
    assert item.outcome is SyncOutcome.SKIPPED
    assert item.reason == ("the last name holds a bidirectional override (U+202D); "
                           "fix it in Lucca")
    assert writes(box) == []


def test_blanks_at_either_end_are_trimmed_not_refused(box: Sandbox) -> None:
    (target,) = creatable(box, 1)
    box.company.lucca.employees[int(target)].given_name = "\t Jeanne \n"
    with clients(box) as both:
        (item,) = UserImporter(*both).run([target]).items
    assert item.outcome is SyncOutcome.CREATED
    assert box.company.cards.users[item.cards_user_id or ""].firstname == "Jeanne"


@pytest.mark.parametrize(("email", "reason"), [
    ("jean\x07.martin@acme.fr", "the email holds a control character (U+0007)"),
    ("jean.martin@acme.fr\u202e", "the email holds a bidirectional override (U+202E)"),
    ("jean\u200b.martin@acme.fr", "the email holds a zero-width character (U+200B)"),
])
def test_an_email_with_controls_is_refused_with_a_clear_reason(
    box: Sandbox, email: str, reason: str
) -> None:
    (target,) = creatable(box, 1)
    box.company.lucca.employees[int(target)].email = email
    with clients(box) as both:
        (item,) = UserImporter(*both).run([target]).items
    assert item.outcome is SyncOutcome.SKIPPED
    assert item.reason == f"{reason}; fix it in Lucca"
    assert writes(box) == []


def test_names_real_people_have_are_created_exactly(box: Sandbox) -> None:
    targets = creatable(box, len(FINE_NAMES))
    employees = box.company.lucca.employees
    for target, name in zip(targets, FINE_NAMES, strict=True):
        employees[int(target)].given_name = name
    with clients(box) as both:
        report = UserImporter(*both).run(targets)
    assert [item.outcome for item in report.items] == [SyncOutcome.CREATED] * len(FINE_NAMES)
    cards = box.company.cards.users
    assert [cards[item.cards_user_id or ""].firstname for item in report.items] == FINE_NAMES


# -- departments ----------------------------------------------------------------------------


def populated_departments(box: Sandbox) -> list[int]:
    """Departments with at least one considered employee, in id order."""
    return sorted({department_of(box, employee_id) for employee_id in considered(box)})


@pytest.mark.parametrize(("name", "reason"), [
    ("Ventes\u202e", "its name holds a bidirectional override (U+202E)"),
    ("R&D\x1b[2J", "its name holds a control character (U+001B, escape)"),
    ("\u200b\u200b", "its name holds a zero-width character (U+200B)"),
    ("\u3164\u3164", "its name has no visible character (only U+3164)"),
])
def test_a_hostile_department_name_never_becomes_a_group(
    box: Sandbox, name: str, reason: str
) -> None:
    department = populated_departments(box)[0]
    box.company.lucca.departments[department].name = name
    groups_before = {g.name for g in box.company.cards.groups.values()}
    box.cards.log.clear()
    recorder = Recorder()
    with clients(box, session=recorder.session) as both:
        importer = DepartmentImporter(*both)
        row = next(r for r in importer.preview() if r.department.id == str(department))
        report = importer.run([str(department)])

    assert row.reason == f"{reason}; fix it in Lucca"
    assert report.items and {item.outcome for item in report.items} == {SyncOutcome.SKIPPED}
    assert {item.reason for item in report.items} == {f"their department {row.reason}"}
    assert f"department {department} cannot become a group: {row.reason}" in report.notes
    assert writes(box) == []
    assert {g.name for g in box.company.cards.groups.values()} == groups_before
    assert_cards_holds_no_raw_text(box, recorder)


def test_an_accented_department_name_still_becomes_a_group(box: Sandbox) -> None:
    department = populated_departments(box)[0]
    name = "Équipe Île-de-France — Ventes & Marketing"
    box.company.lucca.departments[department].name = name
    with clients(box) as both:
        report = DepartmentImporter(*both).run([str(department)])
    assert SyncOutcome.CREATED in {item.outcome for item in report.items}
    assert name in {g.name for g in box.company.cards.groups.values()}


# -- the CLI --------------------------------------------------------------------------------


def use_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, info: dict[str, str]) -> None:
    """Point the CLI's LUCCA_*/CARDS_* variables at ``info``; work in ``tmp_path``."""
    for name in list(os.environ):
        if name.startswith(("LUCCA_", "CARDS_")):
            monkeypatch.delenv(name)
    for name, value in info.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


def sandbox_settings(box: Sandbox) -> dict[str, str]:
    info = box.connection_info()
    return {"LUCCA_URL": info["lucca_url"], "LUCCA_TOKEN_URL": info["token_url"],
            "LUCCA_CLIENT_ID": info["client_id"], "LUCCA_CLIENT_SECRET": info["client_secret"],
            "LUCCA_REQUESTS_PER_MINUTE": "0", "CARDS_URL": info["cards_url"],
            "CARDS_TENANT": info["cards_tenant"], "CARDS_API_KEY": info["cards_api_key"],
            "CARDS_REQUESTS_PER_MINUTE": "0"}


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run ``lucca-cards ARGV`` in process; return the status and both outputs."""
    out, err = io.StringIO(), io.StringIO()
    status = _cli_sync.run(build_parser().parse_args(list(argv)), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def hostile_box(box: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sandbox:
    """The sandbox with every hostile first name and a hostile department, for the CLI."""
    targets = creatable(box, len(HOSTILE_NAMES))
    employees = box.company.lucca.employees
    for target, (name, _) in zip(targets, HOSTILE_NAMES, strict=True):
        employees[int(target)].given_name = name
    box.company.lucca.departments[populated_departments(box)[0]].name = "Ventes\u202e\x1b[2J"
    use_settings(monkeypatch, tmp_path, sandbox_settings(box))
    return box


@pytest.mark.parametrize("argv", [
    ("users", "preview"),
    ("users", "import", "--all", "--dry-run"),
    ("users", "import", "--all"),
    ("departments", "preview"),
    ("departments", "import", "--all", "--dry-run"),
], ids=" ".join)
def test_the_cli_never_prints_raw_controls(hostile_box: Sandbox, argv: tuple[str, ...]) -> None:
    status, out, err = run_cli(*argv)
    assert status == 0, err
    # The progress bar (stderr) redraws itself with CR: that one is ours, not data.
    assert RAW.findall(out + err.replace("\r", "")) == []
    assert "\\x1b" in out  # shown escaped, not dropped: the admin sees what to fix
    assert "\\u202e" in out
    assert "Zoé" in out or argv[0] == "departments"  # accents stay readable


@pytest.mark.parametrize("argv", [
    ("users", "preview"),
    ("users", "import", "--all", "--dry-run"),
    ("departments", "preview"),
], ids=" ".join)
def test_the_cli_json_escapes_controls_and_keeps_the_exact_data(
    hostile_box: Sandbox, argv: tuple[str, ...]
) -> None:
    status, out, err = run_cli(*argv, "--json")
    assert status == 0, err
    assert RAW.findall(out) == []
    data = json.loads(out)  # still valid JSON …
    texts = set(strings(data))
    if argv[0] == "users":  # … that decodes to the names exactly as Lucca holds them
        for hostile, _ in HOSTILE_NAMES:
            assert any(text.startswith(f"{hostile} ") for text in texts), hostile
    else:
        assert "Ventes\u202e\x1b[2J" in texts


def test_a_server_message_echoing_controls_is_printed_escaped(
    docserver: DocServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hostile = "no such client \x1b]0;owned\x07 \u202eevil\x9b2J\nforged line"
    docserver.route("POST", "/token", {"error": "invalid_client", "error_description": hostile},
                    status=401)
    use_settings(monkeypatch, tmp_path, {
        "LUCCA_URL": docserver.url, "LUCCA_TOKEN_URL": f"{docserver.url}/token",
        "LUCCA_CLIENT_ID": "id", "LUCCA_CLIENT_SECRET": f"{SECRET_MARK}-client",
        "LUCCA_REQUESTS_PER_MINUTE": "0", "CARDS_URL": f"{docserver.url}/v1",
        "CARDS_TENANT": "acme", "CARDS_API_KEY": f"{SECRET_MARK}-key",
        "CARDS_REQUESTS_PER_MINUTE": "0"})

    status, out, err = run_cli("users", "preview")

    assert status == 1
    assert out == ""
    assert RAW.findall(err) == []
    assert err.count("\n") == 1  # the server's newline did not forge a second line
    assert "\\x1b]0;owned\\x07 \\u202eevil\\x9b2J\\nforged line" in err
    assert SECRET_MARK not in err


def test_the_demo_prints_hostile_names_escaped() -> None:
    from lucca_cards.cli._demo import run_demo

    box = sandbox(employees=40, departments=6)
    lucca = box.company.lucca
    first = min(lucca.employees)  # the tour lists the first employees of the sweep
    lucca.employees[first].given_name = "Jean\x1b[2J\u202eX"
    for department in lucca.departments.values():
        department.name = f"{department.name}\u2066\x07"
    out = io.StringIO()

    assert run_demo(sandbox=box, out=out) == 0

    text = out.getvalue()
    assert RAW.findall(text) == []
    assert "Jean\\x1b[2J\\u202eX" in text
    assert "\\u2066\\x07" in text
