"""``lucca-cards events process|list`` and ``sync --only lifecycle``, in process, on a sandbox.

Settings come from the environment; the state is a real file in the working directory,
whose inbox holds the events the sandbox's Lucca emitted for HR changes made through it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lucca_cards import UserImporter
from lucca_cards.lucca.webhooks import parse
from lucca_cards.sandbox import Sandbox
from lucca_cards.state import Database, LinkStore, LuccaInbox
from sync_support import clients, memberships
from test_cli_sync import cli, cli_json, company, isolated_env, settings_env

STATE = "lucca-cards.sqlite"


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    """The sandbox, its settings in the environment, everyone imported into a state file."""
    for served in company(60):
        isolated_env(monkeypatch, tmp_path, settings_env(served))
        with clients(served) as (lucca, cards), LinkStore(tmp_path / STATE) as links:
            UserImporter(lucca, cards, links=links).run()
        served.cards.log.clear()
        yield served


@pytest.fixture
def state(box: Sandbox, tmp_path: Path) -> Path:
    """The state file, in the working directory."""
    return tmp_path / STATE


def received(path: Path, events: list[dict[str, object]]) -> None:
    """Store the sandbox's events as the receiver would (parsed from their JSON)."""
    with Database(path) as db:
        inbox = LuccaInbox(db)
        for event in events:
            parsed = parse(json.dumps(event))
            inbox.store(source=parsed.source, event_id=parsed.id, topic=parsed.topic,
                        occurred_at=parsed.occurred_at, employee_id=parsed.employee_id,
                        payload="{}")


def test_events_process_applies_a_hire_and_list_shows_it_applied(
        box: Sandbox, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(box.lucca.events.events())
    box.lucca.hire(given_name="Nina", family_name="Nouvelle", email="nina@acme.fr",
                   department_id=2)
    received(state, box.lucca.events.events()[before:])
    status, out, _ = cli(capsys, "events", "list")
    assert status == 0 and out.startswith("inbox: 3 pending")
    status, out, _ = cli(capsys, "events", "process", "--dry-run")
    assert status == 0 and "dry run of lifecycle sync: 1 created" in out
    assert "nina@acme.fr" not in memberships(box)
    status, report = cli_json(capsys, "events", "process")
    assert status == 0 and report["counts"]["created"] == 1
    assert "nina@acme.fr" in memberships(box)
    status, listing = cli_json(capsys, "events", "list", "--status", "applied")
    assert status == 0 and len(listing["events"]) == 3 and listing["counts"]["pending"] == 0


def test_a_held_offboarding_exits_1_until_forced(
        box: Sandbox, state: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LUCCA_CARDS_LEAVERS", "delete")  # the import created the accounts
    monkeypatch.setenv("LUCCA_CARDS_MAX_OFFBOARDED", "1")
    monkeypatch.setenv("LUCCA_CARDS_MAX_OFFBOARDED_SHARE", "0")
    with LinkStore(state) as links:
        leavers = sorted(links.all(), key=int)[:2]
        users = {links.get(employee) for employee in leavers}
    before = len(box.lucca.events.events())
    for employee in leavers:
        box.lucca.delete_employee(int(employee))
    received(state, box.lucca.events.events()[before:])
    status, out, _ = cli(capsys, "events", "process")
    assert status == 1 and "safety stop: 2 accounts would be offboarded" in out
    assert out.count("\n  held ") == 2
    assert [e for e in box.cards.log.entries() if e["method"] != "GET"] == []
    status, listing = cli_json(capsys, "events", "list", "--status", "held")
    assert len(listing["events"]) == 2
    status, report = cli_json(capsys, "events", "process", "--force")
    assert status == 0 and report["counts"]["offboarded"] == 2
    assert not users & set(box.company.cards.users)  # both accounts deleted


def test_sync_only_lifecycle_applies_a_move_and_writes_nothing_the_second_time(
        box: Sandbox, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lucca_cards import DepartmentImporter

    with clients(box) as (lucca, cards), LinkStore(state) as links:
        DepartmentImporter(lucca, cards, links=links).run(department_ids=["2", "3"])
        mover = next(i for i, link in links.links().items() if link.department_id == "2")
    box.lucca.move(int(mover), 3)
    status, report = cli_json(capsys, "sync", "--only", "lifecycle")
    assert status == 0 and [p["operation"] for p in report["parts"]] == ["lifecycle"]
    (item,) = [i for i in report["parts"][0]["items"] if i["employee_id"] == mover]
    assert item["outcome"] == "updated" and "left the group" in item["reason"]
    box.cards.log.clear()
    status, again = cli_json(capsys, "sync", "--only", "lifecycle")
    assert status == 0 and again["parts"][0]["counts"]["updated"] == 0
    assert [e for e in box.cards.log.entries() if e["method"] != "GET"] == []


def test_events_list_without_a_database_creates_none(
        state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.sqlite"
    status, out, _ = cli(capsys, "events", "list", "--state", str(missing))
    assert (status, out) == (0, "inbox: empty\n") and not missing.exists()


def test_events_list_shows_the_newest_and_prune_deletes_old_applied_events(
        box: Sandbox, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(box.lucca.events.events())
    for n in range(3):
        box.lucca.hire(given_name="Nina", family_name=f"Numero {n}",
                       email=f"nina{n}@acme.fr", department_id=2)
    received(state, box.lucca.events.events()[before:])
    status, out, _ = cli(capsys, "events", "list", "--newest", "2")
    assert status == 0 and out.startswith("inbox: 9 pending (the 2 newest shown)")
    assert len(out.splitlines()) == 3 and "job-position.created" in out.splitlines()[-1]
    assert cli_json(capsys, "events", "process")[0] == 0
    status, pruned = cli_json(capsys, "events", "prune", "--days", "1")
    assert status == 0 and pruned["deleted"] == 0  # applied just now: kept
    with Database(state) as db:
        inbox = LuccaInbox(db)
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
        assert inbox.prune(later) == 9 and inbox.counts()["applied"] == 0
