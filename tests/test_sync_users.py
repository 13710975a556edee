"""``UserImporter`` end to end against the sandbox, over real sockets.

Every row state and reason, every edge case the generator makes, the calls made (one
sweep of each side, one ``POST`` per new account), idempotency, subsets, options, dry run,
progress and the link store, all checked against the sandbox's records and request logs.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from lucca_cards import (
    CardsClient,
    ConnectionMode,
    DepartmentImporter,
    LinkStore,
    LuccaOAuthClient,
    SyncOutcome,
    UserImporter,
    UserState,
)
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox._cards_seed import cards_accepts_email, normalise_email
from lucca_cards.sandbox._model import CardsUser
from sync_support import (
    Recorder,
    accounts_per_email,
    clients,
    considered,
    sandbox,
    users_copy,
    writes,
)

Clients = tuple[LuccaOAuthClient, CardsClient]


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with sandbox() as running:
        yield running


@pytest.fixture
def both(box: Sandbox) -> Iterator[Clients]:
    with clients(box) as made:
        yield made


def edge_cases(box: Sandbox) -> dict[str, set[str]]:
    """The considered employees of each edge case, found from the sandbox's records."""
    ids = considered(box)
    people = [e for e in box.company.lucca.employees.values() if str(e.id) in ids]
    keys = Counter(normalise_email(e.email) for e in people if e.email)
    accounts = {normalise_email(u.email or "") for u in box.company.cards.users.values()}
    cases: dict[str, set[str]] = {name: set() for name in (
        "no_email", "shared", "rejected", "long_name", "messy", "existing")}
    for e in people:
        key = normalise_email(e.email) if e.email else None
        case = ("no_email" if key is None else "shared" if keys[key] > 1
                else "rejected" if not cards_accepts_email(key)
                else "long_name" if max(len(e.given_name), len(e.family_name)) > 190
                else "messy" if e.email != key else "existing" if key in accounts else None)
        if case is not None:
            cases[case].add(str(e.id))
    assert all(cases.values()), cases  # the generator makes every case
    shared = {box.company.lucca.employees[int(i)].email for i in cases["shared"]}
    assert len(shared) == len(cases["shared"]) == 2  # one address, in two cases
    return cases


def twin_account(box: Sandbox, employee_id: str) -> CardsUser:
    """Give the employee's email a second Cards account (upper case), as old data may."""
    email = box.company.lucca.employees[int(employee_id)].email or ""
    twin = CardsUser(id="twin-account", firstname="Old", lastname="Account",
                     email=email.upper())
    box.company.cards.users[twin.id] = twin
    return twin


def test_preview_gives_every_state_and_every_reason(box: Sandbox, both: Clients) -> None:
    cases = edge_cases(box)
    twinned, linked_first, *_ = sorted(cases["existing"])
    twin_account(box, twinned)
    importer = UserImporter(*both)
    assert importer.run(employee_ids=[linked_first]).counts()["linked"] == 1

    rows = {row.employee.id: row for row in importer.preview()}

    assert rows.keys() == considered(box)
    reasons = {
        "no_email": "no professional email in Lucca",
        "shared": "is also the email of another employee",
        "rejected": "is not one Cards accepts",
        "long_name": "characters; Cards accepts 190 at most",
    }
    for case, reason in reasons.items():
        for employee_id in cases[case]:
            row = rows.pop(employee_id)
            assert row.state is UserState.CANNOT_BE_IMPORTED
            assert row.reason is not None
            assert reason in row.reason
            assert row.cards_user is None
    twin = rows.pop(twinned)
    assert twin.state is UserState.CANNOT_BE_IMPORTED
    assert twin.reason == f"2 Cards accounts have the email {twin.email!r}"
    assert rows.pop(linked_first).state is UserState.ALREADY_LINKED
    for employee_id in cases["messy"] | cases["existing"] - {twinned, linked_first}:
        row = rows.pop(employee_id)
        assert row.state is UserState.WILL_BE_LINKED
        assert row.cards_user is not None
        assert row.cards_user.email == row.email == normalise_email(row.employee.email or "")
    assert rows
    assert {row.state for row in rows.values()} == {UserState.WILL_BE_CREATED}
    assert all(row.cards_user is None and row.reason is None for row in rows.values())


