"""Bad input for the rows of this release: hostile answers, ids that are no ids.

A model read from an answer full of keys it does not declare exports only what it
declares (so a DataFrame's columns are the model's, whatever the server sent), and
``why_not_considered`` refuses each kind of non-id before sending anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from lucca_cards import Employee, UserImporter, ValidationError
from lucca_cards.sandbox import Sandbox
from sync_support import clients, sandbox

HOSTILE_EMPLOYEE = {
    "id": "7", "givenName": "Zoé\u202e", "email": "zoe@acme.fr",
    "extra": {"secret": "x"}, "__class__": "os.system", "to_dict": "shadowed?",
    "department": {"id": "3", "surprise": [1, 2]}, "newField": "x" * 10_000,
    "applicableJobPosition": {"id": "9", "type": "job-position", "nested": {"deep": True}},
}


def test_a_hostile_answer_exports_only_the_declared_attributes() -> None:
    employee = Employee.from_api(HOSTILE_EMPLOYEE)
    row = employee.to_dict()
    assert list(row) == [f.name for f in attrs.fields(Employee) if f.name != "extra"]
    assert row["given_name"] == "Zoé\u202e"  # data stays data; display escapes it
    assert row["applicable_job_position"] == {"id": "9", "type": "job-position", "url": None}
    assert "newField" in employee.extra and "newField" not in row
    assert callable(employee.to_dict)  # a key named like the method changes nothing


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox() as started:
        yield started


@pytest.mark.parametrize("bad", [
    [" "], [""], [None], [True], [1.5], [{"id": "1"}], ["12", ["13"]], "412", 412, None,
    {"412": "x"},
], ids=repr)
def test_ids_that_are_no_ids_are_refused_before_any_request(box: Sandbox, bad: Any) -> None:
    with clients(box) as both:
        box.lucca.log.clear()
        with pytest.raises(ValidationError, match="employee_ids"):
            UserImporter(*both).why_not_considered(bad)
    assert box.lucca.log.entries() == []


def test_an_id_with_a_slash_or_a_query_stays_one_path_segment(box: Sandbox) -> None:
    with clients(box) as both:
        box.lucca.log.clear()
        reasons = UserImporter(*both).why_not_considered(["101/../102", "101?x=1"])
    # Sent as they are, these would read employees 102 and 101, who exist: each was one
    # (encoded) id, which no employee has.
    assert {"101", "102"} <= {str(ident) for ident in box.company.lucca.employees}
    assert reasons == {"101/../102": "not found in Lucca", "101?x=1": "not found in Lucca"}
    reads = [e for e in box.lucca.log.entries() if e["path"].startswith("/lucca-api/")]
    assert len(reads) == 2
