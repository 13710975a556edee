"""The seeded company generator: determinism, counts, constraints, every edge case."""

from __future__ import annotations

import datetime as dt
import doctest
import re
import time
import uuid
from collections import Counter, defaultdict

import pytest

from lucca_cards.sandbox import generator
from lucca_cards.sandbox._model import Company, Employee, ExtendedField, employee_status
from lucca_cards.sandbox.generator import describe, generate_company

TODAY = dt.date(2025, 3, 12)
PHONE = re.compile(r"^[\+]?[(]?[0-9]{3}[)]?[-\s\.]?[0-9]{3}[-\s\.]?[0-9]{4,6}$")
PLAIN_EMAIL = re.compile(r"^[a-z-]+\.[a-z-]+[0-9]*@acme\.fr$")
CARDS_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EDGE_CASES = ("shared_email_pairs", "unnormalised_emails", "emails_cards_rejects",
              "long_names", "accented_names", "apostrophe_names", "without_email",
              "same_name_departments", "empty_departments", "archived_departments",
              "preexisting_cards_users", "department_named_groups", "upcoming",
              "deactivated")


@pytest.fixture(scope="module")
def company() -> Company:
    return generate_company(seed=7, today=TODAY)


def normal(email: str) -> str:
    return email.strip().lower()


def test_same_seed_and_arguments_give_the_same_company() -> None:
    first = generate_company(seed=3, employees=120, departments=10, today=TODAY)
    again = generate_company(seed=3, employees=120, departments=10, today=TODAY)
    other = generate_company(seed=4, employees=120, departments=10, today=TODAY)
    assert first == again
    assert list(first.cards.users) == list(again.cards.users)
    assert first.lucca.employees != other.lucca.employees
    assert set(first.cards.users).isdisjoint(other.cards.users)


def test_more_trainings_do_not_reshuffle_the_staff() -> None:
    few = generate_company(seed=3, employees=80, trainings=2, today=TODAY)
    many = generate_company(seed=3, employees=80, trainings=12, today=TODAY)
    assert few.lucca == many.lucca
    assert (len(few.cards.trainings), len(many.cards.trainings)) == (2, 12)


@pytest.mark.parametrize(("employees", "departments"),
                         [(0, 1), (1, 1), (7, 3), (20, 6), (57, 13), (300, 24), (900, 400)])
def test_exact_counts_and_a_sound_company(employees: int, departments: int) -> None:
    company = generate_company(seed=employees, employees=employees, departments=departments,
                               today=TODAY)
    assert len(company.lucca.employees) == employees
    assert len(company.lucca.departments) == departments
    assert_tree(company)
    assert_staff(company)
    assert_cards(company)


def test_every_edge_case_is_there_from_20_employees_and_6_departments() -> None:
    counts = describe(generate_company(seed=11, employees=20, departments=6, today=TODAY))
    assert {name: counts[name] for name in EDGE_CASES if counts[name] < 1} == {}
    assert counts["shared_email_pairs"] == 1
    assert counts["unnormalised_emails"] == 2  # " Claire.Dubois@… " and "Jean.Martin@…"
    assert counts["emails_cards_rejects"] == counts["long_names"] == 1
    assert counts["archived_departments"] == 1
    assert counts["empty_departments"] == 2  # one open, one archived
    assert counts["same_name_departments"] == 2
    assert counts["cards_owners"] == 1
    assert counts["cards_only_users"] == 4  # the owner and three external trainers


def test_the_default_company(company: Company) -> None:
    counts = describe(company)
    assert (counts["active"], counts["upcoming"], counts["deactivated"]) == (255, 15, 30)
    assert counts["without_email"] == 9  # 3 %
    assert counts["root_departments"] == 4
    assert counts["max_department_level"] == 3
    assert counts["empty_departments"] == 3
    assert counts["with_former_position"] > 0
    assert counts["managed_departments"] > 0
    assert counts["trainings"] == 8
    assert counts["draft_trainings"] == 1
    assert 0 < counts["public_trainings"] < 8
    assert counts["quiz_chapters"] > 0
    assert counts["cards_groups"] == 5
    assert counts["department_named_groups"] >= 1
    assert 0 < counts["unlocked_badges"] < counts["badges"]
    assert counts["certificates"] == 3
    assert counts["progress"] == 0
    assert company.cards.progress == {}


def test_about_the_requested_share_of_employees_are_already_in_cards(company: Company) -> None:
    counts = describe(company)
    # 300 employees, minus those without email, the rejected one, the long name and
    # the pair sharing an address: ~10 % of them.
    assert 25 <= counts["preexisting_cards_users"] <= 31
    none = describe(generate_company(seed=7, today=TODAY, existing_cards_users=0.0))
    assert none["preexisting_cards_users"] == 0
    assert none["cards_only_users"] == 4
    everyone = describe(generate_company(seed=7, today=TODAY, existing_cards_users=1.0))
    assert everyone["preexisting_cards_users"] == 300 - 9 - 1 - 1 - 2


