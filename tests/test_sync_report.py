"""``SyncReport`` (counts, JSON, printing) and ``LinkStore`` (a SQLite file of links)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from lucca_cards import (
    DepartmentImporter,
    LinkStore,
    SyncItem,
    SyncOutcome,
    SyncReport,
    UserImporter,
)
from sync_support import clients, sandbox

NAME = "Zoé L\u2019Hôte"  # a typographic apostrophe, as Lucca names have


def item(outcome: SyncOutcome, number: int, **fields: str) -> SyncItem:
    return SyncItem(employee_id=str(number), name=f"{NAME} {number}",
                    email=f"zoe{number}@acme.fr", outcome=outcome, **fields)


ITEMS = (
    item(SyncOutcome.CREATED, 1, cards_user_id="u1", group="Marketing"),
    item(SyncOutcome.CREATED, 2, cards_user_id="u2"),
    item(SyncOutcome.LINKED, 3, cards_user_id="u3"),
    item(SyncOutcome.ADDED_TO_GROUP, 4, cards_user_id="u4", group="Achats"),
    item(SyncOutcome.UNCHANGED, 5, cards_user_id="u5"),
    item(SyncOutcome.SKIPPED, 6, reason="no professional email in Lucca"),
    item(SyncOutcome.FAILED, 7, reason="Cards API: POST /users answered 503"),
)
NOTES = ("departments 3, 4 are all named 'Marketing': their members share one Cards group",)


@pytest.fixture
def report() -> SyncReport:
    return SyncReport(operation="departments", dry_run=False, items=list(ITEMS), notes=NOTES)


def test_counts_name_every_outcome(report: SyncReport) -> None:
    assert report.counts() == {"created": 2, "linked": 1, "added_to_group": 1, "updated": 0,
                               "unchanged": 1, "deferred": 0, "offboarded": 0, "reported": 0,
                               "held": 0, "skipped": 1, "failed": 1}
    assert SyncReport(operation="users", dry_run=False, items=()).counts() == dict.fromkeys(
        (o.value for o in SyncOutcome), 0)
    assert isinstance(report.items, tuple)
    assert isinstance(report.notes, tuple)


def test_writes_failed_ok_and_of(report: SyncReport) -> None:
    assert report.writes == 3  # two creations, one membership
    assert report.failed == (ITEMS[6],)
    assert not report.ok
    assert report.of(SyncOutcome.LINKED, SyncOutcome.UNCHANGED) == (ITEMS[2], ITEMS[4])
    assert report.of() == ()
    calm = SyncReport(operation="users", dry_run=True, items=ITEMS[:6])
    assert calm.ok
    assert calm.failed == ()


def test_json_round_trips(report: SyncReport) -> None:
    text = report.to_json(indent=2)

    data = json.loads(text)
    assert data == report.to_dict()
    assert f"{NAME} 1" in text  # kept readable, not \\u-escaped
    assert data["operation"] == "departments"
    assert data["dry_run"] is False
    assert data["counts"] == report.counts()
    assert data["notes"] == list(NOTES)
    rebuilt = SyncReport(
        operation=data["operation"], dry_run=data["dry_run"], notes=data["notes"],
        items=[SyncItem(**{**i, "outcome": SyncOutcome(i["outcome"])}) for i in data["items"]])
    assert rebuilt == report
    assert data["items"][5] == {"employee_id": "6", "name": f"{NAME} 6",
                                "email": "zoe6@acme.fr", "outcome": "skipped",
                                "reason": "no professional email in Lucca",
                                "cards_user_id": None, "group": None}


def test_str_is_a_one_line_summary(report: SyncReport) -> None:
    assert str(report) == ("departments import: 2 created, 1 linked, 1 added to group, "
                           "1 unchanged, 1 skipped, 1 failed")
    dry = SyncReport(operation="users", dry_run=True, items=[ITEMS[0], ITEMS[5]])
    assert str(dry) == "dry run of users import: 1 created, 1 skipped"
    assert str(SyncReport(operation="users", dry_run=False, items=())) == (
        "users import: nothing to do")


def test_lines_list_items_then_notes_or_only_the_chosen_items(report: SyncReport) -> None:
    lines = report.lines()

    assert len(lines) == len(ITEMS) + len(NOTES)
    assert lines[0] == (f"created        {ITEMS[0].employee_id:<7} {NAME} 1 <zoe1@acme.fr> "
                        "-> Marketing")
    assert lines[5] == (f"skipped        {ITEMS[5].employee_id:<7} {NAME} 6 <zoe6@acme.fr>: "
                        "no professional email in Lucca")
    assert lines[-1] == f"note: {NOTES[0]}"
    chosen = report.lines([SyncOutcome.SKIPPED, SyncOutcome.FAILED])
    assert [line.split()[0] for line in chosen] == ["skipped", "failed"]  # no notes
    assert report.lines([]) == []
    nameless = SyncItem(employee_id="9", name="employee 9", email=None,
                        outcome=SyncOutcome.SKIPPED, reason="not found")
    messy = SyncItem(employee_id="8", name="Claire Dubois", email=" Claire.Dubois@acme.fr ",
                     outcome=SyncOutcome.LINKED, cards_user_id="u8")
    assert SyncReport(operation="users", dry_run=False, items=[nameless, messy]).lines() == [
        "skipped        9       employee 9: not found",
        "linked         8       Claire Dubois <Claire.Dubois@acme.fr>"]


def test_a_real_report_serialises_without_secrets() -> None:
    with sandbox() as box, clients(box) as both:
        users = UserImporter(*both).run()
        departments = DepartmentImporter(*both).run(dry_run=True)
        secrets = [v for k, v in box.connection_info().items()
                   if k in {"client_secret", "api_key", "cards_api_key", "webhook_secret"}]
    for report in (users, departments):
        text = report.to_json()
        assert json.loads(text)["counts"] == report.counts()
        assert sum(report.counts().values()) == len(report.items) > 0
        printed = "\n".join([str(report), *report.lines(), text])
        assert not [secret for secret in secrets if secret in printed]


# -- LinkStore -----------------------------------------------------------------------------


def test_links_survive_reopening_and_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "links.sqlite"
    with LinkStore(path) as links:
        links.record("416", "user-a", "jdoe@acme.fr")
        links.record("417", "user-b", "asmith@acme.fr")
        assert links.path == str(path)

    with LinkStore(str(path)) as links:
        assert links.all() == {"416": "user-a", "417": "user-b"}
        links.record("416", "user-c", "jdoe@acme.fr")
        assert links.get("416") == "user-c"
        assert links.get("999") is None

    with LinkStore(path) as links:
        assert links.all() == {"416": "user-c", "417": "user-b"}
        assert repr(links) == f"LinkStore({str(path)!r})"


def test_an_in_memory_store_is_its_own() -> None:
    first, second = LinkStore(), LinkStore()
    first.record("1", "u1", "a@acme.fr")
    assert second.all() == {}
    assert first.all() == {"1": "u1"}
    first.close()
    second.close()


def test_two_threads_can_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "links.sqlite"
    errors: list[BaseException] = []
    with LinkStore(path) as links:
        start = threading.Barrier(2)

        def write(prefix: str) -> None:
            try:
                start.wait()
                for number in range(300):
                    links.record(f"{prefix}{number}", f"user-{prefix}{number}", "x@acme.fr")
                    assert links.get(f"{prefix}{number}") == f"user-{prefix}{number}"
            except BaseException as error:  # reported below, on the main thread
                errors.append(error)

        threads = [threading.Thread(target=write, args=(prefix,)) for prefix in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    with LinkStore(path) as links:
        stored = links.all()
    assert len(stored) == 600
    assert stored["a299"] == "user-a299"
    assert stored["b0"] == "user-b0"
