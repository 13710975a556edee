"""Serving a page costs its own items, not the company: the sandbox keeps its filtered lists.

A company of 20 000 employees (nearly all with a Cards account) whose employees and Cards
users record every read of their attributes. After a first page of a query, a late page
of the same query must read only the records it returns: a page that filtered or sorted
the company again would read all 20 000. The lists are kept only while nothing changes:
a change through an API, or made straight on the records, is seen by the next page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import pytest
import requests

from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox._lucca_query import cursor
from lucca_cards.sandbox._model import CardsUser, Company, Employee
from lucca_cards.sandbox._observed import ObservedDict
from lucca_cards.sandbox.generator import generate_company

SIZE = 20_000
LEGACY_FIELDS = "id,name,mail,departmentId,dtContractEnd,modifiedAt,extendedData"


class Spied:
    """Remember which records had an attribute read (their ``id``)."""

    touched: ClassVar[set[object]] = set()

    def __getattribute__(self, name: str) -> Any:
        Spied.touched.add(object.__getattribute__(self, "id"))
        return object.__getattribute__(self, name)


class SpiedEmployee(Spied, Employee):
    pass


class SpiedCardsUser(Spied, CardsUser):
    pass


class SpiedTable(ObservedDict[Any, Any]):
    """A table that counts the times it is gone through (a filter, a sort of its keys)."""

    scans: ClassVar[int] = 0

    def __iter__(self) -> Iterator[Any]:
        SpiedTable.scans += 1
        return super().__iter__()

    def values(self) -> Any:
        return _counted(super().values())

    def items(self) -> Any:
        return _counted(super().items())


def _counted(items: Iterable[Any]) -> Iterator[Any]:
    SpiedTable.scans += 1  # a generator: counted once its first item is asked for
    yield from items


def spied(record: Any, kind: type[Any]) -> Any:
    return kind(**{f.name: getattr(record, f.name) for f in dataclasses.fields(record)})


@pytest.fixture(scope="module")
def company() -> Company:
    company = generate_company(employees=SIZE, departments=200, existing_cards_users=1.0)
    lucca, cards = company.lucca, company.cards
    lucca.employees = SpiedTable(
        (key, spied(employee, SpiedEmployee)) for key, employee in lucca.employees.items())
    cards.users = SpiedTable(
        (key, spied(user, SpiedCardsUser)) for key, user in cards.users.items())
    return company


class Client:
    """One kept-alive session to a sandbox, signed in to all three APIs."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox, self.session = sandbox, requests.Session()
        self.session.trust_env = False
        creds = sandbox.credentials
        token = self.session.post(sandbox.token_url, data={
            "grant_type": "client_credentials", "client_id": creds.client_id,
            "client_secret": creds.client_secret, "scope": " ".join(sandbox.lucca_scopes),
        }).json()["access_token"]
        self.headers = {
            "lucca": {"Authorization": f"Bearer {token}", "Api-Version": "2024-11-01"},
            "legacy": {"Authorization": f"lucca application={creds.api_key}"},
            "cards": {"Authorization": f"Bearer {creds.cards_api_key}",
                      "X-Tenant": creds.cards_tenant},
        }

    def get(self, api: str, path: str, **params: Any) -> Any:
        root = self.sandbox.cards_root if api == "cards" else self.sandbox.lucca_url
        response = self.session.get(root + path, params=params, headers=self.headers[api])
        assert response.status_code == 200, response.text
        return response.json()

    def touched_by(self, api: str, path: str, **params: Any) -> tuple[Any, set[object]]:
        """GET; return the answer and the records read to serve it (none for a scan)."""
        Spied.touched.clear()
        scans = SpiedTable.scans
        body = self.get(api, path, **params)
        return body, set(Spied.touched) if SpiedTable.scans == scans else {"a scan"}


@pytest.fixture(scope="module")
def client(company: Company) -> Iterator[Client]:
    with Sandbox(company=company, lucca_rate_limit=0, cards_rate_limit=0) as sandbox:
        client = Client(sandbox)
        yield client
        client.session.close()


def ids(items: list[dict[str, Any]]) -> set[object]:
    return {int(item["id"]) if str(item["id"]).isdecimal() else item["id"] for item in items}


