"""Models, previews and reports export plain rows: a pandas DataFrame is one line.

``ApiModel.to_dict`` (every Lucca and Cards model), ``UserRow.to_dict`` and
``DepartmentRow.to_dict`` (the previews), ``SyncReport.export`` and ``NightlyReport.export``.
Checked against the sandbox's own company, and through pandas itself (the ``notebook``
extra, installed with the test extra).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from datetime import date, datetime, timezone

import attrs
import pandas
import pytest

from lucca_cards import (
    CardsUser,
    Department,
    DepartmentImporter,
    Employee,
    NightlyReport,
    SyncItem,
    SyncOutcome,
    SyncReport,
    UserImporter,
    UserState,
)
from lucca_cards._models import ApiModel
from lucca_cards.sandbox import Sandbox
from sync_support import clients, sandbox


class Colour(str, enum.Enum):
    RED = "red"


@attrs.frozen(kw_only=True)
class Inner(ApiModel):
    id: str
    colour: Colour | None = None


@attrs.frozen(kw_only=True)
class Outer(ApiModel):
    id: str
    born: date | None = None
    seen_at: datetime | None = None
    inner: Inner | None = None
    tags: tuple[str, ...] = ()
    inners: tuple[Inner, ...] = ()


def test_to_dict_is_plain_nested_and_leaves_extra_out() -> None:
    outer = Outer.from_api({
        "id": "7", "born": "1990-02-03", "seenAt": "2024-04-15T23:12:54Z",
        "inner": {"id": "1", "colour": "red", "surprise": True},
        "tags": ["a", "b"], "inners": [{"id": "2"}], "newKey": [1]})
    assert outer.extra == {"newKey": [1]}
    assert outer.to_dict() == {
        "id": "7", "born": date(1990, 2, 3),
        "seen_at": datetime(2024, 4, 15, 23, 12, 54, tzinfo=timezone.utc),
        "inner": {"id": "1", "colour": "red"},  # the enum's value; its extra left out too
        "tags": ["a", "b"], "inners": [{"id": "2", "colour": None}]}
    # dates stay dates: one json.dumps option makes the whole row JSON
    assert json.loads(json.dumps(outer.to_dict(), default=str))["born"] == "1990-02-03"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox() as started:
        yield started


def field_names(cls: type[ApiModel]) -> list[str]:
    return [field.name for field in attrs.fields(cls) if field.name != "extra"]


def test_lucca_and_cards_models_become_one_dataframe_each(box: Sandbox) -> None:
    with clients(box) as (lucca, cards):
        employees = pandas.DataFrame(e.to_dict() for e in lucca.employees.list())
        departments = pandas.DataFrame(d.to_dict() for d in lucca.departments.list())
        users = pandas.DataFrame(u.to_dict() for u in cards.users.list())
    company = box.company.lucca
    assert list(employees.columns) == field_names(Employee)
    assert list(departments.columns) == field_names(Department)
    assert list(users.columns) == field_names(CardsUser)
    assert sorted(employees["id"]) == sorted(str(e.id) for e in company.employees.values())
    assert len(departments) == len(company.departments)
    assert len(users) == len(box.company.cards.users)
    # the department an employee is counted in is the one of their job position
    first = employees.iloc[0]
    assert first["department_id"] == first["department"]["id"]
    assert employees["last_updated_at"].dt.tz is not None  # a real date column, in UTC


def test_preview_rows_are_flat_and_carry_the_ids(box: Sandbox) -> None:
    with clients(box) as both:
        users = UserImporter(*both).preview()
        departments = DepartmentImporter(*both).preview()
    frame = pandas.DataFrame(row.to_dict() for row in users)
    assert list(frame.columns) == ["employee_id", "name", "email", "match_key",
                                   "department_id", "state", "cards_user_id", "reason"]
    mixed = [row for row in users if row.employee.email and row.employee.email != row.email]
    assert mixed, "the company has an email in mixed case"
    shown = frame.set_index("employee_id").loc[mixed[0].employee.id]
    assert (shown["email"], shown["match_key"]) == (mixed[0].employee.email, mixed[0].email)
    assert frame["employee_id"].tolist() == [row.employee.id for row in users]
    assert set(frame["state"]) <= {state.value for state in UserState}
    linked = frame[frame["state"] == UserState.WILL_BE_LINKED.value]
    assert linked["cards_user_id"].notna().all() and len(linked) > 0
    refused = frame[frame["state"] == UserState.CANNOT_BE_IMPORTED.value]
    assert refused["reason"].notna().all() and len(refused) > 0

    rows = pandas.DataFrame(row.to_dict() for row in departments)
    assert rows["department_id"].tolist() == [row.department.id for row in departments]
    assert rows["path"].tolist() == [row.path for row in departments]
    assert rows["members"].sum() == sum(row.members for row in departments)
    shared = [row for row in departments if row.same_name]
    assert shared, "the sandbox company has same-named departments"
    assert rows.set_index("department_id").loc[shared[0].department.id, "same_name"] == list(
        shared[0].same_name)


def test_report_and_nightly_exports_are_the_items() -> None:
    items = [SyncItem(employee_id="1", name="Zoé", email="zoe@acme.fr",
                      outcome=SyncOutcome.CREATED, cards_user_id="u1"),
             SyncItem(employee_id="2", name="Léo", email=None, outcome=SyncOutcome.SKIPPED,
                      reason="no professional email in Lucca")]
    users = SyncReport(operation="users", dry_run=False, items=items)
    stats = SyncReport(operation="statistics", dry_run=False, items=items[:1])
    assert [row["employee_id"] for row in users.export()] == ["1", "2"]
    assert users.export()[0]["outcome"] == "created"  # the value, not the enum
    assert users.export()[1] == {"employee_id": "2", "name": "Léo", "email": None,
                                 "outcome": "skipped", "reason": "no professional email in Lucca",
                                 "cards_user_id": None, "group": None}
    night = pandas.DataFrame(NightlyReport(dry_run=False, reports=[users, stats]).export())
    assert night["operation"].tolist() == ["users", "users", "statistics"]
    assert night.groupby("outcome").size().to_dict() == {"created": 2, "skipped": 1}
