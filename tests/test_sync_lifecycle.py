"""The life-cycle rules against the sandbox: hires, movers, email changes, leavers, safety."""

from __future__ import annotations

import pytest

from lifecycle_support import (
    add_group,
    change_email,
    come_back,
    hire,
    imported_world,
    leave,
    move,
)
from lucca_cards import SyncOutcome, UserImporter
from lucca_cards.sync.lifecycle import LifecycleSync
from sync_support import accounts_per_email, department_of, memberships, writes


def outcome(report, employee_id):  # type: ignore[no-untyped-def]
    (item,) = [i for i in report.items if i.employee_id == employee_id]
    return item


def test_a_hire_gets_an_account_in_their_departments_group_with_the_minimum_calls() -> None:
    with imported_world() as world:
        hired = hire(world.box, "nina.nouvelle@acme.fr", 2)
        report = world.sync().run([hired])
        item = outcome(report, hired)
        assert item.outcome is SyncOutcome.CREATED
        assert memberships(world.box)["nina.nouvelle@acme.fr"] == [world.group_name("2")]
        assert world.links.link(hired).created  # the integration made it: delete may apply
        # By id, then by email (may another employee at work have it?), the departments;
        # the accounts, the groups that exist (empty ones too), and the one write.
        assert world.box.lucca.log.counts() == {"GET /lucca-api/employees": 2,
                                                "GET /lucca-api/departments": 1}
        assert world.box.cards.log.counts() == {"GET /v1/users": 1, "GET /v1/groups": 1,
                                                "POST /v1/users": 1}


def test_a_hire_into_a_department_never_imported_gets_no_group_unless_all_are_synced() -> None:
    with imported_world() as world:
        new_department = max(world.box.company.lucca.departments)
        name = world.group_name(str(new_department))
        assert name not in {g.name for g in world.box.company.cards.groups.values()}
        first = hire(world.box, "a.premier@acme.fr", new_department)
        assert outcome(world.sync().run([first]), first).outcome is SyncOutcome.CREATED
        assert memberships(world.box)["a.premier@acme.fr"] == []
        second = hire(world.box, "b.second@acme.fr", new_department)
        world.sync(departments="all").run([second])
        assert memberships(world.box)["b.second@acme.fr"] == [name]
        third = hire(world.box, "c.troisieme@acme.fr", 2)
        world.sync(departments="none").run([third])
        assert memberships(world.box)["c.troisieme@acme.fr"] == []


def test_a_hire_whose_email_has_an_account_is_linked_not_duplicated() -> None:
    with imported_world() as world:
        account = next(iter(world.box.company.cards.users.values()))
        unlinked = set(world.box.company.cards.users) - set(world.links.all().values())
        account = world.box.company.cards.users[sorted(unlinked)[0]] if unlinked else account
        hired = hire(world.box, account.email.upper(), 2)
        item = outcome(world.sync().run([hired]), hired)
        assert item.outcome in (SyncOutcome.LINKED, SyncOutcome.ADDED_TO_GROUP,
                                SyncOutcome.SKIPPED)
        assert "POST /v1/users" not in world.box.cards.log.counts()
        assert accounts_per_email(world.box)[account.email.lower()] == 1


def test_a_hire_sharing_a_linked_employees_email_is_refused() -> None:
    with imported_world() as world:
        employee_id, user_id = next(iter(world.links.all().items()))
        taken = world.box.company.cards.users[user_id].email
        hired = hire(world.box, taken, 2)
        item = outcome(world.sync().run([hired]), hired)
        assert item.outcome is SyncOutcome.SKIPPED
        assert f"employee {employee_id}" in (item.reason or "")
        assert world.links.get(hired) is None
        assert writes(world.box) == []


def test_a_mover_leaves_the_old_department_group_only_and_joins_the_new() -> None:
    with imported_world() as world:
        mover = world.linked_in("1", 1)[0]
        add_group(world.box, world.links.get(mover) or "", "Secouristes")
        move(world.box, mover, 2)
        report = world.sync().run([mover])
        assert outcome(report, mover).outcome is SyncOutcome.UPDATED
        assert world.groups_of(mover) == sorted(["Secouristes", world.group_name("2")])
        assert world.links.link(mover).department_id == "2"
        counts = world.box.cards.log.counts()
        assert sum(n for k, n in counts.items() if k.startswith("PUT")) == 1
        world.clear_logs()
        again = world.sync().run([mover])
        assert outcome(again, mover).outcome is SyncOutcome.UNCHANGED
        assert world.box.cards.log.counts() == {}  # nothing changed: Cards not even read


def test_a_move_keeps_groups_when_the_old_department_is_not_kept_in_step() -> None:
    with imported_world() as world:
        mover = world.linked_in("1", 1)[0]
        move(world.box, mover, 2)
        world.sync(departments="none").run([mover])
        assert world.groups_of(mover) == [world.group_name("1")]
        assert world.links.link(mover).department_id == "2"