def test_the_edge_case_employees_and_their_cards_accounts(company: Company) -> None:
    people = list(company.lucca.employees.values())
    cards_emails = {user.email for user in company.cards.users.values()}
    messy = [e for e in people if e.email and e.email != e.email.strip()]
    assert len(messy) == 1
    assert messy[0].email != normal(messy[0].email or "")
    assert normal(messy[0].email or "") in cards_emails  # the account is in lower case
    by_address = defaultdict(list)
    for employee in people:
        if employee.email:
            by_address[normal(employee.email)].append(employee)
    (pair,) = [group for group in by_address.values() if len(group) > 1]
    assert len({e.email for e in pair}) == 2  # same address, different case
    assert {e.email for e in pair} & cards_emails == set()
    (rejected,) = [e for e in people if e.email and not CARDS_EMAIL.match(normal(e.email))]
    assert "@" in (rejected.email or "")
    (long_name,) = [e for e in people if len(e.family_name) > 190]
    assert len(long_name.family_name) <= 255
    assert long_name.email not in cards_emails
    assert any("'" in e.family_name for e in people)
    assert any(not e.given_name.isascii() for e in people)
    deviants = {id(e) for e in [*messy, *pair, rejected]}
    for employee in people:
        if employee.email and id(employee) not in deviants:
            assert PLAIN_EMAIL.match(employee.email), employee.email


def test_emails_fold_accents_apostrophes_and_repeat_with_a_suffix() -> None:
    company = generate_company(seed=5, employees=3000, today=TODAY)
    people = [e for e in company.lucca.employees.values()
              if e.email and PLAIN_EMAIL.match(e.email)]
    assert len({e.email for e in people}) == len(people)
    assert any(re.search(r"[0-9]@", e.email or "") for e in people)
    folded = {e.family_name: (e.email or "").split("@")[0].split(".")[1].rstrip("0123456789")
              for e in people}
    assert folded["D'Almeida"] == "dalmeida"
    assert folded["de La Fontaine"] == "delafontaine"
    assert folded["Dupont-Moreau"] == "dupont-moreau"
    assert folded["Bénard-Lœuillet"] == "benard-loeuillet"
    assert folded["D\u2019Amico"] == "damico"


def test_statuses_follow_the_employments(company: Company) -> None:
    for employee in company.lucca.employees.values():
        employment = company.lucca.employments[employee.employment_id]
        status = employee_status(employment, TODAY)
        if status == "upcoming":
            assert employment.start > TODAY
        elif status == "deactivated":
            assert employment.end is not None
            assert employment.end < TODAY
        else:
            assert employment.start <= TODAY
            assert employment.end is None or employment.end >= TODAY


def test_the_default_training_field_is_registered(company: Company) -> None:
    field = company.lucca.extended_fields["e_formation"]
    assert field.multiple
    assert field.sub_fields == ("e_title", "e_link", "e_progress", "e_score",
                                "e_last_completion_date")
    custom = ExtendedField(code="e_lms", name="LMS", multiple=True, sub_fields=("e_title",))
    other = generate_company(employees=3, departments=2, today=TODAY, training_field=custom)
    assert other.lucca.extended_fields == {"e_lms": custom}
    assert all(e.extended_data == {} for e in other.lucca.employees.values())


def test_tenants_domain_and_today() -> None:
    before = dt.date.today()
    company = generate_company(employees=25, departments=6, lucca_tenant="globex-corp",
                               cards_tenant="globex", domain="globex.com")
    assert company.today in (before, dt.date.today())
    assert (company.name, company.domain) == ("Globex Corp", "globex.com")
    assert (company.lucca.tenant, company.cards.tenant) == ("globex-corp", "globex")
    assert company.lucca.legal_entities == {1: "Globex Corp SAS"}
    emails = [e.email for e in company.lucca.employees.values() if e.email]
    assert sum(normal(email).endswith("@globex.com") for email in emails) == len(emails) - 1
    assert "formation@globex.com" in {u.email for u in company.cards.users.values()}
    assert all(t.public_url.startswith("https://") and "/globex/" in t.public_url
               for t in company.cards.trainings.values())


@pytest.mark.parametrize(("arguments", "message"), [
    ({"employees": -1}, "employees >= 0"), ({"departments": 0}, "departments >= 1"),
    ({"trainings": -1}, "trainings >= 0"), ({"existing_cards_users": 1.5}, "fraction"),
    ({"domain": ""}, "domain")])
def test_out_of_range_arguments_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_company(**arguments)  # type: ignore[arg-type]


def test_fifty_thousand_employees_in_a_few_seconds() -> None:
    started = time.perf_counter()
    company = generate_company(seed=2, employees=50_000, today=TODAY)
    elapsed = time.perf_counter() - started
    assert len(company.lucca.employees) == 50_000
    assert elapsed < 10, elapsed
    counts = describe(company)
    assert (counts["upcoming"], counts["deactivated"]) == (2500, 5000)
    assert 4500 < counts["preexisting_cards_users"] < 5200


def test_the_documented_example_runs() -> None:
    assert doctest.testmod(generator).failed == 0


# -- invariants shared by the size sweep ---------------------------------------------