def test_messy_email_links_to_the_lower_case_account(box: Sandbox, both: Clients) -> None:
    messy = edge_cases(box)["messy"]
    accounts = {normalise_email(u.email or ""): u.id for u in box.company.cards.users.values()}

    report = UserImporter(*both).run(employee_ids=sorted(messy))

    for item in report.items:
        assert item.outcome is SyncOutcome.LINKED
        assert item.email != normalise_email(item.email or "")  # as Lucca holds it
        assert item.cards_user_id == accounts[normalise_email(item.email or "")]
    assert writes(box) == []


def test_import_reads_each_side_once_and_creates_only_the_missing(box: Sandbox) -> None:
    recorder = Recorder()
    before = users_copy(box)
    with clients(box, session=recorder.session) as both:
        importer = UserImporter(*both)
        plan = Counter(row.state for row in importer.preview())
        box.lucca.log.clear()
        box.cards.log.clear()
        recorder.sent.clear()
        report = importer.run()

    counts = report.counts()
    assert counts == {"created": plan[UserState.WILL_BE_CREATED],
                      "linked": plan[UserState.WILL_BE_LINKED], "added_to_group": 0,
                      "updated": 0, "unchanged": 0, "deferred": 0, "offboarded": 0,
                      "reported": 0, "held": 0,
                      "skipped": plan[UserState.CANNOT_BE_IMPORTED], "failed": 0}
    pages = math.ceil(len(considered(box)) / 100)
    assert box.lucca.log.counts() == {"GET /lucca-api/employees": pages}
    assert box.cards.log.counts() == {"GET /v1/users": 1, "POST /v1/users": counts["created"]}
    queries = [parse_qs(urlsplit(url).query) for method, url, _ in recorder.sent
               if method == "GET"]
    assert [q["limit"] for q in queries if "limit" in q] == [["100"]] * pages
    assert [q["paginate"] for q in queries if "paginate" in q] == [["500"]]
    # Existing accounts are linked, never modified; each new one has the employee's data.
    after = box.company.cards.users
    assert {key: after[key] for key in before} == before
    created = {after[i.cards_user_id or ""].email: i for i in report.of(SyncOutcome.CREATED)}
    assert len(after) == len(before) + len(created)
    for email, item in created.items():
        employee = box.company.lucca.employees[int(item.employee_id)]
        assert email == normalise_email(employee.email or "")
        assert item.name == f"{employee.given_name} {employee.family_name}"
    posted = {body["email"] for body in recorder.bodies("POST")}
    assert posted == set(created)
    assert not posted & {normalise_email(u.email or "") for u in before.values()}


def test_second_run_writes_nothing(box: Sandbox, both: Clients) -> None:
    importer = UserImporter(*both)
    first = importer.run()
    box.cards.log.clear()

    second = importer.run()

    assert writes(box) == []
    assert second.writes == 0
    importable = len(first.items) - first.counts()["skipped"]
    assert second.counts() == {**dict.fromkeys(second.counts(), 0), "unchanged": importable,
                               "skipped": first.counts()["skipped"]}
    states = Counter(row.state for row in importer.preview())
    assert states == {UserState.ALREADY_LINKED: importable,
                      UserState.CANNOT_BE_IMPORTED: first.counts()["skipped"]}
    assert max(accounts_per_email(box).values()) == 1


def test_deactivated_employees_are_left_out_unless_asked(box: Sandbox, both: Clients) -> None:
    gone = considered(box, ("deactivated",))
    assert gone
    assert not gone & {row.employee.id for row in UserImporter(*both).preview()}

    everyone = UserImporter(*both, statuses=("active", "upcoming", "deactivated"))

    assert {row.employee.id for row in everyone.preview()} == {
        str(i) for i in box.company.lucca.employees}
    report = everyone.run(employee_ids=sorted(gone))
    assert {i.employee_id for i in report.items} == gone
    assert report.counts()["created"] > 0
    assert report.of(SyncOutcome.CREATED, SyncOutcome.LINKED, SyncOutcome.SKIPPED) == report.items


