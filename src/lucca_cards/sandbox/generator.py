"""Generate a realistic French company, seeded: its Lucca tenant and its Cards workspace.

:func:`generate_company` is deterministic: the same seed and arguments give the same
company, ids included (Lucca ids are integers, Cards ids UUID 4 drawn from the seed). The
department tree, the staff and the Cards workspace draw from separate seeded streams, so
asking for more trainings does not reshuffle the employees. :func:`describe` counts what
was generated.

Lucca
    A department tree: sites as roots (level 1: "Siège Paris", "Agence Lyon"…, one
    business establishment each, one legal entity), functions below them, some teams
    below those; ``sort_order`` 0-based among siblings; most staffed departments have a
    head (``manager_id``), and every job position a manager (its department's head, else
    the closest head above). Each employee has one employment and a current job position;
    about 12 % of those hired more than 400 days before also hold an older, ended position
    in another department. Statuses: ~85 % active, ~5 % upcoming (start after today),
    ~10 % deactivated (ended before today). Employee numbers (not yet for half the
    upcoming), remote ids, logins, French phone numbers (or none), birth dates, UTC
    timestamps up to yesterday evening. The ``e_formation`` composite multiple field
    (or ``training_field``) is declared, empty; with ``stats_field=False`` it is not (a
    tenant before the Lucca setup step that creates it).

The edge cases real tenants have, all present once ``employees >= 20`` and
``departments >= 6`` (below that, as many as fit, in the order given):

* departments: an empty department (from 3 departments; about one in twelve from 24
  on); the same name ("Marketing") under two different sites (from 5); an archived
  empty department (from 6);
* employees (taken from the active ones; "from n" counts active employees): accents
  and an apostrophe in the names (from 1, and throughout the name pools, with a
  typographic apostrophe and a ligature too);
  an email with stray spaces and upper case (`` Claire.Dubois@acme.fr ``) whose Cards
  account exists in lower case (from 2, with ``existing_cards_users > 0``); an email Cards
  rejects but Lucca takes (``marc.petit@acme``, from 3); a family name longer than the
  190 characters Cards accepts, within Lucca's 255 (from 4); two employees sharing an
  email in different case (``Jean.Martin@acme.fr`` / ``jean.martin@acme.fr``, from 6);
  about 3 % of the others without email (at least one, if anyone is left).

Other emails are ``prenom.nom@domain`` in lower-case ASCII (accents folded, apostrophes
and spaces dropped), repeated ones suffixed ``2``, ``3``….

Cards
    The workspace before the first import: its owner (role ``owner``, a shared mailbox on
    the company domain) and external trainers (``editor``) exist only in Cards; about
    ``existing_cards_users`` of the employees whose email Cards accepts already have an
    account, in their own groups ("Ambassadeurs", "Formateurs internes", "Comité de
    direction", "Nouveaux arrivants" and one group named like a Lucca department).
    ``trainings`` trainings (published, one draft from two on; 3 to 8 chapters, some with
    quizzes; a third public, the rest shared with groups), badges (some unlocked by those
    accounts, one draft, one expired), certificates; no progress.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from ._cards_seed import cards_accepts_email, normalise_email, seed_cards
from ._lucca_seed import CARDS_NAME_LIMIT, UTC, clock_time, seed_lucca
from ._model import CardsData, Company, ExtendedField, LuccaData, employee_status

__all__ = ["describe", "generate_company"]

_APOSTROPHES = ("'", "\u2019")  # straight and typographic
_TRAINING_SUB_FIELDS = ("e_title", "e_link", "e_progress", "e_score", "e_last_completion_date")


def generate_company(*, seed: int = 0, employees: int = 300, departments: int = 24,
                     trainings: int = 8, today: dt.date | None = None,
                     lucca_tenant: str = "acme", cards_tenant: str = "acme",
                     domain: str = "acme.fr", existing_cards_users: float = 0.1,
                     training_field: ExtendedField | None = None,
                     stats_field: bool = True) -> Company:
    """Build a company of exactly ``employees`` people in exactly ``departments`` departments.

    Args:
        seed: the same seed and arguments give the same company.
        employees: how many employees (all statuses), ``>= 0``.
        departments: how many departments, ``>= 1``.
        trainings: how many Cards trainings, ``>= 0``.
        today: the day the statuses are computed for (default: the real today).
        lucca_tenant: the Lucca tenant; the company's name is derived from it.
        cards_tenant: the Cards workspace (``X-Tenant``).
        domain: the email domain of the employees.
        existing_cards_users: fraction (0 to 1) of the employees with an email Cards
            accepts who already have a Cards account.
        training_field: the employee-file field training results are written to
            (default: ``e_formation``, composite, multiple).
        stats_field: declare the training field; ``False`` leaves the tenant without it,
            as before the Lucca setup creates it.

    Raises:
        ValueError: a count or the fraction is out of range, or the domain is empty.

    >>> company = generate_company(seed=1, employees=40, departments=8)
    >>> len(company.lucca.employees), len(company.lucca.departments)
    (40, 8)
    """
    if employees < 0 or departments < 1 or trainings < 0:
        raise ValueError("need employees >= 0, departments >= 1 and trainings >= 0")
    if not 0.0 <= existing_cards_users <= 1.0:
        raise ValueError("existing_cards_users is a fraction between 0 and 1")
    if not domain:
        raise ValueError("domain must not be empty")
    today = today or dt.date.today()
    name = lucca_tenant.replace("-", " ").title()
    tenant_since = dt.datetime(today.year - 3, 1, 15, 9, 30, tzinfo=UTC)
    lucca = LuccaData(tenant=lucca_tenant, created_at=tenant_since)
    field = training_field or ExtendedField(
        code="e_formation", name="Formations", multiple=True, sub_fields=_TRAINING_SUB_FIELDS)
    if stats_field:
        lucca.extended_fields[field.code] = field
    seed_lucca(seed, lucca, name, departments=departments, employees=employees, today=today,
               domain=domain)
    cards = CardsData(tenant=cards_tenant)
    seed_cards(random.Random(f"{seed}:cards"), cards, lucca, company=name,  # noqa: S311
               domain=domain, trainings=trainings, existing=existing_cards_users,
               since=tenant_since + dt.timedelta(days=90), now=clock_time(today))
    return Company(name=name, domain=domain, today=today, lucca=lucca, cards=cards)


def describe(company: Company) -> dict[str, int]:
    """Count what ``company`` holds, edge cases included (for the demo and the tests).

    Emails are compared as Cards stores them (trimmed, lower case): ``shared_email_pairs``
    counts pairs of employees with the same address, ``preexisting_cards_users`` the
    Cards accounts whose address is an employee's, ``cards_only_users`` the others.
    """
    return {**_describe_lucca(company), **_describe_cards(company)}


def _describe_lucca(company: Company) -> dict[str, int]:
    lucca = company.lucca
    people = list(lucca.employees.values())
    statuses = Counter(employee_status(lucca.employments[e.employment_id], company.today)
                       for e in people)
    emails = [e.email for e in people if e.email is not None]
    addresses = Counter(normalise_email(email) for email in emails)
    names = [(e.given_name, e.family_name) for e in people]
    positions = Counter(position.employee_id for position in lucca.job_positions.values())
    departments = list(lucca.departments.values())
    dep_names = Counter(dep.name for dep in departments)
    staffed = {position.department_id for position in lucca.job_positions.values()}
    return {
        "employees": len(people),
        "active": statuses["active"],
        "upcoming": statuses["upcoming"],
        "deactivated": statuses["deactivated"],
        "without_email": len(people) - len(emails),
        "shared_email_pairs": sum(n * (n - 1) // 2 for n in addresses.values()),
        "unnormalised_emails": sum(email != normalise_email(email) for email in emails),
        "emails_cards_rejects": sum(not cards_accepts_email(address) for address in addresses),
        "long_names": sum(max(map(len, pair)) > CARDS_NAME_LIMIT for pair in names),
        "accented_names": sum(not (given + family).isascii() for given, family in names),
        "apostrophe_names": sum(any(mark in given + family for mark in _APOSTROPHES)
                                for given, family in names),
        "with_former_position": sum(count > 1 for count in positions.values()),
        "departments": len(departments),
        "root_departments": sum(dep.parent_id is None for dep in departments),
        "max_department_level": max((dep.level for dep in departments), default=0),
        "same_name_departments": sum(n for n in dep_names.values() if n > 1),
        "empty_departments": sum(dep.id not in staffed for dep in departments),
        "archived_departments": sum(dep.is_archived for dep in departments),
        "managed_departments": sum(dep.manager_id is not None for dep in departments),
    }


def _describe_cards(company: Company) -> dict[str, int]:
    lucca, cards = company.lucca, company.cards
    addresses = {normalise_email(e.email) for e in lucca.employees.values() if e.email}
    users = list(cards.users.values())
    known = sum(u.email is not None and normalise_email(u.email) in addresses for u in users)
    dep_names = {dep.name for dep in lucca.departments.values()}
    chapters = [c for training in cards.trainings.values() for c in training.chapters]
    return {
        "cards_users": len(users),
        "preexisting_cards_users": known,
        "cards_only_users": len(users) - known,
        "cards_owners": sum(u.role == "owner" for u in users),
        "cards_groups": len(cards.groups),
        "department_named_groups": sum(g.name in dep_names for g in cards.groups.values()),
        "trainings": len(cards.trainings),
        "draft_trainings": sum(t.status == "draft" for t in cards.trainings.values()),
        "public_trainings": sum(t.is_public for t in cards.trainings.values()),
        "chapters": len(chapters),
        "quiz_chapters": sum(c.has_quiz for c in chapters),
        "badges": len(cards.badges),
        "unlocked_badges": sum(bool(b.user_ids) for b in cards.badges.values()),
        "certificates": len(cards.certificates),
        "progress": len(cards.progress),
    }
