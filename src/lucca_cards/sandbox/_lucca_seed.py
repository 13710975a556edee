"""Seed the Lucca side of a generated company: the department tree, then the staff.

Called by :func:`lucca_cards.sandbox.generator.generate_company`, which documents the
edge cases; every step here is linear in the number of employees and departments.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from . import _names
from ._model import Department, Employee, Employment, JobPosition, LuccaData

UTC = dt.timezone.utc
#: Longest first or last name Cards accepts; one generated name is longer.
CARDS_NAME_LIMIT = 190
_DAY = dt.timedelta(days=1)
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_TEMPLATE_IDS = tuple(_names.EMPLOYMENT_TEMPLATES)


def clock_time(today: dt.date) -> dt.datetime:
    """Return the generated company's "now": yesterday evening, so nothing is in the future."""
    return dt.datetime.combine(today - _DAY, dt.time(18), UTC)


@functools.lru_cache(maxsize=4096)
def slug(name: str) -> str:
    """Fold ``name`` to the lower-case ASCII of an email address ("L'Hôte" → "lhote")."""
    folded = unicodedata.normalize("NFKD", name.translate(_LIGATURES))
    text = folded.encode("ascii", "ignore").decode().lower()
    return "".join(char for char in text if char.isalnum() or char == "-")