def test_a_subset_by_str_or_int_id_and_unknown_ids_skipped(box: Sandbox, both: Clients) -> None:
    importer = UserImporter(*both)
    new = sorted(r.employee.id for r in importer.preview()
                 if r.state is UserState.WILL_BE_CREATED)[:3]
    gone = min(considered(box, ("deactivated",)))

    report = importer.run(employee_ids=[int(new[0]), new[1], new[2], new[1], "999999", int(gone)])

    assert [(i.employee_id, i.outcome) for i in report.items] == [
        (new[0], SyncOutcome.CREATED), (new[1], SyncOutcome.CREATED),
        (new[2], SyncOutcome.CREATED), ("999999", SyncOutcome.SKIPPED),
        (gone, SyncOutcome.SKIPPED)]
    assert [item.reason for item in report.items[3:]] == [
        "not found in Lucca",
        "is deactivated in Lucca: this import considers active and upcoming employees"]
    assert box.cards.log.counts()["POST /v1/users"] == 3
    assert report.ok


@pytest.mark.parametrize("mode", [ConnectionMode.SSO, "sso", "password"])
def test_notify_and_connection_mode_reach_cards(
    box: Sandbox, both: Clients, mode: ConnectionMode | str
) -> None:
    importer = UserImporter(*both)
    new = sorted(r.employee.id for r in importer.preview()
                 if r.state is UserState.WILL_BE_CREATED)
    notified, quiet = new[:2], new[2:4]

    loud = importer.run(employee_ids=notified, notify=True, connection_mode=mode)
    calm = importer.run(employee_ids=quiet)

    users = box.company.cards.users
    invited = [users[i.cards_user_id or ""] for i in loud.items]
    assert [m["email"] for m in box.cards.outbox] == [u.email for u in invited]
    assert {u.source for u in invited} == {ConnectionMode(mode).value}
    assert {users[i.cards_user_id or ""].source for i in calm.items} == {"app"}


def test_dry_run_writes_nothing_and_is_the_exact_plan(box: Sandbox, both: Clients) -> None:
    importer = UserImporter(*both)
    before = users_copy(box)

    dry = importer.run(dry_run=True)

    assert dry.dry_run
    assert writes(box) == []
    assert box.company.cards.users == before
    assert not box.cards.outbox
    assert UserState.ALREADY_LINKED not in {row.state for row in importer.preview()}
    real = importer.run(notify=True)
    assert not real.dry_run
    assert [(i.employee_id, i.outcome, i.reason) for i in dry.items] == [
        (i.employee_id, i.outcome, i.reason) for i in real.items]
    assert dry.counts() == real.counts()
    assert len(writes(box)) == real.writes > 0


def test_progress_is_called_after_each_employee(box: Sandbox, both: Clients) -> None:
    calls: list[tuple[int, int]] = []

    report = UserImporter(*both).run(progress=lambda done, total: calls.append((done, total)))

    total = len(report.items)
    assert total == len(considered(box))
    assert calls == [(done, total) for done in range(1, total + 1)]


def test_a_link_store_file_makes_links_survive(box: Sandbox, both: Clients,
                                               tmp_path: Path) -> None:
    path = tmp_path / "links.sqlite"
    with LinkStore(path) as links:
        report = UserImporter(*both, links=links).run()
    made = {i.employee_id: i.cards_user_id for i in report.of(SyncOutcome.CREATED,
                                                            SyncOutcome.LINKED)}

    with LinkStore(path) as links:
        assert links.all() == made
        rows = UserImporter(*both, links=links).preview()
    states = {row.employee.id: row.state for row in rows}
    assert {states[i] for i in made} == {UserState.ALREADY_LINKED}
    # Without the store, the same accounts are found again by email: linked, not created.
    fresh = Counter(row.state for row in UserImporter(*both).preview())
    assert fresh[UserState.WILL_BE_LINKED] == len(made)
    assert fresh[UserState.WILL_BE_CREATED] == 0