@pytest.mark.parametrize("query", [
    {}, {"status": "active,upcoming", "sort": "-familyName"}, {"search": "ma"},
])
def test_a_late_lucca_page_reads_only_its_employees(client: Client, query: dict[str, str]) -> None:
    params = {"limit": 100, "include": "embedded,links,totalCount", **query}
    first, first_touched = client.touched_by("lucca", "/lucca-api/employees", **params)
    assert first_touched == {"a scan"}  # the list is built once: the company is read
    assert first["totalCount"] > 100
    late_offset = (first["totalCount"] // 100 - 1) * 100
    late, touched = client.touched_by("lucca", "/lucca-api/employees",
                                      page=cursor(late_offset), **params)
    assert len(late["items"]) == 100 and touched == ids(late["items"])
    again, touched = client.touched_by("lucca", "/lucca-api/employees", **params)
    assert again == first and touched == ids(first["items"])


def test_a_late_legacy_page_reads_only_its_users(client: Client) -> None:
    client.get("legacy", "/api/v3/users", paging="0,1000", fields=LEGACY_FIELDS)
    body, touched = client.touched_by("legacy", "/api/v3/users", paging="15000,1000",
                                      fields=LEGACY_FIELDS)
    items = body["data"]["items"]
    assert len(items) == 1000 and touched == ids(items)


@pytest.mark.parametrize("filters", [None, '[{"type": "role", "values": ["user"]}]'])
def test_a_late_cards_page_reads_only_its_users(client: Client, filters: str | None) -> None:
    params = {"paginate": 500, **({"filters": filters} if filters else {})}
    client.get("cards", "/v1/users", **params)
    body, touched = client.touched_by("cards", "/v1/users", page=30, **params)
    assert len(body["data"]) == 500 and touched == ids(body["data"])
    assert body["meta"]["total"] > 15_000


def test_a_change_made_on_the_records_is_seen_by_the_next_page(
    client: Client, company: Company
) -> None:
    query = {"email": "someone.new@acme.fr", "include": "totalCount"}
    assert client.get("lucca", "/lucca-api/employees", **query)["totalCount"] == 0
    employee = company.lucca.employees[SIZE - 7]
    old_email, employee.email = employee.email, "someone.new@acme.fr"
    try:
        found = client.get("lucca", "/lucca-api/employees", **query)
        assert [item["id"] for item in found["items"]] == [str(SIZE - 7)]
    finally:
        employee.email = old_email
    assert client.get("lucca", "/lucca-api/employees", **query)["totalCount"] == 0


def test_a_group_given_on_the_record_is_seen_by_a_filtered_cards_list(
    client: Client, company: Company
) -> None:
    group = next(iter(company.cards.groups.values()))
    params = {"paginate": 500, "filters": f'[{{"type": "groups_id", "values": ["{group.id}"]}}]'}
    before = client.get("cards", "/v1/users", **params)["meta"]["total"]
    outsider = next(u for u in company.cards.users.values() if group.id not in u.group_ids)
    outsider.group_ids.append(group.id)
    try:
        assert client.get("cards", "/v1/users", **params)["meta"]["total"] == before + 1
    finally:
        outsider.group_ids.remove(group.id)
    assert client.get("cards", "/v1/users", **params)["meta"]["total"] == before


def test_an_hr_change_through_the_sandbox_is_seen_by_the_next_page(client: Client) -> None:
    query = {"include": "totalCount", "limit": 1}
    before = client.get("lucca", "/lucca-api/employees", **query)["totalCount"]
    departments = client.get("lucca", "/lucca-api/departments", isArchived="false")
    hired = client.sandbox.lucca.hire(given_name="Nina", family_name="Nouvelle",
                                      email="nina.nouvelle@acme.fr",
                                      department_id=int(departments["items"][0]["id"]))
    try:
        assert client.get("lucca", "/lucca-api/employees", **query)["totalCount"] == before + 1
        legacy = client.get("legacy", "/api/v3/users", fields="collection.count",
                            **{"mail": "nina.nouvelle@acme.fr"})
        assert legacy["data"]["count"] == 1
    finally:
        client.sandbox.lucca.delete_employee(hired)
    assert client.get("lucca", "/lucca-api/employees", **query)["totalCount"] == before