def test_an_email_change_updates_the_linked_account_once_and_the_import_makes_no_twin() -> None:
    with imported_world() as world:
        employee = world.linked_in("2", 1)[0]
        user_id = world.links.get(employee)
        change_email(world.box, employee, "Nouveau.Nom@acme.fr")
        preview = {row.employee.id: row for row in
                   UserImporter(world.lucca, world.cards, links=world.links).preview()}
        assert "life-cycle" in (preview[employee].reason or "")  # no second account
        world.clear_logs()
        report = world.sync().run([employee])
        assert outcome(report, employee).outcome is SyncOutcome.UPDATED
        assert world.box.company.cards.users[user_id].email == "nouveau.nom@acme.fr"
        assert [w["method"] for w in writes(world.box)] == ["PUT"]
        assert world.links.link(employee).email == "nouveau.nom@acme.fr"
        rerun = UserImporter(world.lucca, world.cards, links=world.links).run()
        assert rerun.counts()["created"] == 0


def test_an_email_already_taken_by_another_account_is_reported_and_nothing_written() -> None:
    with imported_world() as world:
        first, second = world.linked_in("2", 2)
        other_email = world.account(second).email
        change_email(world.box, first, other_email)
        item = outcome(world.sync().run([first]), first)
        assert item.outcome is SyncOutcome.REPORTED
        assert "another Cards account" in (item.reason or "")
        assert writes(world.box) == []


@pytest.mark.parametrize("rule", ["report", "remove-from-groups"])
def test_a_leaver_gets_the_chosen_rule_once(rule: str) -> None:
    with imported_world() as world:
        leaver = world.linked_in("1", 1)[0]
        before = world.groups_of(leaver)
        leave(world.box, leaver)
        item = outcome(world.sync(leavers=rule).run([leaver]), leaver)
        if rule == "report":
            assert item.outcome is SyncOutcome.REPORTED
            assert world.groups_of(leaver) == before and writes(world.box) == []
        else:
            assert item.outcome is SyncOutcome.OFFBOARDED
            assert world.groups_of(leaver) == []
        assert world.links.link(leaver).offboarded == rule
        world.clear_logs()
        again = outcome(world.sync(leavers=rule).run([leaver]), leaver)
        assert again.outcome is SyncOutcome.UNCHANGED and writes(world.box) == []


def test_delete_removes_only_accounts_the_integration_created() -> None:
    with imported_world() as world:
        at_work = world.active_linked(100)
        created = [i for i in at_work if world.links.link(i).created]
        linked = [i for i in at_work if not world.links.link(i).created]
        gone, kept = created[0], linked[0]
        gone_user, kept_user = world.links.get(gone), world.links.get(kept)
        for employee in (gone, kept):
            leave(world.box, employee)
        report = world.sync(leavers="delete").run([gone, kept])
        assert outcome(report, gone).outcome is SyncOutcome.OFFBOARDED
        assert outcome(report, kept).outcome is SyncOutcome.REPORTED
        users = world.box.company.cards.users
        assert gone_user not in users and kept_user in users
        assert world.links.link(gone).offboarded == "delete"  # kept: the threshold counts it


def test_a_mass_offboarding_is_held_until_forced() -> None:
    with imported_world() as world:
        # More than 10 (and than 5 % of ~100), each in a group there is to leave.
        leavers = [e for e in world.active_linked(100) if world.groups_of(e)][:11]
        for employee in leavers:
            leave(world.box, employee)
        before = {employee: world.groups_of(employee) for employee in leavers}
        sync = world.sync(leavers="remove-from-groups")
        held = sync.run(hires=False)
        assert {i.employee_id for i in held.of(SyncOutcome.HELD)} == set(leavers)
        assert not held.ok and "safety stop" in held.notes[0]
        assert {employee: world.groups_of(employee) for employee in leavers} == before
        forced = sync.run(hires=False, force=True)
        assert {i.employee_id for i in forced.of(SyncOutcome.OFFBOARDED)} == set(leavers)
        assert all(world.groups_of(employee) == [] for employee in leavers)


def test_an_empty_answer_from_lucca_never_empties_cards() -> None:
    with imported_world() as world:
        world.box.company.lucca.employees.clear()
        before = memberships(world.box)
        report = LifecycleSync(world.lucca, world.cards, world.links,
                               leavers="delete").run(hires=False)
        created = sum(1 for link in world.links.links().values() if link.created)
        assert len(report.of(SyncOutcome.HELD)) == created > 10
        assert memberships(world.box) == before and writes(world.box) == []


def test_a_returning_leaver_joins_their_department_again() -> None:
    with imported_world() as world:
        returner = world.linked_in("2", 1)[0]
        leave(world.box, returner)
        world.sync(leavers="remove-from-groups").run([returner])
        assert world.groups_of(returner) == []
        come_back(world.box, returner)
        item = outcome(world.sync(leavers="remove-from-groups").run([returner]), returner)
        assert item.outcome is SyncOutcome.UPDATED
        assert world.groups_of(returner) == [world.group_name(str(department_of(
            world.box, returner)))]
        assert world.links.link(returner).offboarded is None