class _Unique:
    """Hand out ``base``, then ``base2``, ``base3``… for repeated bases."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def __call__(self, base: str) -> str:
        self.seen[base] += 1
        count = self.seen[base]
        return base if count == 1 else f"{base}{count}"


@dataclass
class Tree:
    """The department tree being built, with what placing employees needs."""

    rng: random.Random
    departments: dict[int, Department] = field(default_factory=dict)
    site_of: dict[int, int] = field(default_factory=dict)
    function_of: dict[int, str | None] = field(default_factory=dict)
    empty: list[int] = field(default_factory=list)
    children: Counter[int | None] = field(default_factory=Counter)

    def add(self, name: str, parent: int | None, function: str | None,
            *, archived: bool = False, description: str | None = None) -> int:
        """Add a department as the last child of ``parent``; return its id."""
        dep_id = len(self.departments) + 1
        level = 1 if parent is None else self.departments[parent].level + 1
        remote_id = f"DEP-{dep_id:03d}" if self.rng.random() < 0.85 else None
        self.departments[dep_id] = Department(
            id=dep_id, name=name, parent_id=parent, level=level,
            sort_order=self.children[parent], remote_id=remote_id,
            description=description, is_archived=archived)
        self.children[parent] += 1
        self.site_of[dep_id] = dep_id if parent is None else self.site_of[parent]
        self.function_of[dep_id] = function
        return dep_id


def build_tree(rng: random.Random, count: int) -> Tree:
    """Build ``count`` departments: sites, functions, teams, then the empty ones.

    Room is given in this order: two sites, one empty department, the function shared
    by two sites, one archived empty department, then about one empty department in
    twelve, then functions and teams.
    """
    tree = Tree(rng)
    n_roots = 1 if count == 1 else min(len(_names.SITES), max(2, count // 6))
    roots = [tree.add(name, None, None, description=f"Établissement de {city}")
             for name, city in _names.SITES[:n_roots]]
    left = count - n_roots
    n_empty = min(left, 1)
    taken: dict[int, set[str]] = {root: set() for root in roots}
    if left - n_empty >= 2:
        for root in roots[:2]:
            tree.add(_names.SHARED_DEPARTMENT, root, _names.SHARED_DEPARTMENT)
            taken[root].add(_names.SHARED_DEPARTMENT)
        left -= 2
    n_archived = min(left - n_empty, 1)
    n_empty += min(left - n_empty - n_archived, len(_names.EMPTY_DEPARTMENTS) - 1,
                   max(0, count // 12 - 1))
    _grow(tree, roots, taken, left - n_archived - n_empty)
    for name in rng.sample(_names.EMPTY_DEPARTMENTS, n_empty):
        tree.empty.append(tree.add(name, rng.choice(roots), None))
    if n_archived:
        name = rng.choice(_names.ARCHIVED_DEPARTMENTS)
        tree.empty.append(tree.add(name, rng.choice(roots), None, archived=True))
    return tree


def _grow(tree: Tree, roots: list[int], taken: dict[int, set[str]], count: int) -> None:
    """Add ``count`` functions (round robin over sites) and teams (about 30 %)."""
    rng = tree.rng
    functions = list(_names.FUNCTIONS)
    pending = {root: [name for name in rng.sample(functions, len(functions))
                      if name not in taken[root]] for root in roots}
    open_teams: list[tuple[int, list[str]]] = []
    numbered = itertools.count(1)
    for index in range(count):
        root = roots[index % len(roots)]
        if open_teams and (not pending[root] or rng.random() < 0.3):
            slot = rng.randrange(len(open_teams))
            parent, names = open_teams[slot]
            tree.add(names.pop(), parent, tree.function_of[parent])
            if not names:  # swap-remove keeps the pick O(1)
                open_teams[slot] = open_teams[-1]
                open_teams.pop()
        elif pending[root]:
            name = pending[root].pop()
            dep_id = tree.add(name, root, name)
            open_teams.append((dep_id, list(_names.FUNCTIONS[name])))
        else:  # every pool used up: numbered teams anywhere in the tree
            parent = rng.randint(1, len(tree.departments))
            tree.add(f"Équipe {next(numbered)}", parent, tree.function_of[parent])


class Staff:
    """Hire the employees of one company into a built tree (contracts, positions)."""

    def __init__(self, rng: random.Random, lucca: LuccaData, tree: Tree, today: dt.date,
                 domain: str) -> None:
        self.rng, self.lucca, self.tree, self.today, self.domain = rng, lucca, tree, today, domain
        self.now = clock_time(today)
        self.emails, self.logins = _Unique(), _Unique()
        empty = set(tree.empty)
        self.staffed = [dep for dep in tree.departments if dep not in empty]
        # Sites keep a few people of their own; most work in a function or a team.
        weights = [1 if tree.departments[dep].parent_id is None else 3 for dep in self.staffed]
        self.cum_weights = list(itertools.accumulate(weights))
        self.establishment_of = {root: index + 1 for index, root in enumerate(
            dep for dep in tree.departments if tree.departments[dep].parent_id is None)}
        self.qualifications = list(lucca.job_qualifications)
        self.active: list[int] = []
        self.employment_ids = itertools.count(1001)
        self.position_ids = itertools.count(2001)

    def hire(self, count: int) -> None:
        """Create ``count`` employees: ~85 % active, ~5 % upcoming, ~10 % deactivated."""
        rng = self.rng
        n_upcoming, n_gone = round(count * 0.05), round(count * 0.10)
        if count >= 20:
            n_upcoming, n_gone = max(1, n_upcoming), max(1, n_gone)
        statuses = (["upcoming"] * n_upcoming + ["deactivated"] * n_gone
                    + ["active"] * (count - n_upcoming - n_gone))
        rng.shuffle(statuses)
        # Every staffed department gets someone before the rest is drawn at random.
        places = self.staffed[:count] + rng.choices(
            self.staffed, cum_weights=self.cum_weights, k=max(0, count - len(self.staffed)))
        rng.shuffle(places)
        for index, (status, dep_id) in enumerate(zip(statuses, places, strict=True)):
            self._employee(101 + index, index + 1, status, dep_id)

    def _employee(self, emp_id: int, number: int, status: str, dep_id: int) -> None:
        rng = self.rng
        given, family = rng.choice(_names.GIVEN_NAMES), rng.choice(_names.FAMILY_NAMES)
        employment = self._employment(emp_id, status)
        positions = self._positions(emp_id, employment, dep_id, status)
        created, updated = self._timestamps(employment)
        phone = self._phone()
        employee = Employee(
            id=emp_id, given_name=given, family_name=family,
            email=self._email(given, family), login=self._login(given, family),
            employee_number=None if status == "upcoming" and number % 2 else f"{number:05d}",
            remote_id=f"SIRH-{number:06d}" if rng.random() < 0.9 else None,
            phone_number=phone, birth_date=self._birth_date(employment.start),
            employment_id=employment.id, job_position_id=positions[-1].id,
            created_at=created, last_updated_at=updated)
        self.lucca.employees[emp_id] = employee
        if status == "active":
            self.active.append(emp_id)

    def _email(self, given: str, family: str) -> str:
        return f"{self.emails(slug(given) + '.' + slug(family))}@{self.domain}"

    def _login(self, given: str, family: str) -> str:
        return self.logins(slug(given)[:1] + slug(family))

    def _employment(self, emp_id: int, status: str) -> Employment:
        rng, today = self.rng, self.today
        template = rng.choices(_TEMPLATE_IDS, cum_weights=(80, 90, 96, 100))[0]
        fixed_term = _names.EMPLOYMENT_TEMPLATES[template][1]
        end: dt.date | None
        if status == "upcoming":
            start = today + rng.randint(1, 90) * _DAY
            end = start + rng.randint(180, 730) * _DAY if fixed_term else None
        elif status == "deactivated":
            end = today - rng.randint(1, 1095) * _DAY
            start = end - rng.randint(60, 3650) * _DAY
        else:
            start = today - min(int(rng.expovariate(1 / 1500)), 9000) * _DAY
            end = today + rng.randint(0, 365) * _DAY if fixed_term else None
        employment = Employment(
            id=next(self.employment_ids), employee_id=emp_id, legal_entity_id=1, start=start,
            end=end, template_id=template, remote_id=f"CTR-{emp_id}")
        self.lucca.employments[employment.id] = employment
        return employment

    def _positions(self, emp_id: int, employment: Employment, dep_id: int,
                   status: str) -> list[JobPosition]:
        """Return the positions of one employment, oldest first (the last is applicable)."""
        rng, start, end = self.rng, employment.start, employment.end
        worked = ((min(end, self.today) if end else self.today) - start).days
        positions = []
        if status != "upcoming" and len(self.staffed) > 1 and worked > 400 \
                and rng.random() < 0.12:
            moved = start + rng.randint(180, worked - 30) * _DAY
            former = dep_id
            while former == dep_id:
                former = rng.choice(self.staffed)
            positions.append(self._position(emp_id, employment, former, start, moved - _DAY))
            start = moved
        positions.append(self._position(emp_id, employment, dep_id, start, end))
        return positions

    def _position(self, emp_id: int, employment: Employment, dep_id: int,
                  starts_on: dt.date, ends_on: dt.date | None) -> JobPosition:
        rng = self.rng
        function = self.tree.function_of[dep_id]
        titles = _names.SITE_TITLES if function is None else _names.JOB_TITLES.get(
            function, _names.GENERIC_TITLES)
        position = JobPosition(
            id=next(self.position_ids), employee_id=emp_id, employment_id=employment.id,
            department_id=dep_id, starts_on=starts_on, ends_on=ends_on,
            job_title=rng.choice(titles),
            business_establishment_id=self.establishment_of[self.tree.site_of[dep_id]],
            job_qualification_id=rng.choice(self.qualifications) if rng.random() < 0.9 else None)
        self.lucca.job_positions[position.id] = position
        return position

    def _timestamps(self, employment: Employment) -> tuple[dt.datetime, dt.datetime]:
        """Return (created, last updated): the file opens before arrival, never after now."""
        rng = self.rng
        opened = max(self.lucca.created_at.date(), employment.start - rng.randint(1, 45) * _DAY)
        created = dt.datetime.combine(opened, dt.time(7), UTC) + dt.timedelta(
            seconds=rng.randrange(36000))
        created = min(created, self.now - dt.timedelta(minutes=rng.randint(1, 600)))
        updated = created + (self.now - created) * rng.random()
        if employment.end is not None and employment.end < self.today:
            updated = max(updated, min(self.now, dt.datetime.combine(employment.end,
                                                                     dt.time(17), UTC)))
        return created, updated

    def _phone(self) -> str | None:
        draw = self.rng.random()
        if draw < 0.2:
            return None
        digits = f"{self.rng.choice('167')}{self.rng.randrange(10**8):08d}"
        return f"+33{digits}" if draw < 0.6 else f"0{digits}"

    def _birth_date(self, start: dt.date) -> dt.date | None:
        if self.rng.random() < 0.04:
            return None
        return min(start, self.today) - self.rng.randint(18 * 365 + 5, 35 * 365) * _DAY

    def rename(self, emp_id: int, given: str, family: str, email_family: str = "") -> None:
        """Give employee ``emp_id`` new names, with a fresh email and login from them."""
        employee = self.lucca.employees[emp_id]
        employee.given_name, employee.family_name = given, family
        employee.email = self._email(given, email_family or family)
        employee.login = self._login(given, email_family or family)


def add_edge_cases(staff: Staff) -> None:
    """Turn a few active employees into the cases real tenants have, as many as fit.

    In order: accents and an apostrophe, an email with stray spaces and upper case, an
    email Cards rejects, a too-long name, two employees sharing an email (different
    case); then about 3 % of everyone (at least one) loses their email.
    """
    rng, lucca = staff.rng, staff.lucca
    chosen = rng.sample(staff.active, min(len(staff.active), 6))
    for emp_id, role in zip(chosen, (_accented, _messy_email, _rejected_email, _long_name),
                            strict=False):
        role(staff, emp_id)
    if len(chosen) == 6:
        first, second = lucca.employees[chosen[4]], lucca.employees[chosen[5]]
        staff.rename(second.id, first.given_name, first.family_name)
        second.email = f"{_local(first.email).title()}@{staff.domain}"
    taken = set(chosen)
    others = [emp_id for emp_id in lucca.employees if emp_id not in taken]
    for emp_id in rng.sample(others, min(len(others), max(1, round(len(lucca.employees) * 0.03)))):
        lucca.employees[emp_id].email = None


def _local(email: str | None) -> str:
    return (email or "").partition("@")[0]


def _accented(staff: Staff, emp_id: int) -> None:
    staff.rename(emp_id, staff.rng.choice(_names.ACCENTED_GIVEN_NAMES),
                 staff.rng.choice(_names.APOSTROPHE_FAMILY_NAMES))


def _messy_email(staff: Staff, emp_id: int) -> None:
    employee = staff.lucca.employees[emp_id]
    employee.email = f" {_local(employee.email).title()}@{staff.domain} "


def _rejected_email(staff: Staff, emp_id: int) -> None:
    # Still has an "@", so Lucca takes it; the domain has no dot, so Cards does not.
    employee = staff.lucca.employees[emp_id]
    employee.email = f"{_local(employee.email)}@{staff.domain.split('.')[0]}"


def _long_name(staff: Staff, emp_id: int) -> None:
    family = ""
    for part in staff.rng.sample(_names.LONG_NAME_PARTS, len(_names.LONG_NAME_PARTS)):
        family = f"{family} {part}".strip()
        if len(family) > CARDS_NAME_LIMIT:
            break
    staff.rename(emp_id, _names.LONG_NAME_GIVEN, family, email_family=family.split()[-1])


def appoint_managers(staff: Staff) -> None:
    """Make the first active employee of most departments its head; wire position managers.

    A position's manager is its department's head, or (for the head, or a department
    without one) the closest head above.
    """
    lucca, rng = staff.lucca, staff.rng
    first_active: dict[int, int] = {}
    for emp_id in staff.active:
        position = lucca.job_positions[lucca.employees[emp_id].job_position_id]
        first_active.setdefault(position.department_id, emp_id)
    above: dict[int, int | None] = {}
    for dep in lucca.departments.values():  # parents come before their children
        if dep.id in first_active and rng.random() < 0.8:
            dep.manager_id = first_active[dep.id]
            head = lucca.job_positions[lucca.employees[dep.manager_id].job_position_id]
            head.job_title = (_names.HEAD_TITLE_PREFIX + dep.name if dep.parent_id is not None
                              else _names.HQ_HEAD_TITLE if dep.id == 1
                              else _names.SITE_HEAD_TITLE)
        parent = dep.parent_id
        above[dep.id] = (None if parent is None
                         else lucca.departments[parent].manager_id or above[parent])
    for position in lucca.job_positions.values():
        dep = lucca.departments[position.department_id]
        own = dep.manager_id if dep.manager_id != position.employee_id else None
        manager = own or above[dep.id]
        position.manager_id = None if manager == position.employee_id else manager


def seed_lucca(seed: int, lucca: LuccaData, company: str, *, departments: int,
               employees: int, today: dt.date, domain: str) -> None:
    """Fill ``lucca`` with a company of ``employees`` people in ``departments`` departments."""
    tree = build_tree(random.Random(f"{seed}:departments"), departments)  # noqa: S311 - not crypto
    lucca.departments = tree.departments
    lucca.legal_entities[1] = f"{company} SAS"
    cities = dict(_names.SITES)
    sites = [dep.name for dep in tree.departments.values() if dep.parent_id is None]
    lucca.business_establishments = {
        index + 1: f"{company} {cities[site]}" + (" (siège)" if index == 0 else "")
        for index, site in enumerate(sites)}
    lucca.job_qualifications = dict(enumerate(_names.JOB_QUALIFICATIONS, start=1))
    staff = Staff(random.Random(f"{seed}:employees"), lucca, tree, today, domain)  # noqa: S311
    staff.hire(employees)
    add_edge_cases(staff)
    appoint_managers(staff)
