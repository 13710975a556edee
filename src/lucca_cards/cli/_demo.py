"""``lucca-cards demo``: a tour of the integration on the bundled sandbox.

It starts the sandbox (fake Lucca and Cards with a generated company), builds the
clients from the sandbox's settings exactly as a user would from theirs, and prints what
each API holds. Then it imports: a preview, a dry run, the departments, the remaining
users, and a rerun of both that writes nothing, each step with the requests it sent (read
from the sandbox's request logs). Then the statistics (:mod:`._demo_stats`): learners
progress, signed webhooks reach a receiver, the ledger fills, the employee files are
written and two are printed, and a rerun writes nothing. Last, how many requests the whole
tour took.

Pace: the sandbox's rate limits are lifted for the tour, or the ~230 accounts the import
creates would take four minutes at Cards' 60 a minute; the tour ends with the time the same
requests take at the SDK's default rates (40 a minute for Lucca, 60 for Cards).

Names from the sandbox are printed the way every command prints data from Lucca: through
:func:`~lucca_cards._untrusted.printable` (or ``repr``, which escapes every character
it does), so a hostile name added to the sandbox shows escaped and never acts on the
terminal.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from typing import Any, TextIO

from .._untrusted import printable
from ..cards.client import CardsClient
from ..cards.models import CardsUser
from ..lucca.client import LuccaOAuthClient
from ..lucca.models import Department, Employee
from ..sandbox import Sandbox
from ..sandbox.generator import describe
from ..state import Database
from ..sync import (
    DepartmentImporter,
    LinkStore,
    SyncOutcome,
    SyncReport,
    UserImporter,
    UserRow,
    UserState,
)
from ..sync._rules import match_key
from ._demo_realtime import realtime_tour
from ._demo_stats import stats_tour
from ._output import cut, duration, plural

_SHOWN = 8
_EDGE_CASES = (  # (count, one, several)
    ("without_email", "employee without an email", "employees without an email"),
    ("shared_email_pairs", "pair of employees sharing one email (different case)",
     "pairs of employees sharing one email (different case)"),
    ("unnormalised_emails", "email with upper case or stray spaces",
     "emails with upper case or stray spaces"),
    ("emails_cards_rejects", "email Cards would reject", "emails Cards would reject"),
    ("long_names", "name longer than Cards accepts (190 characters)",
     "names longer than Cards accepts (190 characters)"),
    ("same_name_departments", "department sharing a name with another branch's",
     "departments sharing a name with another branch's"),
    ("empty_departments", "empty department", "empty departments"),
    ("preexisting_cards_users", "employee who already has a Cards account",
     "employees who already have a Cards account"),
    ("cards_only_users", "Cards user who is not in Lucca", "Cards users who are not in Lucca"),
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
    # Unlimited: at the real rates the creates alone would take minutes (see _requests).
    box = sandbox or Sandbox(
        seed=seed, employees=employees, departments=departments, trainings=trainings,
        lucca_rate_limit=0, cards_rate_limit=0,
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
            ok = _ImportTour(box, lucca, cards, out, tree).run()
        ok = all(report.ok for report in stats_tour(box, out)) and ok
        with Database(":memory:") as database:
            ok = realtime_tour(box, database, out) and ok
        _requests(box, out)
    return 0 if ok else 1


def _intro(box: Sandbox, out: TextIO) -> None:
    company = box.company
    print(f"lucca-cards demo: the sandbox company {company.name!r}, today {company.today}",
          file=out)
    print(f"  fake Lucca  {box.lucca_url}   fake Cards  {box.cards_url}", file=out)
    print("  Rate limits are lifted for the tour; the end says how long it takes at the "
          "real rates.", file=out)
    print("  The cases real tenants have, all in the generated company:", file=out)
    _edge_cases(describe(company), out)


def _edge_cases(counts: dict[str, int], out: TextIO) -> None:
    for key, one, several in _EDGE_CASES:
        print(f"    {counts[key]:>5}  {one if counts[key] == 1 else several}", file=out)

def _employees(people: list[Employee], tree: list[Department], out: TextIO) -> None:
    names = {d.id: d.name for d in tree}
    statuses = Counter(str(p.status) for p in people)
    summary = " · ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    _title(f"Lucca employees: {len(people)} in one paged sweep ({summary})", out)
    for person in people[:_SHOWN]:
        name = cut(printable(f"{person.given_name} {person.family_name}"), 30)
        email = cut(printable(person.email or "(no email)"), 34)
        department = printable(names.get(person.department_id or "") or "?")
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
            name = printable(department.name or "")
            print(f"  {'  ' * depth}{name} [{members[department.id]}{archived}]", file=out)
            show(department.id, depth + 1)

    show(None, 0)


def _cards(users: list[CardsUser], people: Iterable[Employee], out: TextIO) -> None:
    emails = {match_key(p.email) for p in people} - {None}
    matching = sum(1 for u in users if match_key(u.email) in emails)
    groups = Counter(g.name for u in users for g in u.groups)
    _title(f"Cards users: {len(users)}, of whom {matching} already match a Lucca email", out)
    for name, count in groups.most_common(_SHOWN):
        print(f"  group {name!r}: {count} member{'s' if count != 1 else ''}", file=out)


def _requests(box: Sandbox, out: TextIO) -> None:
    _title("Requests the tour made (from the sandbox's request logs)", out)
    totals = []
    for fake in (box.lucca, box.cards):
        calls = Counter(_call(entry) for entry in fake.log.entries())
        for call, count in sorted(calls.items()):
            print(f"  {count:>4}  {call}", file=out)
        totals.append(sum(calls.values()))
    # The SDK paces Lucca at 40 a minute (Lucca allows 50 per tenant) and Cards at 60.
    seconds = totals[0] * 60 / 40 + totals[1] * 60 / 60
    print(f"  At the SDK's default rates these {sum(totals)} requests take "
          f"{duration(seconds)}; with the sandbox's limits lifted, seconds.", file=out)


_ID = re.compile(r"/(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)")


def _call(entry: dict[str, Any]) -> str:
    """Return ``"PUT /v1/users/{id}"`` for a log entry: one line per kind of call."""
    return f"{entry['method']} {_ID.sub('/{id}', entry['path'])}"


def _title(text: str, out: TextIO) -> None:
    print(f"\n{text}", file=out)


class _ImportTour:
    """Import into Cards step by step, printing each step and the requests it sent."""

    def __init__(
        self,
        box: Sandbox,
        lucca: LuccaOAuthClient,
        cards: CardsClient,
        out: TextIO,
        tree: list[Department],
    ) -> None:
        self.box, self.out, self.tree = box, out, tree
        self.links = LinkStore()  # shared: what one import links, the next one knows
        self.users = UserImporter(lucca, cards, links=self.links)
        self.departments = DepartmentImporter(lucca, cards, links=self.links)
        self.reports: list[SyncReport] = []
        self._marks = self._ends()
        self._lucca_total = 0

    def run(self) -> bool:
        """Run every step; return whether no item failed."""
        accounts, groups = len(self.box.company.cards.users), len(self.box.company.cards.groups)
        rows = self._preview()
        self._step("2. Dry run: the exact plan, nothing written",
                   "users.run(dry_run=True)", self.users.run(dry_run=True))
        root, branch = _branch(self.tree)
        self._step(f"3. Import the departments of the {root!r} branch: a group each, with "
                   "its members", f"departments.run(department_ids={branch})",
                   self.departments.run(branch))
        self._step("4. Import the remaining users: the other branches' employees",
                   "users.run()", self.users.run())
        rerun = self._step("5. Rerun both imports: nothing left to do, so nothing is written",
                           "users.run(); departments.run(department_ids=…)",
                           self.users.run(), self.departments.run(branch), notes=False)
        self._summary(rows, accounts, groups, rerun)
        return all(report.ok for report in self.reports)

    def _preview(self) -> list[UserRow]:
        _title("Importing into Cards, step by step", self.out)
        self._say("users = UserImporter(lucca, cards, links=links); "
                  "departments = DepartmentImporter(lucca, cards, links=links)")
        _title("1. Preview the user import: what each employee would become", self.out)
        self._say(">>> users.preview()")
        rows = self.users.preview()
        states = Counter(row.state for row in rows)
        shown = " · ".join(f"{states[s]} {s.value.replace('_', ' ')}" for s in UserState
                           if states[s])
        self._say(f"{plural(len(rows), 'employee')} considered (active and upcoming): {shown}")
        refused = [row for row in rows if row.state is UserState.CANNOT_BE_IMPORTED]
        self._say("Cannot be imported, and why:")
        for row in refused[:_REFUSED_SHOWN]:
            self._say(f"  {cut(printable(row.name), 30):<30} {printable(row.reason or '')}")
        if len(refused) > _REFUSED_SHOWN:
            self._say(f"  … and {len(refused) - _REFUSED_SHOWN} more")
        self._sent()
        return rows

    def _step(self, title: str, call: str, *reports: SyncReport, notes: bool = True) -> int:
        """Print the step's reports and requests; return how many writes it sent."""
        _title(title, self.out)
        self._say(f">>> {call}")
        for report in reports:
            self.reports.append(report)
            self._say(str(report))
            for line in report.lines([SyncOutcome.FAILED]):
                self._say(f"  {line}")
            for note in report.notes if notes else ():
                self._say(printable(f"  note: {note}"))
        return self._sent()

    def _summary(self, rows: list[UserRow], accounts: int, groups: int, rerun: int) -> None:
        cards = self.box.company.cards
        created = sum(r.counts()["created"] for r in self.reports if not r.dry_run)
        cannot = sum(1 for row in rows if row.state is UserState.CANNOT_BE_IMPORTED)
        _title("Summary", self.out)
        self._say(f"Cards users: {accounts} before, {len(cards.users)} after "
                  f"({created} created); groups: {groups} before, {len(cards.groups)} after")
        self._say(f"Employees linked to a Cards account: {len(self.links.all())} of "
                  f"{len(rows)}; {cannot} cannot be imported (reasons above)")
        self._say(f"Lucca requests of the import steps: {self._lucca_total}; "
                  f"writes sent by the rerun: {rerun}")

    def _sent(self) -> int:
        """Print the requests sent since the last step (from the sandbox's request logs).

        Return how many of them were writes.
        """
        ends = self._ends()
        lucca, cards = (log[mark:] for log, mark in zip(self._logs(), self._marks, strict=True))
        self._marks = ends
        self._lucca_total += len(lucca)
        writes = Counter(_call(e) for e in cards if e["method"] != "GET")
        written = ", ".join(f"{n} {call}" for call, n in sorted(writes.items())) or "0"
        self._say(f"requests sent: Lucca {len(lucca)}, Cards {len(cards)}; "
                  f"writes sent to Cards: {written}")
        return sum(writes.values())

    def _logs(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self.box.lucca.log.entries(), self.box.cards.log.entries()

    def _ends(self) -> tuple[int, int]:
        lucca, cards = self._logs()
        return len(lucca), len(cards)

    def _say(self, text: str) -> None:
        print(f"  {text}", file=self.out)


_REFUSED_SHOWN = 15


def _branch(tree: list[Department]) -> tuple[str, list[str]]:
    """Return the first top-level department's name, and its id and its descendants' ids."""
    root = next((d for d in tree if d.parent_id is None), tree[0])
    ids = [root.id]
    for department in tree:  # Lucca lists parents before children, as the tree shows
        if department.parent_id in ids:
            ids.append(department.id)
    return root.name or root.id, ids
