"""The life-cycle rules where they are easy to get wrong: shared accounts, shared emails,
groups the integration did not make, trickling leavers, employees out of sight."""

from __future__ import annotations

import datetime as dt
import itertools

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
from lucca_cards.state.inbox import LuccaInbox
from lucca_cards.sync.events import EventProcessor
from sync_support import accounts_per_email, memberships, writes

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
_ids = itertools.count(1)


def outcome(report, employee_id):  # type: ignore[no-untyped-def]
    (item,) = [i for i in report.items if i.employee_id == employee_id]
    return item


def test_a_leaver_never_takes_the_account_of_the_employee_now_linked_to_it() -> None:
    with imported_world() as world:
        first = world.linked_in("2", 1)[0]
        user_id = world.links.get(first)
        account = world.account(first)
        # HR deletes the employee and creates them again: Lucca gives a new id.
        data = world.box.company.lucca
        gone = data.employees.pop(int(first))
        again = hire(world.box, account.email, 2, given=gone.given_name,
                     family=gone.family_name)
        report = world.sync(leavers="delete").run([first, again], deleted=[first])
        assert outcome(report, again).outcome is SyncOutcome.LINKED
        left = outcome(report, first)
        assert left.outcome is SyncOutcome.UNCHANGED and f"employee {again}" in left.reason
        assert user_id in world.box.company.cards.users  # still there, for the new record


def test_a_hire_sharing_the_email_of_another_employee_at_work_is_refused() -> None:
    with imported_world() as world:
        first = hire(world.box, "jumeau@acme.fr", 2)
        second = hire(world.box, "jumeau@acme.fr", 3)
        report = world.sync().run([first])
        item = outcome(report, first)
        assert item.outcome is SyncOutcome.SKIPPED and f"employee {second}" in item.reason
        assert "jumeau@acme.fr" not in memberships(world.box)
        preview = {r.employee.id: r for r in UserImporter(world.lucca, world.cards,
                                                          links=world.links).preview()}
        assert "also the email of another employee" in preview[first].reason  # the same


def test_an_email_problem_does_not_stop_a_move() -> None:
    with imported_world() as world:
        mover, other = world.linked_in("1", 2)
        change_email(world.box, mover, world.account(other).email)  # taken
        move(world.box, mover, 2)
        item = outcome(world.sync().run([mover]), mover)
        assert item.outcome is SyncOutcome.UPDATED
        assert "belongs to another Cards account" in item.reason
        assert world.groups_of(mover) == [world.group_name("2")]


def test_a_move_leaves_only_the_group_the_integration_put_them_in() -> None:
    with imported_world() as world:
        mover = world.linked_in("1", 1)[0]
        # A back-office group named like a department never imported: not the mover's
        # department group, whatever its name.
        never_imported = world.group_name(str(max(world.box.company.lucca.departments)))
        add_group(world.box, world.links.get(mover) or "", never_imported)
        move(world.box, mover, 2)
        world.sync().run([mover])
        assert world.groups_of(mover) == sorted([never_imported, world.group_name("2")])


def test_a_returner_under_report_leaves_the_old_group_when_back_elsewhere() -> None:
    with imported_world() as world:
        returner = world.linked_in("1", 1)[0]
        leave(world.box, returner)
        assert outcome(world.sync().run([returner]), returner).outcome is \
            SyncOutcome.REPORTED
        come_back(world.box, returner)
        move(world.box, returner, 2)
        world.sync().run([returner])
        assert world.groups_of(returner) == [world.group_name("2")]


def test_a_nightly_run_changes_only_the_employee_who_changed() -> None:
    with imported_world() as world:
        world.sync().run(hires=False)  # the first run after an import settles the links
        world.clear_logs()
        mover = world.linked_in("1", 1)[0]
        move(world.box, mover, 2)
        report = world.sync(departments="all").run(hires=False)
        assert [i.employee_id for i in report.items
                if i.outcome is not SyncOutcome.UNCHANGED] == [mover]
        assert len([w for w in writes(world.box) if w["method"] == "PUT"]) == 1


def test_leavers_arriving_one_by_one_are_held_past_the_threshold() -> None:
    with imported_world() as world:
        now = [NOW]
        inbox = LuccaInbox(world.links._database, clock=lambda: now[0])
        sync = world.sync(leavers="remove-from-groups", max_offboarded=3, now=lambda: now[0])
        events = EventProcessor(inbox, sync, now=lambda: now[0])
        leavers = [e for e in world.active_linked(100) if world.groups_of(e)][:5]
        outcomes = []
        for employee in leavers:  # one event, one run, a minute apart
            leave(world.box, employee)
            inbox.store(source="s", event_id=f"e{next(_ids)}", topic="employment.updated",
                        occurred_at=now[0], employee_id=employee, payload="{}")
            outcomes += [i.outcome for i in events.process().items]
            now[0] += dt.timedelta(minutes=1)
        assert outcomes[:3] == [SyncOutcome.OFFBOARDED] * 3
        assert SyncOutcome.HELD in outcomes[3:]
        assert all(world.groups_of(e) for e in leavers[3:])


def test_an_employee_out_of_sight_is_not_offboarded_without_a_deletion() -> None:
    with imported_world() as world:
        hidden = world.linked_in("2", 1)[0]
        world.box.company.lucca.employees.pop(int(hidden))
        item = outcome(world.sync(leavers="delete").run([hidden]), hidden)
        assert item.outcome is SyncOutcome.UNCHANGED and "not visible" in item.reason
        assert writes(world.box) == []
        assert accounts_per_email(world.box)[world.account(hidden).email] == 1


