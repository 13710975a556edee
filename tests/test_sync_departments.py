"""``DepartmentImporter`` end to end against the sandbox, over real sockets.

Preview rows against the sandbox's company; the groups and memberships the import leaves
in Cards (other groups always kept, the union sent); same-named and empty departments;
a group that already exists reused; subsets, dry run, reruns and the calls made.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest

from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LinkStore,
    LuccaOAuthClient,
    SyncOutcome,
    UserImporter,
    UserState,
)
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox._cards_seed import normalise_email
from sync_support import (
    Recorder,
    accounts_per_email,
    clients,
    considered,
    department_of,
    memberships,
    sandbox,
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


def importable(both: Clients) -> dict[str, str]:
    """Employee id → matching email, for every employee a user import can import."""
    return {row.employee.id: row.email or "" for row in UserImporter(*both).preview()
            if row.state is not UserState.CANNOT_BE_IMPORTED}


def members_by_department(box: Sandbox) -> dict[int, set[str]]:
    """Department id → ids of the considered employees who work there."""
    members: dict[int, set[str]] = defaultdict(set)
    for employee_id in considered(box):
        members[department_of(box, employee_id)].add(employee_id)
    return members


def groups_named(box: Sandbox, name: str) -> list[str]:
    """Return the ids of the Cards groups called ``name``."""
    return [g.id for g in box.company.cards.groups.values() if g.name == name]


def test_preview_rows_match_the_company(box: Sandbox, both: Clients) -> None:
    departments = box.company.lucca.departments
    members = members_by_department(box)
    emails = importable(both)
    groups_of = memberships(box)
    names = Counter(d.name for d in departments.values())

    rows = DepartmentImporter(*both).preview()

    assert [int(row.department.id) for row in rows] == sorted(departments)
    for row in rows:
        truth = departments[int(row.department.id)]
        mine = members[truth.id]
        assert (row.name, row.members, row.reason) == (truth.name, len(mine), None)
        assert row.group_exists == bool(groups_named(box, truth.name))
        assert row.missing == sum(1 for e in mine & emails.keys()
                                  if truth.name not in groups_of.get(emails[e], []))
        assert {int(i) for i in row.same_name} == {
            d.id for d in departments.values() if d.name == truth.name} - {truth.id}
    # The generator's department cases are all there.
    assert any(row.same_name for row in rows)
    assert any(row.members == 0 for row in rows)
    assert any(row.group_exists and 0 < row.missing < row.members for row in rows)
    assert max(names.values()) == 2


def test_import_makes_one_group_per_name_with_every_importable_member(
    box: Sandbox, both: Clients
) -> None:
    departments = box.company.lucca.departments
    members = members_by_department(box)
    emails = importable(both)
    existing = {g.name: g.id for g in box.company.cards.groups.values()}
    box.lucca.log.clear()
    box.cards.log.clear()

    report = DepartmentImporter(*both).run()

    assert {i.employee_id for i in report.items} == considered(box)
    # One sweep of employees gives every department's members: no call per department.
    assert box.lucca.log.counts() == {
        "GET /lucca-api/employees": math.ceil(len(considered(box)) / 100),
        "GET /lucca-api/departments": 1}
    groups_of = memberships(box)
    by_name: dict[str, set[str]] = defaultdict(set)
    for department_id, ids in members.items():
        by_name[departments[department_id].name] |= ids
    for name, ids in by_name.items():
        wanted = ids & emails.keys()
        groups = groups_named(box, name)
        assert len(groups) == 1
        assert name not in existing or groups == [existing[name]]
        assert {e for e in wanted if name in groups_of[emails[e]]} == wanted
    for item in report.items:
        department = departments[department_of(box, item.employee_id)]
        assert item.group == department.name
        assert (item.outcome is SyncOutcome.SKIPPED) == (item.employee_id not in emails)
    counts = box.cards.log.counts()
    assert counts.get("POST /v1/users", 0) == report.counts()["created"] > 0
    puts = sum(n for key, n in counts.items() if key.startswith("PUT /v1/users/"))
    assert puts == report.counts()["added_to_group"] > 0
    # Beyond the two sweeps, at most one fresh read of a user per membership change.
    reads = sum(n for key, n in counts.items() if key.startswith("GET /v1/users/"))
    assert reads <= puts
    assert counts["GET /v1/users"] == counts["GET /v1/groups"] == 1
    assert all(200 <= entry["status"] < 300 for entry in writes(box))
    assert max(accounts_per_email(box).values()) == 1


def test_same_named_departments_share_a_group_and_the_report_says_so(
    box: Sandbox, both: Clients
) -> None:
    twins = [d for d in box.company.lucca.departments.values()
             if sum(o.name == d.name for o in box.company.lucca.departments.values()) == 2]
    assert len(twins) == 2

    report = DepartmentImporter(*both).run()

    name = twins[0].name
    (group,) = groups_named(box, name)
    users = box.company.cards.users
    for department in twins:
        placed = [i for i in report.items if department_of(box, i.employee_id) == department.id
                  and i.outcome is not SyncOutcome.SKIPPED]
        assert placed
        assert all(group in users[i.cards_user_id or ""].group_ids for i in placed)
    assert (f"departments {twins[0].id}, {twins[1].id} are all named {name!r}: "
            "their members share one Cards group") in report.notes
    assert len(report.notes) == len(set(report.notes))


def test_empty_departments_get_a_note_and_no_group(box: Sandbox, both: Clients) -> None:
    members = members_by_department(box)
    empty = [d for d in box.company.lucca.departments.values() if not members[d.id]]
    assert empty

    report = DepartmentImporter(*both).run()

    for department in empty:
        assert groups_named(box, department.name) == []
        assert any(note.startswith(f"department {department.id} ({department.name}) has no "
                                   "employee to import") for note in report.notes)


def test_other_groups_are_kept_and_the_union_is_sent(box: Sandbox) -> None:
    recorder = Recorder()
    before_ids = {u.id: list(u.group_ids) for u in box.company.cards.users.values()}
    before = memberships(box)
    assert sum(len(groups) >= 2 for groups in before.values()) >= 1

    with clients(box, session=recorder.session) as both:
        report = DepartmentImporter(*both).run()

    after = memberships(box)
    joined = {normalise_email(i.email or ""): i.group for i in report.items
              if i.outcome is SyncOutcome.ADDED_TO_GROUP}
    assert joined
    for email, groups in before.items():
        assert set(groups) <= set(after[email]), email
        assert set(after[email]) - set(groups) <= {joined.get(email)}
    puts = [(url.rsplit("/", 1)[-1], body) for method, url, body in recorder.sent
            if method == "PUT"]
    assert len(puts) == len(joined)
    for user_id, body in puts:
        assert set(body) == {"groups"}  # nothing else about the user is touched
        sent = [group.get("id") for group in body["groups"]]
        assert sent[:len(before_ids[user_id])] == before_ids[user_id]
        assert len(sent) == len(before_ids[user_id]) + 1


def test_an_existing_group_of_the_same_name_is_reused(box: Sandbox, both: Clients) -> None:
    names = {d.name for d in box.company.lucca.departments.values()}
    (group,) = [g for g in box.company.cards.groups.values() if g.name in names]
    first_members = {u.id for u in box.company.cards.users.values() if group.id in u.group_ids}
    assert first_members

    report = DepartmentImporter(*both).run()

    assert groups_named(box, group.name) == [group.id]
    holders = {u.id for u in box.company.cards.users.values() if group.id in u.group_ids}
    put_in = {i.cards_user_id for i in report.items if i.group == group.name
              and i.outcome is not SyncOutcome.SKIPPED}
    assert holders == first_members | put_in
    assert len(put_in) > len(first_members & put_in)


def test_rerun_writes_nothing_and_reads_employees_in_one_sweep(
    box: Sandbox, both: Clients
) -> None:
    importer = DepartmentImporter(*both)
    first = importer.run()
    box.lucca.log.clear()
    box.cards.log.clear()

    second = importer.run()

    assert writes(box) == []
    assert second.writes == 0
    assert second.counts()["unchanged"] == len(first.items) - first.counts()["skipped"]
    assert second.counts()["skipped"] == first.counts()["skipped"]
    assert second.notes == first.notes
    pages = math.ceil(len(considered(box)) / 100)
    assert box.lucca.log.counts() == {"GET /lucca-api/employees": pages,
                                      "GET /lucca-api/departments": 1}
    assert box.cards.log.counts() == {"GET /v1/users": 1, "GET /v1/groups": 1}
    rows = importer.preview()
    assert all(row.missing == 0 for row in rows)
    assert all(row.group_exists for row in rows if row.members)


def test_a_subset_of_departments(box: Sandbox, both: Clients) -> None:
    members = members_by_department(box)
    departments = box.company.lucca.departments
    unique = Counter(d.name for d in departments.values())
    chosen = [d.id for d in departments.values()
              if members[d.id] and unique[d.name] == 1 and not groups_named(box, d.name)][:2]
    groups_before = {g.name for g in box.company.cards.groups.values()}

    report = DepartmentImporter(*both).run(department_ids=[chosen[0], str(chosen[1]), "9999"])

    assert {i.employee_id for i in report.items} == members[chosen[0]] | members[chosen[1]]
    assert [i.group for i in report.items] == [
        departments[c].name for c in chosen for _ in members[c]]
    assert "department 9999 was not found in Lucca" in report.notes
    new_groups = {g.name for g in box.company.cards.groups.values()} - groups_before
    assert new_groups == {departments[c].name for c in chosen}


def test_dry_run_writes_nothing_and_is_the_exact_plan(box: Sandbox, both: Clients) -> None:
    importer = DepartmentImporter(*both)
    before = memberships(box)

    dry = importer.run(dry_run=True)

    assert dry.dry_run
    assert writes(box) == []
    assert memberships(box) == before
    real = importer.run()
    assert [(i.employee_id, i.outcome, i.reason, i.group) for i in dry.items] == [
        (i.employee_id, i.outcome, i.reason, i.group) for i in real.items]
    assert dry.notes == real.notes
    assert len(writes(box)) == real.writes > 0


def test_after_a_user_import_only_memberships_are_written(
    box: Sandbox, both: Clients
) -> None:
    links = LinkStore()
    users = UserImporter(*both, links=links).run()
    box.cards.log.clear()
    calls: list[tuple[int, int]] = []

    report = DepartmentImporter(*both, links=links).run(
        progress=lambda done, total: calls.append((done, total)))

    assert report.counts()["created"] == 0
    assert "POST /v1/users" not in box.cards.log.counts()
    imported = {i.employee_id for i in users.items if i.outcome is not SyncOutcome.SKIPPED}
    assert {i.employee_id for i in report.items
            if i.outcome in (SyncOutcome.ADDED_TO_GROUP, SyncOutcome.LINKED)} == imported
    assert calls == [(n, len(report.items)) for n in range(1, len(report.items) + 1)]


def test_a_department_name_cards_refuses_skips_its_members(
    box: Sandbox, both: Clients
) -> None:
    members = members_by_department(box)
    department = next(d for d in box.company.lucca.departments.values()
                      if members[d.id] and d.name != "Marketing")
    department.name = "Département " + "très " * 40  # more than the 190 Cards takes

    row = next(r for r in DepartmentImporter(*both).preview()
               if r.department.id == str(department.id))
    report = DepartmentImporter(*both).run(department_ids=[department.id])

    assert row.reason is not None
    assert "characters" in row.reason
    assert {i.outcome for i in report.items} == {SyncOutcome.SKIPPED}
    assert {i.employee_id for i in report.items} == members[department.id]
    assert all((i.reason or "").startswith("their department its name has") for i in report.items)
    assert report.notes == (f"department {department.id} cannot become a group: {row.reason}",)
    assert writes(box) == []


def test_notify_and_connection_mode_apply_to_created_accounts(
    box: Sandbox, both: Clients
) -> None:
    department = max(members_by_department(box).items(), key=lambda kv: len(kv[1]))[0]

    report = DepartmentImporter(*both).run(department_ids=[department], notify=True,
                                           connection_mode="sso")

    created = report.of(SyncOutcome.CREATED)
    assert created
    users = box.company.cards.users
    assert {m["user_id"] for m in box.cards.outbox} == {i.cards_user_id for i in created}
    assert {users[i.cards_user_id or ""].source for i in created} == {"sso"}


class _Clock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _back_office_meanwhile(box: Sandbox, both: Clients, clock: _Clock, elapsed: float):
    """Return the import's progress callback: at the first item, someone adds groups in
    Cards and ``elapsed`` seconds pass; and the accounts, and the one who also joins the
    group the import is about to put them in."""
    cards = both[1]
    departments = box.company.lucca.departments
    first = min(departments)
    existing = [r for r in UserImporter(*both).preview() if r.state is UserState.WILL_BE_LINKED]
    late = next(r for r in existing if department_of(box, r.employee.id) != first)
    late_group = departments[department_of(box, late.employee.id)].name

    def meanwhile(done: int, total: int) -> None:
        if done == 1:  # someone works in the Cards back-office during the import
            for row in existing:
                user = cards.users.get(row.cards_user.id if row.cards_user else "")
                extra = ["Comité RSE", late_group] if row is late else ["Comité RSE"]
                cards.users.update(user.id, groups=[*user.groups, *extra])
            clock.now += elapsed

    return meanwhile, existing, late, late_group


@pytest.mark.parametrize(("max_age", "elapsed"), [(0, 0), (300, 301)],
                         ids=["read-before-each-write", "older-than-max-age"])
def test_the_union_is_built_on_the_groups_of_the_moment(
    box: Sandbox, both: Clients, max_age: float, elapsed: float
) -> None:
    """Groups joined in Cards after the import read its users are kept, when the import
    reads each account before writing it, or once what it read is older than max_age."""
    clock = _Clock()
    meanwhile, existing, late, late_group = _back_office_meanwhile(box, both, clock, elapsed)
    box.cards.log.clear()

    report = DepartmentImporter(*both, memberships_max_age=max_age, clock=clock).run(
        progress=meanwhile)

    after = memberships(box)
    assert all("Comité RSE" in after[row.email or ""] for row in existing)
    (item,) = [i for i in report.items if i.employee_id == late.employee.id]
    assert item.outcome is SyncOutcome.LINKED
    assert late_group in after[late.email or ""]
    late_path = f"PUT /v1/users/{item.cards_user_id}"
    assert box.cards.log.counts()[late_path] == 1  # the back-office's, not the import's
    joins = len(report.of(SyncOutcome.ADDED_TO_GROUP))
    reads = sum(n for call, n in box.cards.log.counts().items()
                if call.startswith("GET /v1/users/"))
    pages = math.ceil(len(box.company.cards.users) / 500)
    # Each account to join read alone (the joins, and the late one, found in the group
    # already), or the pages of the sweep read once more; and the back-office's own
    # reads, one per account it changed.
    expected = joins + 1 + len(existing) if max_age == 0 else len(existing)
    assert reads == expected
    assert box.cards.log.counts()["GET /v1/users"] == (1 if max_age == 0 else 1 + pages)


def test_within_max_age_the_sweep_is_written_on_a_group_added_meanwhile_is_undone(
    box: Sandbox, both: Clients
) -> None:
    """The documented trade-off: PUT replaces the groups, and Cards has no conditional
    write, so a group given in Cards less than max_age before the write is lost."""
    clock = _Clock()
    meanwhile, existing, _, _ = _back_office_meanwhile(box, both, clock, elapsed=10)

    report = DepartmentImporter(*both, clock=clock).run(progress=meanwhile)

    after = memberships(box)
    joined = {i.email for i in report.of(SyncOutcome.ADDED_TO_GROUP)}
    undone = [r for r in existing if r.employee.email in joined]
    assert undone
    assert all("Comité RSE" not in after[row.email or ""] for row in undone)


def test_a_department_whose_members_all_cannot_be_imported_gets_a_note(
    box: Sandbox, both: Clients
) -> None:
    members = members_by_department(box)
    department = next(d for d, ids in members.items() if ids)
    for employee_id in members[department]:
        box.company.lucca.employees[int(employee_id)].email = None
    report = DepartmentImporter(*both).run(department_ids=[department])
    assert {item.outcome for item in report.items} == {SyncOutcome.SKIPPED}
    assert any(f"department {department} " in note and "cannot" in note
               for note in report.notes)
