"""Each model is constructed once per item read: no second construction to attach ``extra``
or the department resolved from the page's embedded job positions (issue 11).

A spy counts every ``__init__`` of every model class and every ``attrs.evolve``; reading a
page must construct exactly one model per object in it.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import lucca_cards.lucca.models as lucca_models
from lucca_cards._models import ApiModel
from lucca_cards._paging import Pager, RawPage
from lucca_cards.cards.models import Badge, CardsUser
from lucca_cards.errors import ValidationError
from lucca_cards.lucca.client import Employees
from lucca_cards.lucca.legacy_models import LegacyUser
from lucca_cards.lucca.models import BirthDay, Department, Employee, JobPosition, Reference

ROOT = "https://example.ilucca.net/lucca-api"


def _ref(kind: str, ident: str) -> dict[str, str]:
    return {"id": ident, "type": kind, "url": f"{ROOT}/{kind}s/{ident}"}


def _page(size: int) -> dict[str, Any]:
    """A list page as Lucca sends it: employees, their job positions embedded once."""
    items = [{
        **_ref("employee", str(100 + n)), "givenName": f"Given{n}", "familyName": "Family",
        "email": f"e{n}@acme.test", "status": "active", "birthDay": {"day": 1, "month": 2},
        "portrait": None, "applicableEmployment": _ref("employment", str(1000 + n)),
        "applicableJobPosition": _ref("job-position", str(2000 + n)),
        "createdAt": "2024-04-15T23:12:54.0001Z", "links": {"jobPositions": {"href": "x"}},
    } for n in range(size)]
    positions = {str(2000 + n): {**_ref("job-position", str(2000 + n)), "jobTitle": "Dev",
                                 "department": _ref("department", str(n % 3))}
                 for n in range(size)}
    return {"items": items, "embedded": {"job-position": positions}, "links": {"next": None}}


def _model_classes() -> Iterator[type[ApiModel]]:
    pending = [ApiModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        yield cls


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Count constructions per model class; ``evolve`` counts as one more."""
    counts: collections.Counter[str] = collections.Counter()

    def spy(cls: type[ApiModel]) -> Any:
        original = cls.__dict__["__init__"]

        def counted(self: Any, **kwargs: Any) -> None:
            if type(self) is cls:  # a subclass's own spy counts it
                counts[cls.__name__] += 1
            original(self, **kwargs)

        return counted

    for cls in _model_classes():
        if "__init__" in cls.__dict__:
            monkeypatch.setattr(cls, "__init__", spy(cls))
    real_evolve = attrs.evolve

    def evolve(*args: Any, **changes: Any) -> Any:
        counts["attrs.evolve"] += 1
        return real_evolve(*args, **changes)

    monkeypatch.setattr(attrs, "evolve", evolve)
    return counts


def test_an_employee_page_builds_each_model_once(built: collections.Counter[str]) -> None:
    body = _page(7)
    page = RawPage(body["items"], body)
    lucca_models._DEPARTMENTS.clear()  # departments met by earlier tests are shared too
    lucca_models._BIRTHDAYS.clear()  # and birthdays
    employees = next(Pager(lambda: iter([page]), Employees(transport=None)._parse).pages())  # type: ignore[arg-type]
    # Per employee: itself and 2 references; one reference per department (3), and one
    # birthday per date (all are born on 1 February), shared (frozen objects).
    assert built == {"Employee": 7, "BirthDay": 1, "Reference": 17}
    assert employees[0].department is employees[3].department
    assert employees[0].birth_day is employees[6].birth_day == BirthDay(day=1, month=2)
    assert [e.department_id for e in employees] == ["0", "1", "2", "0", "1", "2", "0"]
    assert employees[0].job_title == "Dev"
    assert employees[0].department == Reference.from_api(_ref("department", "0"))
    assert set(employees[0].extra) == {"type", "links"}