def test_a_record_created_again_keeps_the_account_when_the_old_one_left_silently() -> None:
    with imported_world() as world:
        old = world.linked_in("2", 1)[0]
        user_id, email = world.links.get(old), world.account(old).email
        leave(world.box, old)  # the old contract's end passes: Lucca sends no event
        new = hire(world.box, email, 2)
        hired = outcome(world.sync(leavers="delete").run([new]), new)
        assert hired.outcome is SyncOutcome.LINKED  # the old record is no longer at work
        nightly = world.sync(leavers="delete").run(hires=False)
        left = outcome(nightly, old)
        assert left.outcome is SyncOutcome.UNCHANGED and f"employee {new}" in left.reason
        assert user_id in world.box.company.cards.users


def test_a_department_import_after_a_move_keeps_the_group_the_move_must_leave() -> None:
    from lucca_cards import DepartmentImporter

    with imported_world() as world:
        mover = world.linked_in("1", 1)[0]
        move(world.box, mover, 2)
        DepartmentImporter(world.lucca, world.cards, links=world.links).run(
            department_ids=["2"])  # joins the new group before the move is applied
        world.sync().run([mover])
        assert world.groups_of(mover) == [world.group_name("2")]


def test_forced_offboardings_do_not_hold_the_days_ordinary_leavers() -> None:
    with imported_world() as world:
        now = [NOW]
        sync = world.sync(leavers="remove-from-groups", now=lambda: now[0])
        in_groups = [e for e in world.active_linked(100) if world.groups_of(e)]
        for employee in in_groups[:11]:
            leave(world.box, employee)
        assert len(sync.run(hires=False).of(SyncOutcome.HELD)) == 11
        assert len(sync.run(hires=False, force=True).of(SyncOutcome.OFFBOARDED)) == 11
        now[0] += dt.timedelta(hours=1)
        leave(world.box, in_groups[11])
        later = sync.run([in_groups[11]])
        assert outcome(later, in_groups[11]).outcome is SyncOutcome.OFFBOARDED


def test_a_held_leaver_stays_held_after_the_window_until_forced() -> None:
    with imported_world() as world:
        now = [NOW]
        sync = world.sync(leavers="remove-from-groups", max_offboarded=1, now=lambda: now[0])
        first, second = [e for e in world.active_linked(100) if world.groups_of(e)][:2]
        for employee in (first, second):
            leave(world.box, employee)
        assert outcome(sync.run([first]), first).outcome is SyncOutcome.OFFBOARDED
        assert outcome(sync.run([second]), second).outcome is SyncOutcome.HELD  # 2 > 1
        now[0] += dt.timedelta(hours=25)  # the count is back to 0: the hold stays
        assert outcome(sync.run(hires=False), second).outcome is SyncOutcome.HELD
        assert world.groups_of(second)
        forced = sync.run(hires=False, force=True)
        assert outcome(forced, second).outcome is SyncOutcome.OFFBOARDED


def test_a_group_emptied_by_moves_still_counts_as_imported() -> None:
    with imported_world() as world:
        members = [e for e in world.active_linked(100) if world.groups_of(e) == [
            world.group_name("3")]]
        for employee in members:
            move(world.box, employee, 2)
        world.sync().run(members)  # everyone left the group: it has no member now
        newcomer = members[0]
        move(world.box, newcomer, 3)
        world.sync().run([newcomer])
        assert world.groups_of(newcomer) == [world.group_name("3")]


def test_a_record_created_again_is_found_whatever_the_case_of_its_email() -> None:
    with imported_world() as world:
        old = hire(world.box, "Rec.Again@acme.fr", 2)
        world.sync().run([old])  # its account holds the email lower-cased
        user_id = world.links.get(old)
        data = world.box.company.lucca
        data.employees.pop(int(old))
        new = hire(world.box, "Rec.Again@acme.fr", 2)
        report = world.sync(leavers="delete").run(
            [old, new], deleted=[old], emails={old: "Rec.Again@acme.fr",
                                               new: "Rec.Again@acme.fr"})
        assert outcome(report, old).outcome is SyncOutcome.UNCHANGED
        assert user_id in world.box.company.cards.users


def test_only_offboardings_that_write_count_and_report_never_holds() -> None:
    with imported_world() as world:
        sync = world.sync(leavers="remove-from-groups", max_offboarded=1)
        grouped = [e for e in world.active_linked(100) if world.groups_of(e)][:2]
        bare = [e for e in world.active_linked(100) if not world.groups_of(e)][:3]
        for employee in [grouped[0], *bare]:
            leave(world.box, employee)
        report = sync.run([grouped[0], *bare])  # one write: under the limit of 1
        assert outcome(report, grouped[0]).outcome is SyncOutcome.OFFBOARDED
        assert all(outcome(report, e).outcome is SyncOutcome.UNCHANGED for e in bare)
        leave(world.box, grouped[1])
        assert outcome(sync.run([grouped[1]]), grouped[1]).outcome is SyncOutcome.HELD
        reported = world.sync(leavers="report").run([grouped[1]])
        assert outcome(reported, grouped[1]).outcome is SyncOutcome.REPORTED