def assert_tree(company: Company) -> None:
    departments = company.lucca.departments
    siblings: dict[int | None, list[int]] = defaultdict(list)
    for dep in departments.values():
        assert 1 <= len(dep.name) <= 255
        if dep.parent_id is None:
            assert dep.level == 1
        else:
            assert dep.parent_id in departments
            assert dep.level == departments[dep.parent_id].level + 1
        assert dep.remote_id is None or len(dep.remote_id) <= 255
        siblings[dep.parent_id].append(dep.sort_order)
    assert all(sorted(orders) == list(range(len(orders))) for orders in siblings.values())
    attached = {p.department_id for p in company.lucca.job_positions.values()}
    assert all(dep.id not in attached for dep in departments.values() if dep.is_archived)
    for dep in departments.values():
        if dep.manager_id is not None:
            head = company.lucca.employees[dep.manager_id]
            position = company.lucca.job_positions[head.job_position_id]
            assert position.department_id == dep.id
            assert employee_status(company.lucca.employments[head.employment_id],
                                   TODAY) == "active"


def assert_staff(company: Company) -> None:
    lucca = company.lucca
    positions_of: dict[int, list[int]] = defaultdict(list)
    for position in lucca.job_positions.values():
        positions_of[position.employee_id].append(position.id)
        assert lucca.employments[position.employment_id].employee_id == position.employee_id
        assert position.department_id in lucca.departments
        assert position.business_establishment_id in lucca.business_establishments
        assert position.job_qualification_id in (None, *lucca.job_qualifications)
        assert position.manager_id in (None, *lucca.employees)
        assert position.manager_id != position.employee_id
    assert set(positions_of) == set(lucca.employees)
    assert len(lucca.employments) == len(lucca.employees)
    now = dt.datetime.combine(TODAY, dt.time(), dt.timezone.utc)
    for employee in lucca.employees.values():
        assert_employee(employee, now)
        ids = sorted(positions_of[employee.id])
        assert employee.job_position_id == ids[-1]
        employment = lucca.employments[employee.employment_id]
        assert employment.employee_id == employee.id
        current = lucca.job_positions[ids[-1]]
        assert current.employment_id == employment.id
        assert current.ends_on == employment.end
        if len(ids) > 1:
            former = lucca.job_positions[ids[0]]
            assert former.department_id != current.department_id
            assert former.starts_on == employment.start
            assert former.ends_on == current.starts_on - dt.timedelta(days=1)
        else:
            assert current.starts_on == employment.start
    for unique in ("login", "remote_id", "employee_number"):
        values = [getattr(e, unique) for e in lucca.employees.values()]
        present = [value for value in values if value is not None]
        assert len(set(present)) == len(present), unique


def assert_employee(employee: Employee, now: dt.datetime) -> None:
    for name in (employee.given_name, employee.family_name):
        assert 1 <= len(name) <= 255
        assert name == name.strip()
    if employee.email is not None:
        assert 3 <= len(employee.email) <= 255
        assert "@" in employee.email
        assert not set("<>") & set(employee.email)
    assert employee.phone_number is None or PHONE.match(employee.phone_number)
    assert employee.remote_id is None or len(employee.remote_id) <= 100
    assert employee.employee_number is None or 1 <= len(employee.employee_number) <= 50
    assert employee.login
    assert employee.birth_date is None or employee.birth_date < TODAY - dt.timedelta(days=18 * 365)
    assert employee.created_at.tzinfo is dt.timezone.utc
    assert employee.created_at <= employee.last_updated_at < now


def assert_cards(company: Company) -> None:
    cards = company.cards
    ids = [*cards.users, *cards.groups, *cards.trainings, *cards.badges, *cards.certificates]
    ids += [chapter.id for training in cards.trainings.values() for chapter in training.chapters]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(value).version == 4 for value in ids)
    emails = [user.email for user in cards.users.values()]
    assert all(email and email == normal(email) and CARDS_EMAIL.match(email) for email in emails)
    assert len(set(emails)) == len(emails)
    assert Counter(user.role for user in cards.users.values())["owner"] == 1
    for user in cards.users.values():
        assert 1 <= len(user.firstname) <= 190
        assert 1 <= len(user.lastname) <= 190
        assert user.role in ("user", "editor", "owner")
        assert user.source in ("app", "sso", "GoogleOAuth", "MicrosoftOAuth", "AppleOAuth")
        assert user.lang in ("fr", "en")
        assert set(user.group_ids) <= set(cards.groups)
    statuses = Counter(training.status for training in cards.trainings.values())
    assert statuses["draft"] == (1 if len(cards.trainings) >= 2 else 0)
    for training in cards.trainings.values():
        assert 3 <= len(training.chapters) <= 8
        assert [c.position for c in training.chapters] == list(range(1, len(training.chapters) + 1))
        assert set(training.group_ids) <= set(cards.groups)
        assert training.is_public or training.group_ids
        assert training.image.startswith("https://")
        assert training.category
    for badge in cards.badges.values():
        assert set(badge.user_ids) <= set(cards.users)
        assert badge.status in ("draft", "publish", "expire")
        assert badge.created_at <= badge.updated_at
    assert cards.progress == {}