def test_the_spy_sees_a_second_construction(built: collections.Counter[str]) -> None:
    """The spy works: an evolve, as the SDK used to do, is seen."""
    employee = Employee.from_api({"id": "1", "newKey": 1})
    attrs.evolve(employee, extra={})
    assert built == {"Employee": 2, "attrs.evolve": 1}


@pytest.mark.parametrize(("model", "payload", "expected"), [
    (Employee, {"id": "1", "embedded": {"job-position": {}}, "x": 1}, {"Employee": 1}),
    (Department, {"id": "3", "parent": {"id": "1"}, "manager": None, "x": 1},
     {"Department": 1, "Reference": 1}),
    (JobPosition, {"id": "7", "department": {"id": "3"}, "updatedAttributes": ["jobTitle"],
                   "t9n": {}}, {"JobPosition": 1, "Reference": 1}),
    (CardsUser, {"id": "u", "groups": [{"id": "g", "x": 1}, {"name": "G"}], "x": 1},
     {"CardsUser": 1, "GroupRef": 2}),
    (Badge, {"id": "b", "created_at": "2024-01-20 09:10:00", "x": 1}, {"Badge": 1}),
    (LegacyUser, {"id": 4, "departmentID": 13, "manager": {"id": 2, "name": "M"}, "x": 1},
     {"LegacyUser": 1, "LegacyRef": 1}),
])
def test_every_model_is_built_once(
    built: collections.Counter[str], model: type[ApiModel], payload: dict[str, Any],
    expected: dict[str, int],
) -> None:
    result = model.from_api(payload)
    assert built == expected
    assert result.extra == {k: v for k, v in payload.items() if k in ("x", "t9n", "embedded")}


@pytest.mark.parametrize("payload", [
    {"id": "1", "email": "a@b.fr", "department": {"id": "32"}},
    {"id": "2", "email": "a@b.fr", "departmentId": "32"},
    {"id": "3", "email": "a@b.fr", "applicableJobPosition": {"id": "74"},
     "embedded": {"job-position": {"74": {"department": {"id": "32"}}}}},
])
def test_fields_keep_what_from_api_reads_for_them(payload: dict[str, Any]) -> None:
    full = Employee.from_api(payload)
    slim = Employee.from_api_fields(payload, None, ["email", "department_id"])

    assert (slim.id, slim.email, slim.department_id) == (full.id, full.email, "32")
    assert slim.status is None and slim.extra == {}


def test_unknown_fields_are_refused_before_any_call() -> None:
    with pytest.raises(ValidationError, match="emails"):
        Employee.from_api_fields({"id": "1"}, None, ["emails"])


@pytest.mark.parametrize("payload", [
    {"day": 1, "month": 2, "year": 1990},  # a key the model does not have: kept in extra
    {"day": "1", "month": 2},  # a number in a string: read by the usual rules
    {"day": 1},  # half a date
    {"day": 40, "month": 2},  # out of range: read as sent, never kept
])
def test_a_birthday_not_described_by_its_date_is_read_as_ever_and_not_shared(
        payload: dict[str, Any]) -> None:
    lucca_models._BIRTHDAYS.clear()
    first, second = (Employee.from_api({"id": str(n), "birthDay": payload}) for n in (1, 2))
    assert first.birth_day is not second.birth_day
    assert first.birth_day == second.birth_day == BirthDay.from_api(payload)
    assert lucca_models._BIRTHDAYS == {}


def test_a_birthday_refused_is_refused_as_ever() -> None:
    lucca_models._BIRTHDAYS.clear()
    with pytest.raises(ValidationError, match=r"boolean @ \$\.birth_day\.day"):
        Employee.from_api({"id": "1", "birthDay": {"day": True, "month": 2}})
    assert lucca_models._BIRTHDAYS == {}


def test_birthdays_kept_are_the_calendars_at_most() -> None:
    lucca_models._BIRTHDAYS.clear()
    for day, month in itertools.product(range(-5, 40), range(-5, 20)):
        Employee.from_api({"id": "1", "birthDay": {"day": day, "month": month}})
    assert len(lucca_models._BIRTHDAYS) == 31 * 12