def test_a_stale_link_creates_the_account_again(box: Sandbox, both: Clients,
                                                tmp_path: Path) -> None:
    lucca, cards = both
    with LinkStore(tmp_path / "links.sqlite") as links:
        importer = UserImporter(lucca, cards, links=links)
        first = importer.run().of(SyncOutcome.CREATED)[0]
        cards.users.delete(first.cards_user_id or "")
        row = next(r for r in importer.preview() if r.employee.id == first.employee_id)
        assert row.state is UserState.WILL_BE_CREATED

        again = importer.run(employee_ids=[first.employee_id]).items[0]

        assert again.outcome is SyncOutcome.CREATED
        assert again.cards_user_id not in (None, first.cards_user_id)
        assert links.get(first.employee_id) == again.cards_user_id
    assert max(accounts_per_email(box).values()) == 1


def test_a_refused_account_fails_alone_and_a_rerun_links_it(box: Sandbox, both: Clients) -> None:
    """Someone creates the account in Cards during the import: Cards refuses the duplicate."""
    lucca, cards = both
    importer = UserImporter(lucca, cards)
    new = [r for r in importer.preview() if r.state is UserState.WILL_BE_CREATED]
    racer = new[-1]

    def meanwhile(done: int, total: int) -> None:
        if done == 1:
            cards.users.create("Self", "Registered", racer.employee.email or "")

    report = importer.run(progress=meanwhile)

    assert [(i.employee_id, i.outcome) for i in report.failed] == [
        (racer.employee.id, SyncOutcome.FAILED)]
    assert "email" in (report.failed[0].reason or "")
    assert report.counts()["created"] == len(new) - 1
    rerun = importer.run()
    assert rerun.ok
    assert [i.employee_id for i in rerun.of(SyncOutcome.LINKED)] == [racer.employee.id]
    assert max(accounts_per_email(box).values()) == 1


def test_emails_match_and_are_sent_trimmed_and_lower_case(box: Sandbox, both: Clients) -> None:
    cases = edge_cases(box)
    shouting, *_ = sorted(cases["existing"])
    employees = box.company.lucca.employees
    account = next(u for u in box.company.cards.users.values()
                   if u.email == employees[int(shouting)].email)
    account.email = (account.email or "").upper()  # Cards holds it in capitals
    importer = UserImporter(*both)
    newcomer = next(r.employee.id for r in importer.preview()
                    if r.state is UserState.WILL_BE_CREATED)
    employees[int(newcomer)].email = "  Nouvelle.Recrue@ACME.fr "

    report = importer.run(employee_ids=[shouting, newcomer])

    assert [(i.outcome, i.cards_user_id is not None) for i in report.items] == [
        (SyncOutcome.LINKED, True), (SyncOutcome.CREATED, True)]
    assert report.items[0].cards_user_id == account.id
    created = box.company.cards.users[report.items[1].cards_user_id or ""]
    assert created.email == "nouvelle.recrue@acme.fr"
    assert account.email == (employees[int(shouting)].email or "").upper()


@pytest.mark.parametrize("kind", [UserImporter, DepartmentImporter])
def test_a_rerun_writes_no_link_that_did_not_change(
    box: Sandbox, both: Clients, tmp_path: Path,
    kind: type[UserImporter] | type[DepartmentImporter],
) -> None:
    """Each link is stamped with the store's clock when written: a rewrite would show."""
    ticks = iter(range(1, 1_000_000))

    def clock() -> dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=next(ticks))

    path = tmp_path / "state.sqlite"
    with LinkStore(path, clock=clock) as links:
        assert kind(*both, links=links).run().ok
    written = stamps(path)
    moved = next(iter(written))  # one link the rerun must write: its email changed there
    with sqlite3.connect(path) as db:
        db.execute("UPDATE links SET email = 'old@acme.fr' WHERE employee_id = ?", (moved,))

    with LinkStore(path, clock=clock) as links:
        assert kind(*both, links=links).run().ok

    again = stamps(path)
    assert len(written) > 50
    assert {e: s for e, s in again.items() if e != moved} == {
        e: s for e, s in written.items() if e != moved}
    assert again[moved] != written[moved]


def stamps(path: Path) -> dict[str, str]:
    """Return each link's ``linked_at`` (when it was last written)."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT employee_id, linked_at FROM links"))
