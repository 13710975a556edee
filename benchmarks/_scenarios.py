"""The states the scenarios start from, prepared through the sandbox's Python objects.

Nothing here is measured. A company is generated (:func:`company`), changed in place
where a scenario needs it (accounts put in their department's group, HR changes, learner
activity), then served twice: one sandbox for the SDK, one for the baseline, identical.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench_publish import next_chapters  # the script's folder is on sys.path
from minimum import AT_WORK, Rates

from lucca_cards import Sandbox, TrainingLedger
from lucca_cards.cards import webhooks
from lucca_cards.sandbox._model import CardsGroup, Company, employee_status
from lucca_cards.sandbox.generator import generate_company

SEED = 11


def departments_for(employees: int) -> int:
    """Departments of a company: one per 50 employees (200 for 10 000), 24 at least."""
    return max(24, employees // 50)


def company(employees: int, *, existing: float | None) -> Company:
    """A generated company in which ``existing`` of the employees have a Cards account.

    ``None``: the generator's own mix (about 10 %).
    """
    if existing is None:
        return generate_company(seed=SEED, employees=employees,
                                departments=departments_for(employees))
    return generate_company(seed=SEED, employees=employees,
                            departments=departments_for(employees),
                            existing_cards_users=existing)


def serve(data: Company, rates: Rates | None) -> Sandbox:
    """Serve ``data`` at the scaled rates (``None``: unlimited); return the running sandbox."""
    if rates is None:
        return Sandbox(company=data, seed=SEED, lucca_rate_limit=0, cards_rate_limit=0).start()
    # The sandbox enforces the clients' own rates: a client going faster would get 429s.
    return Sandbox(company=data, seed=SEED, lucca_rate_limit=round(rates.lucca_per_minute),
                   cards_rate_limit=round(rates.cards_per_minute),
                   rate_window=rates.window).start()


def pair(data: Company, rates: Rates) -> tuple[Sandbox, Sandbox]:
    """Two identical sandboxes of ``data``: the SDK's, and the baseline's (a deep copy)."""
    twin = copy.deepcopy(data)
    return serve(data, rates), serve(twin, rates)


@contextlib.contextmanager
def unthrottled(*boxes: Sandbox) -> Iterator[None]:
    """Lift the sandboxes' rate limits for a preparation step, then put them back."""
    limits = [(box.lucca.limiter.limit, box.cards.limiter.limit) for box in boxes]
    for box in boxes:
        box.lucca.limiter.limit = box.cards.limiter.limit = 0
    try:
        yield
    finally:
        for box, (lucca, cards) in zip(boxes, limits):
            box.lucca.limiter.limit, box.cards.limiter.limit = lucca, cards


def connection(box: Sandbox) -> dict[str, str]:
    """What a job is handed: the URLs and credentials (and the OAuth client's scopes)."""
    return {**box.connection_info(), "scopes": " ".join(box.lucca_scopes)}


def _department_of(data: Company, employee_id: int) -> str:
    lucca = data.lucca
    position = lucca.job_positions[lucca.employees[employee_id].job_position_id]
    return lucca.departments[position.department_id].name.strip()


def at_work(data: Company) -> list[int]:
    """The ids of the active and upcoming employees."""
    lucca = data.lucca
    return [e.id for e in lucca.employees.values()
            if employee_status(lucca.employments[e.employment_id], data.today) in AT_WORK]


def into_department_groups(data: Company) -> int:
    """Put every account of an employee at work in their department's group (in place).

    The state a departments import leaves: a group per department name (the first group
    of a name when one exists), each account matched by email in its employee's group.
    Must run before the company is served (the fake Cards indexes groups by name then).
    Returns how many accounts were put in a group.
    """
    cards, rng = data.cards, random.Random(f"{SEED}:groups")
    accounts = {u.email.strip().lower(): u for u in cards.users.values() if u.email}
    groups: dict[str, str] = {}
    for group in cards.groups.values():
        groups.setdefault(group.name, group.id)
    joined = 0
    for employee_id in at_work(data):
        email = (data.lucca.employees[employee_id].email or "").strip().lower()
        user, name = accounts.get(email), _department_of(data, employee_id)
        if user is None or not name:
            continue
        if name not in groups:
            groups[name] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            cards.groups[groups[name]] = CardsGroup(id=groups[name], name=name)
        if groups[name] not in user.group_ids:
            user.group_ids.append(groups[name])
            joined += 1
    return joined


def hr_changes(boxes: Sequence[Sandbox], share: float) -> dict[str, int]:
    """Make ``share`` of the employees at work change, the same way in every sandbox.

    A third are hires (into a random department), a third change email, a third move to
    another department; applied through the fake Lucca's HR administrator
    (``box.lucca.hire/change_email/move``), as in Lucca.
    """
    data, rng = boxes[0].company, random.Random(f"{SEED}:changes")
    people = sorted(i for i in at_work(data) if data.lucca.employees[i].email)
    departments = sorted(d.id for d in data.lucca.departments.values() if not d.is_archived)
    count = math.ceil(share * len(at_work(data)))
    chosen = rng.sample(people, 2 * (count // 3))
    movers, emails = chosen[:count // 3], chosen[count // 3:]
    hires = count - len(movers) - len(emails)
    moves = []
    for employee_id in movers:
        current = data.lucca.job_positions[
            data.lucca.employees[employee_id].job_position_id].department_id
        moves.append((employee_id, rng.choice([d for d in departments if d != current])))
    places = [rng.choice(departments) for _ in range(hires)]
    for box in boxes:
        for employee_id, department in moves:
            box.lucca.move(employee_id, department)
        for employee_id in emails:
            box.lucca.change_email(employee_id, f"changed.{employee_id}@{data.domain}")
        for number, department in enumerate(places):
            box.lucca.hire(given_name="Bench", family_name=f"Hire {number}",
                           email=f"bench.hire{number}@{data.domain}", department_id=department)
    return {"hires": hires, "email_changes": len(emails), "moves": len(moves)}


def record_activity(box: Sandbox, ledger: Path) -> int:
    """Every Cards user with an email progresses; the signed events go into the ledger.

    Returns how many learners the ledger holds.
    """
    learners = sum(1 for user in box.company.cards.users.values() if user.email)
    box.simulate_activity(learners=learners, seed=SEED)
    sender = box.cards.webhooks
    bodies, sender.undelivered = list(sender.undelivered), []
    with TrainingLedger(ledger) as states:
        for body in bodies:
            states.record(webhooks.parse(body))
        return len(states.learners())


def progress(ledger: Path, share: float) -> int:
    """``share`` of the learners complete one more chapter of an unfinished training.

    Returns how many progressed.
    """
    rng = random.Random(f"{SEED}:progress")
    with TrainingLedger(ledger) as states:
        learners = sorted(states.learners())
        wanted = math.ceil(share * len(learners))
        events = next_chapters(states, rng.sample(learners, len(learners)), wanted, rng)
        for event in events:
            states.record(event)
    return len(events)
