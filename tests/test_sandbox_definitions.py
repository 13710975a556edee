"""The fake legacy API's field definitions (``/api/v3/extensionuserdefinitions``) over a
socket: envelope, items, projection, 404, key, rate limit, and a tenant without the
training field (``Sandbox(stats_field=False)``, ``sandbox serve --no-stats-field``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from conftest import FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox.generator import generate_company
from sandbox_company import API_KEY, FORMATION, build_company, make_fake
from served_sandbox import serve_sandbox

KEY = {"Authorization": f"lucca application={API_KEY}"}
PATH = "/api/v3/extensionuserdefinitions"
EVERY = "id,name,label,formatKey,isMultiple,parentName,url,extensionUserPropertyListEntries"
TODAY = dt.date(2026, 3, 2)

#: The assumed shape of one definition (docs/sandbox.rst, "Where the documents are silent").
DEFINITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "label", "formatKey", "isMultiple", "parentName", "url",
                 "extensionUserPropertyListEntries"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "pattern": "^e_\\S+$"},
        "label": {"type": "string", "minLength": 1},
        "formatKey": {"enum": ["compound", "text", "link", "date"]},
        "isMultiple": {"type": "boolean"},
        "parentName": {"type": ["string", "null"], "pattern": "^e_\\S+$"},
        "url": {"type": "string", "format": "uri"},
        "extensionUserPropertyListEntries": {"type": "array"},
    },
}
ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["header", "data"],
    "additionalProperties": False,
    "properties": {
        "header": {"type": "object", "required": ["generated", "principal"]},
        "data": {"type": "object"},
    },
}


@pytest.fixture(scope="module")
def shared() -> Iterator[str]:
    """One unlimited server over the hand-built tenant (it is only read)."""
    with ServedApp(make_fake(FakeClock(), rate_limit=0)) as served:
        yield served.url


def get(url: str, path: str = "", params: Any = None, status: int = 200,
        headers: dict[str, str] | None = None) -> Any:
    response = requests.get(f"{url}{PATH}{path}", params=params, timeout=5,
                            headers=KEY if headers is None else headers)
    assert response.status_code == status, response.text
    return response.json()


def items(url: str, **params: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = get(url, params=params)["data"]["items"]
    return result


def schema_errors(schema: dict[str, Any], payload: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(payload)]


def assert_error(body: Any, status: int) -> None:
    assert set(body) == {"Message", "Status"}
    assert body["Status"] == status and body["Message"]


# -- the collection --------------------------------------------------------------------------

def test_the_list_is_a_v3_envelope_of_id_name_url_by_default(shared: str) -> None:
    body = get(shared)

    assert schema_errors(ENVELOPE_SCHEMA, body) == []
    assert body["header"] == {"generated": "2025-03-14T09:30:00.000",
                              "principal": "Sandbox API key"}
    assert body["data"]["items"][0] == {
        "id": 1, "name": "e_formation", "url": f"{shared}{PATH}/e_formation"}
    assert all(set(item) == {"id", "name", "url"} for item in body["data"]["items"])


def test_every_field_and_sub_field_is_a_definition(shared: str) -> None:
    listed = items(shared, fields=EVERY)

    assert [(d["id"], d["name"], d["formatKey"], d["isMultiple"], d["parentName"])
            for d in listed] == [
        (1, "e_formation", "compound", True, None),
        (2, "e_title", "text", False, "e_formation"),
        (3, "e_link", "link", False, "e_formation"),
        (4, "e_progress", "text", False, "e_formation"),
        (5, "e_score", "text", False, "e_formation"),
        (6, "e_last_completion_date", "date", False, "e_formation"),
        (7, "e_github", "text", False, None),
        (8, "e_languages", "text", True, None),
    ]
    assert listed[0]["label"] == "Formations" and listed[6]["label"] == "GitHub login"


def test_every_definition_has_the_assumed_shape(shared: str) -> None:
    # contract-style: the assumption, written as a schema, against every item and one
    for item in items(shared, fields=EVERY):
        assert schema_errors(DEFINITION_SCHEMA, item) == [], item["name"]
    one = get(shared, "/e_title", params={"fields": EVERY})
    assert schema_errors(ENVELOPE_SCHEMA, one) == []
    assert schema_errors(DEFINITION_SCHEMA, one["data"]) == []


def test_the_compound_field_is_listed_as_the_setup_creates_it(shared: str) -> None:
    subs = items(shared, fields="name,formatKey", parentName="e_formation")

    assert tuple(d["name"] for d in subs) == FORMATION
    assert {d["name"]: d["formatKey"] for d in subs} == {
        "e_title": "text", "e_link": "link", "e_progress": "text", "e_score": "text",
        "e_last_completion_date": "date"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"paging": "0,1000"}, [1, 2, 3, 4, 5, 6, 7, 8]),
     ({"paging": "2,3"}, [3, 4, 5]),
     ({"isMultiple": "true"}, [1, 8]),
     ({"parentName": "null"}, [1, 7, 8]),
     ({"name": "like,lang"}, [8]),
     ({"orderBy": "name,desc", "paging": "0,2"}, [2, 5])],
)
def test_paging_filters_and_order(shared: str, params: dict[str, str],
                                  expected: list[int]) -> None:
    assert [d["id"] for d in items(shared, **params)] == expected


def test_fields_take_any_case_and_collection_count(shared: str) -> None:
    assert items(shared, fields="ID,FormatKey")[0] == {"id": 1, "formatKey": "compound"}
    assert get(shared, params={"fields": "collection.count"})["data"] == {"count": 8}
    counted = get(shared, params={"fields": "id,collection.count", "paging": "0,1"})["data"]
    assert counted == {"items": [{"id": 1}], "count": 8}


@pytest.mark.parametrize("params", [{"fields": "id,mail"}, {"fields": "id,name["},
                                    {"paging": "0,1001"}, {"orderBy": "name,up"},
                                    {"extendedData": "x"}])
def test_bad_queries_are_400(shared: str, params: dict[str, str]) -> None:
    assert_error(get(shared, params=params, status=400), 400)


# -- one definition --------------------------------------------------------------------------

def test_one_definition_by_code(shared: str) -> None:
    body = get(shared, "/e_last_completion_date", params={"fields": "id,name,formatKey"})

    assert body["data"] == {"id": 6, "name": "e_last_completion_date", "formatKey": "date"}
    assert set(body["header"]) == {"generated", "principal"}
    assert get(shared, "/e_github")["data"] == {
        "id": 7, "name": "e_github", "url": f"{shared}{PATH}/e_github"}


@pytest.mark.parametrize("code", ["e_nope", "E_FORMATION", "7"])
def test_an_unknown_code_is_a_legacy_404(shared: str, code: str) -> None:
    # codes are case-sensitive, and a definition is reached by its code, not its id
    assert_error(get(shared, f"/{code}", status=404), 404)


def test_the_route_matches_any_case(shared: str) -> None:
    response = requests.get(f"{shared}/api/v3/ExtensionUserDefinitions/e_title", headers=KEY,
                            timeout=5)

    assert response.status_code == 200
    assert response.json()["data"]["name"] == "e_title"


@pytest.mark.parametrize(("method", "path"), [("POST", ""), ("PUT", "/e_title"),
                                              ("DELETE", "/e_title")])
def test_the_definitions_are_read_only(shared: str, method: str, path: str) -> None:
    response = requests.request(method, f"{shared}{PATH}{path}", headers=KEY, timeout=5)

    assert response.status_code == 405
    assert_error(response.json(), 405)


def test_a_deeper_path_is_a_404(shared: str) -> None:
    assert_error(get(shared, "/e_title/entries", status=404), 404)


# -- key and rate limit ----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "lucca application=wrong"},
                                     {"Authorization": f"Bearer {API_KEY}"}])
def test_the_api_key_is_required(shared: str, headers: dict[str, str]) -> None:
    for path in ("", "/e_formation"):
        assert_error(get(shared, path, status=401, headers=headers), 401)


def test_the_rate_limit_counts_definitions_like_users(clock: FakeClock) -> None:
    with ServedApp(make_fake(clock, rate_limit=2)) as served:
        assert requests.get(f"{served.url}/api/v3/users", headers=KEY, timeout=5).ok
        assert requests.get(f"{served.url}{PATH}", headers=KEY, timeout=5).ok
        response = requests.get(f"{served.url}{PATH}/e_title", headers=KEY, timeout=5)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 60
    assert_error(response.json(), 429)


def test_requests_show_in_the_log(shared: str) -> None:
    fake = make_fake(FakeClock(), rate_limit=0)
    with ServedApp(fake) as served:
        get(served.url)
        get(served.url, "/e_title")

    assert fake.log.counts() == {f"GET {PATH}": 1, f"GET {PATH}/e_title": 1}


# -- a tenant without the training field -----------------------------------------------------

def test_a_generated_tenant_declares_the_training_field_unless_told_not_to() -> None:
    company = generate_company(employees=3, departments=2, today=TODAY)
    bare = generate_company(employees=3, departments=2, today=TODAY, stats_field=False)

    assert list(company.lucca.extended_fields) == ["e_formation"]
    assert bare.lucca.extended_fields == {}
    assert len(bare.lucca.employees) == 3


def test_a_sandbox_without_the_training_field_lists_no_definition_and_refuses_writes() -> None:
    with Sandbox(employees=5, departments=2, today=TODAY, lucca_rate_limit=0,
                 cards_rate_limit=0, stats_field=False) as sandbox:
        key = {"Authorization": f"lucca application={sandbox.credentials.api_key}"}
        listed = get(sandbox.lucca_url, params={"fields": EVERY}, headers=key)
        missing = get(sandbox.lucca_url, "/e_formation", status=404, headers=key)
        user = next(iter(sandbox.company.lucca.employees))
        write = requests.put(f"{sandbox.lucca_url}/api/v3/users/{user}", headers=key,
                             timeout=5, json={"e_formation": [{"id": 0, "value": {
                                 "e_title": {"value": "RGPD"}}}]})

    assert listed["data"]["items"] == []
    assert_error(missing, 404)
    assert write.status_code == 400
    assert "Unknown extended field 'e_formation'" in write.json()["Message"]


def test_stats_field_false_needs_a_generated_company() -> None:
    from lucca_cards.sandbox._model import CardsData, Company

    company = Company(name="Acme", domain="acme.test", today=TODAY, lucca=build_company(),
                      cards=CardsData(tenant="acme"))
    with pytest.raises(ValueError, match="stats_field=False shapes a generated company"):
        Sandbox(company=company, stats_field=False)


def test_serve_lists_the_training_field_and_leaves_it_out_with_no_stats_field() -> None:
    options = ("--employees", "5", "--departments", "2", "--lucca-rate-limit", "0",
               "--cards-rate-limit", "0")
    for flags, expected in (((), ["e_formation", *FORMATION]), (("--no-stats-field",), [])):
        with serve_sandbox(*options, *flags) as child:
            key = {"Authorization": f"lucca application={child.info['api_key']}"}
            listed = get(child.lucca_root, headers=key)["data"]["items"]
            state = child.get(child.lucca_root, "state")
        assert [d["name"] for d in listed] == expected
        assert [f["code"] for f in state["extended_fields"]] == expected[:1]
