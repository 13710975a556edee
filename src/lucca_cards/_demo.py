"""``lucca-cards demo``: a tour of the integration on the bundled sandbox.

It starts the sandbox (fake Lucca and Cards with a generated company), builds the three
clients from the sandbox's settings exactly as a user would from theirs, and prints what
each API holds, then how many requests that took.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from typing import TextIO

from .cards.client import CardsClient
from .cards.models import CardsUser
from .lucca.client import LuccaOAuthClient
from .lucca.models import Department, Employee
from .sandbox import Sandbox
from .sandbox.generator import describe

_SHOWN = 8
_EDGE_CASES = (
    ("without_email", "employees without an email"),
    ("shared_email_pairs", "pairs of employees sharing one email (different case)"),
    ("unnormalised_emails", "emails with upper case or stray spaces"),
    ("emails_cards_rejects", "emails Cards would reject"),
    ("long_names", "names longer than Cards accepts (190 characters)"),
    ("same_name_departments", "departments sharing a name with another branch's"),
    ("empty_departments", "empty departments"),
    ("preexisting_cards_users", "employees who already have a Cards account"),
    ("cards_only_users", "Cards users who are not in Lucca"),
)


def run_demo(
    *,
    seed: int = 0,
    employees: int = 300,
    departments: int = 24,
    trainings: int = 8,
    out: TextIO | None = None,
    sandbox: Sandbox | None = None,
) -> int:
    """Run the tour; return the exit status. ``sandbox`` replaces the default one (tests)."""
    out = out or sys.stdout
    box = sandbox or Sandbox(
        seed=seed, employees=employees, departments=departments, trainings=trainings
    )
    with box:
        _intro(box, out)
        settings = box.settings()
        with LuccaOAuthClient.from_settings(settings) as lucca, \
                CardsClient.from_settings(settings) as cards:
            people = list(lucca.employees.list())
            tree = list(lucca.departments.list())
            _employees(people, tree, out)
            _departments(people, tree, out)
            _cards(list(cards.users.list()), people, out)
        _requests(box, out)
    return 0


def _intro(box: Sandbox, out: TextIO) -> None:
    company = box.company
    print(f"lucca-cards demo: the sandbox company {company.name!r}, today {company.today}",
          file=out)
    print(f"  fake Lucca  {box.lucca_url}   fake Cards  {box.cards_url}", file=out)
    rate = box.settings().lucca_requests_per_minute
    if rate:
        print(f"  Lucca allows 50 requests a minute per tenant: the SDK spaces its calls "
              f"{60 / rate:.1f} s apart.", file=out)
    counts = describe(company)
    print("  The cases real tenants have, all in the generated company:", file=out)
    for key, label in _EDGE_CASES:
        print(f"    {counts[key]:>5}  {label}", file=out)

def _employees(people: list[Employee], tree: list[Department], out: TextIO) -> None:
    names = {d.id: d.name for d in tree}
    statuses = Counter(str(p.status) for p in people)
    summary = " · ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    _title(f"Lucca employees: {len(people)} in one paged sweep ({summary})", out)
    for person in people[:_SHOWN]:
        name = _cut(f"{person.given_name} {person.family_name}", 30)
        email = _cut(person.email or "(no email)", 34)
        department = names.get(person.department_id or "", "?")
        print(f"  {name:<30} {email:<34} {department}", file=out)
    print(f"  … and {max(len(people) - _SHOWN, 0)} more", file=out)


def _departments(people: list[Employee], tree: list[Department], out: TextIO) -> None:
    members = Counter(p.department_id for p in people)
    _title(f"Lucca departments: {len(tree)}, as a tree (members in brackets)", out)
    children: dict[str | None, list[Department]] = {}
    for department in tree:
        children.setdefault(department.parent_id, []).append(department)

    def show(parent: str | None, depth: int) -> None:
        for department in children.get(parent, []):
            archived = ", archived" if department.is_archived else ""
            print(f"  {'  ' * depth}{department.name} [{members[department.id]}{archived}]",
                  file=out)
            show(department.id, depth + 1)

    show(None, 0)


def _cards(users: list[CardsUser], people: Iterable[Employee], out: TextIO) -> None:
    emails = {p.email.strip().lower() for p in people if p.email}
    matching = sum(1 for u in users if u.email and u.email.strip().lower() in emails)
    groups = Counter(g.name for u in users for g in u.groups)
    _title(f"Cards users: {len(users)}, of whom {matching} already match a Lucca email", out)
    for name, count in groups.most_common(_SHOWN):
        print(f"  group {name!r}: {count} member{'s' if count != 1 else ''}", file=out)


def _requests(box: Sandbox, out: TextIO) -> None:
    _title("Requests the tour made (from the sandbox's request logs)", out)
    for fake in (box.lucca, box.cards):
        for call, count in sorted(fake.log.counts().items()):
            print(f"  {count:>4}  {call}", file=out)


def _title(text: str, out: TextIO) -> None:
    print(f"\n{text}", file=out)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
