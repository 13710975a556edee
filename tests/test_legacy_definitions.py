"""``legacy.field_definitions``: the tenant's field definitions, and the check of the
statistics codes against them, against the sandbox (in process and ``sandbox serve``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import responses

from conftest import SECRET_MARK
from lucca_cards import (
    ConfigurationError,
    LuccaLegacyApiClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimiter,
    StatsFieldCodes,
    UnexpectedResponseError,
    ValidationError,
)
from lucca_cards.lucca.definitions import (
    DEFINITION_FIELDS,
    FieldDefinition,
    FieldDefinitions,
    check_stats_codes,
    setup_step,
)
from lucca_cards.sandbox import Sandbox
from served_sandbox import serve_sandbox
from sync_support import TODAY, settings_from_line

FORMATION = ("e_title", "e_link", "e_progress", "e_score", "e_last_completion_date")
SETUP = ("in Lucca, HR Base > Settings > Data management: create a compound field "
         "'e_formation' with multiple occurrences (one per training), with the sub-fields "
         "e_title (text), e_link (link), e_progress (text), e_score (text), "
         "e_last_completion_date (date)")
PATH = "/api/v3/extensionuserdefinitions"


@contextlib.contextmanager
def legacy_of(sandbox: Sandbox) -> Iterator[LuccaLegacyApiClient]:
    with LuccaLegacyApiClient.from_settings(sandbox.settings(),
                                            rate_limiter=RateLimiter(0)) as client:
        yield client


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, employees=10, departments=3, today=TODAY, lucca_rate_limit=0,
                 cards_rate_limit=0) as running:
        yield running


@pytest.fixture
def legacy(sandbox: Sandbox) -> Iterator[LuccaLegacyApiClient]:
    with legacy_of(sandbox) as client:
        yield client


def definition(code: str, parent: str | None = "e_formation", **values: Any) -> FieldDefinition:
    multiple = values.pop("is_multiple", parent is None)
    return FieldDefinition(id=len(code), code=code, parent_code=parent, is_multiple=multiple,
                           **values)


def tenant(*, field: str = "e_formation", subs: tuple[str, ...] = FORMATION,
           multiple: bool | None = True) -> list[FieldDefinition]:
    return [definition(field, None, is_multiple=multiple, format_key="compound"),
            *(definition(code, field) for code in subs)]


# -- list and get against the sandbox --------------------------------------------------------

def test_list_reads_every_definition_in_one_get(
    sandbox: Sandbox, legacy: LuccaLegacyApiClient
) -> None:
    sandbox.lucca.log.clear()
    listed = legacy.field_definitions.list()

    assert [(d.code, d.format_key, d.is_multiple, d.parent_code) for d in listed] == [
        ("e_formation", "compound", True, None),
        ("e_title", "text", False, "e_formation"),
        ("e_link", "link", False, "e_formation"),
        ("e_progress", "text", False, "e_formation"),
        ("e_score", "text", False, "e_formation"),
        ("e_last_completion_date", "date", False, "e_formation"),
    ]
    assert listed[0].is_compound and not listed[1].is_compound
    assert listed[0].label == "Formations" and listed[0].list_entries == []
    assert listed[0].url is not None and listed[0].url.endswith(f"{PATH}/e_formation")
    assert sandbox.lucca.log.counts() == {f"GET {PATH}": 1}


def test_get_reads_one_definition_by_code(legacy: LuccaLegacyApiClient) -> None:
    got = legacy.field_definitions.get("e_last_completion_date")

    assert (got.id, got.code, got.format_key, got.parent_code) == (
        6, "e_last_completion_date", "date", "e_formation")
    assert got == next(d for d in legacy.field_definitions.list() if d.id == 6)


def test_get_of_an_unknown_code_is_not_found_and_says_what_to_do(
    legacy: LuccaLegacyApiClient,
) -> None:
    with pytest.raises(NotFoundError) as raised:
        legacy.field_definitions.get("E_FORMATION")

    assert raised.value.status == 404
    assert "case-sensitive" in str(raised.value)
    assert "field_definitions.list()" in str(raised.value)


@pytest.mark.parametrize("code", ["", "  ", "..", 3.5, None])
def test_get_refuses_what_is_not_a_code_without_sending(
    sandbox: Sandbox, legacy: LuccaLegacyApiClient, code: Any
) -> None:
    sandbox.lucca.log.clear()
    with pytest.raises(ValidationError, match="nothing was sent"):
        legacy.field_definitions.get(code)
    assert sandbox.lucca.log.entries() == []


def test_the_resource_hangs_on_the_client(legacy: LuccaLegacyApiClient) -> None:
    assert isinstance(legacy.field_definitions, FieldDefinitions)
    assert repr(legacy.field_definitions).startswith("FieldDefinitions('http://127.0.0.1:")


# -- the check against the sandbox -----------------------------------------------------------

def test_the_check_passes_on_the_default_tenant(legacy: LuccaLegacyApiClient) -> None:
    legacy.field_definitions.check_stats_codes()
    legacy.field_definitions.check_stats_codes(StatsFieldCodes())
    check_stats_codes(legacy.field_definitions.list())


def test_a_tenant_without_the_training_field_names_it_and_the_setup_step() -> None:
    with Sandbox(employees=5, departments=2, today=TODAY, lucca_rate_limit=0,
                 cards_rate_limit=0, stats_field=False) as bare, legacy_of(bare) as legacy:
        assert legacy.field_definitions.list() == []
        with pytest.raises(ConfigurationError) as raised:
            legacy.field_definitions.check_stats_codes()

    assert raised.value.setting == "stats_field"
    assert "the Lucca tenant has no field e_formation" in str(raised.value)
    assert SETUP in str(raised.value)
    assert "[stats] field (LUCCA_STATS_FIELD)" in str(raised.value)


def test_serve_no_stats_field_gives_the_same_error_through_a_child_process() -> None:
    with serve_sandbox("--employees", "5", "--departments", "2", "--lucca-rate-limit", "0",
                       "--cards-rate-limit", "0", "--no-stats-field") as child:
        settings = settings_from_line(child.info, lucca_api_key=child.info["api_key"],
                                      lucca_requests_per_minute=0)
        with LuccaLegacyApiClient.from_settings(settings) as legacy, \
                pytest.raises(ConfigurationError) as raised:
            legacy.field_definitions.check_stats_codes()

    assert raised.value.setting == "stats_field"
    assert SETUP in raised.value.problem


def test_a_custom_sub_field_that_does_not_exist_is_named_with_its_setting(
    legacy: LuccaLegacyApiClient,
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        legacy.field_definitions.check_stats_codes(StatsFieldCodes(score="e_grade"))

    message = str(raised.value)
    assert raised.value.setting == "stats_score"
    assert "the Lucca tenant has no sub-field e_grade" in message
    assert "did you mean" not in message  # nothing is close: the real sub-fields are listed
    assert ("e_formation's sub-fields are e_title, e_link, e_progress, e_score, "
            "e_last_completion_date") in message
    assert ("in Lucca, HR Base > Settings > Data management: add the sub-field e_grade "
            "(text) to the compound field e_formation") in message
    assert "[stats] score (LUCCA_STATS_SCORE)" in message


def test_a_close_code_is_offered(legacy: LuccaLegacyApiClient) -> None:
    with pytest.raises(ConfigurationError, match=r"no sub-field e_scores \(did you mean "
                       r"e_score\?\)") as raised:
        legacy.field_definitions.check_stats_codes(StatsFieldCodes(score="e_scores"))
    assert raised.value.setting == "stats_score"

    with pytest.raises(ConfigurationError, match=r"no field e_Formation \(did you mean "
                       r"e_formation\?\)") as raised:
        legacy.field_definitions.check_stats_codes(StatsFieldCodes(field="e_Formation"))
    assert raised.value.setting == "stats_field"
    assert "create a compound field 'e_Formation'" in str(raised.value)


# -- the rules of the check (no server) ------------------------------------------------------

@pytest.mark.parametrize(("name", "kind"), [("title", "text"), ("link", "link"),
                                            ("progress", "text"), ("score", "text"),
                                            ("last_completion_date", "date")])
def test_each_missing_sub_field_names_its_setting_and_kind(name: str, kind: str) -> None:
    code = getattr(StatsFieldCodes(), name)
    with pytest.raises(ConfigurationError) as raised:
        check_stats_codes(tenant(subs=tuple(c for c in FORMATION if c != code)))

    assert raised.value.setting == f"stats_{name}"
    assert f"add the sub-field {code} ({kind}) to the compound field e_formation" in str(
        raised.value)


def test_custom_codes_are_checked_as_configured() -> None:
    codes = StatsFieldCodes(field="e_lms", title="e_name", score="e_grade")
    subs = ("e_name", "e_link", "e_progress", "e_grade", "e_last_completion_date")

    check_stats_codes(tenant(field="e_lms", subs=subs), codes)
    with pytest.raises(ConfigurationError, match="create a compound field 'e_lms'") as raised:
        check_stats_codes(tenant(subs=subs), codes)
    assert "e_name (text)" in str(raised.value) and "e_grade (text)" in str(raised.value)


def test_a_single_value_field_is_refused() -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_stats_codes(tenant(multiple=False))

    assert raised.value.setting == "stats_field"
    assert "e_formation holds a single value" in str(raised.value)
    assert SETUP in str(raised.value)


@pytest.mark.parametrize("kind", ["text", "date", "list"])
def test_a_field_of_another_kind_than_compound_is_refused(kind: str) -> None:
    definitions = [definition("e_formation", None, is_multiple=True, format_key=kind),
                   *(definition(code) for code in FORMATION)]
    with pytest.raises(ConfigurationError) as raised:
        check_stats_codes(definitions)

    assert raised.value.setting == "stats_field"
    assert f"e_formation is a {kind} field, not a compound field" in str(raised.value)
    unknown_kind = [definition("e_formation", None, is_multiple=True),
                    *(definition(code) for code in FORMATION)]
    check_stats_codes(unknown_kind)  # no formatKey: not held against the tenant


def test_a_sub_field_of_another_field_is_refused() -> None:
    definitions = [*tenant(subs=FORMATION[:-1]),
                   definition("e_last_completion_date", "e_certifications")]

    with pytest.raises(ConfigurationError) as raised:
        check_stats_codes(definitions)

    assert raised.value.setting == "stats_last_completion_date"
    assert "e_last_completion_date is a sub-field of e_certifications, not of e_formation" in \
        str(raised.value)


def test_a_compound_code_that_names_a_sub_field_is_refused() -> None:
    definitions = [*tenant(), definition("e_trainings", "e_formation")]

    with pytest.raises(ConfigurationError, match="e_trainings is a sub-field of e_formation, "
                       "not a compound field") as raised:
        check_stats_codes(definitions, StatsFieldCodes(field="e_trainings"))
    assert raised.value.setting == "stats_field"


def test_what_a_definition_does_not_say_is_not_held_against_it() -> None:
    # a tenant that leaves isMultiple or parentName out is taken at its word
    silent = [FieldDefinition(id=1, code="e_formation"),
              *(FieldDefinition(id=n, code=code) for n, code in enumerate(FORMATION, 2))]

    check_stats_codes(silent)
    check_stats_codes(iter(silent))  # any iterable, read once


def test_setup_step_follows_the_codes() -> None:
    assert setup_step() == SETUP
    assert "sub-fields e_a (text), e_link (link)" in setup_step(StatsFieldCodes(title="e_a"))


# -- the model -------------------------------------------------------------------------------

def test_the_model_reads_the_assumed_keys_in_any_case_and_keeps_the_others() -> None:
    got = FieldDefinition.from_api({
        "ID": 4, "Name": "e_color", "LABEL": "Couleur", "formatkey": "list",
        "isMultiple": 0, "parentName": None, "translations": {"en": "Colour"},
        "extensionUserPropertyListEntries": [{"id": 84, "name": "Bleu", "translation": "x"}],
    })

    assert (got.id, got.code, got.label, got.format_key, got.is_multiple) == (
        4, "e_color", "Couleur", "list", False)
    assert got.list_entries[0].id == 84 and got.list_entries[0].name == "Bleu"
    assert got.list_entries[0].extra == {"translation": "x"}
    assert got.extra == {"translations": {"en": "Colour"}}
    assert FieldDefinition.from_api({"id": 1, "name": "e_x",
                                     "extensionUserPropertyListEntries": None}).list_entries == []
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        got.code = "e_other"  # type: ignore[misc]


@pytest.mark.parametrize("payload", [
    {"name": "e_x"}, {"id": 1}, {"id": "one", "name": "e_x"}, {"id": 1, "name": {"x": 1}},
    {"id": 1, "name": "e_x", "isMultiple": "maybe"}, {"id": 1, "name": "e_x", "parentName": [1]},
    {"id": 1, "name": "e_x", "extensionUserPropertyListEntries": {"id": 1}}, ["e_x"],
])
def test_the_model_refuses_wrong_types_and_missing_keys(payload: Any) -> None:
    with pytest.raises(ValidationError):
        FieldDefinition.from_api(payload)


# -- exact requests and errors (responses) ---------------------------------------------------

BASE = "https://acme.ilucca.net"
KEY = f"{SECRET_MARK}-legacy-key"


@pytest.fixture
def mocked() -> Iterator[tuple[responses.RequestsMock, LuccaLegacyApiClient]]:
    with responses.RequestsMock() as mock, LuccaLegacyApiClient(
            base_url=BASE, api_key=KEY, rate_limiter=RateLimiter(0)) as client:
        yield mock, client


def test_list_asks_for_the_assumed_properties_and_one_full_page(
    mocked: tuple[responses.RequestsMock, LuccaLegacyApiClient],
) -> None:
    mock, client = mocked
    mock.get(f"{BASE}{PATH}", json={"header": {}, "data": {"items": [
        {"id": 1, "name": "e_formation", "isMultiple": True}]}})

    assert [d.code for d in client.field_definitions.list()] == ["e_formation"]
    sent = mock.calls[0].request
    assert sent.params == {"fields": DEFINITION_FIELDS, "paging": "0,1000"}
    assert sent.headers["Authorization"] == f"lucca application={KEY}"


def test_a_403_says_which_right_is_assumed_missing(
    mocked: tuple[responses.RequestsMock, LuccaLegacyApiClient],
) -> None:
    mock, client = mocked
    refusal = {"Message": "Forbidden", "Status": 403}
    mock.get(f"{BASE}{PATH}", status=403, json=refusal)
    mock.get(f"{BASE}{PATH}/e_formation", status=403, json=refusal)

    for call in (client.field_definitions.list,
                 lambda: client.field_definitions.get("e_formation"),
                 client.field_definitions.check_stats_codes):
        with pytest.raises(PermissionDeniedError) as raised:
            call()
        message = str(raised.value)
        assert "field definitions" in message and "'Collaborators: view users'" in message
        assert "assumed" in message and SECRET_MARK not in message


def test_a_404_on_the_list_points_at_the_base_url(
    mocked: tuple[responses.RequestsMock, LuccaLegacyApiClient],
) -> None:
    mock, client = mocked
    mock.get(f"{BASE}{PATH}", status=404, json={"Message": "Not found", "Status": 404})

    with pytest.raises(NotFoundError, match="check LUCCA_URL"):
        client.field_definitions.list()


def test_a_page_the_sdk_cannot_read_names_the_endpoint(
    mocked: tuple[responses.RequestsMock, LuccaLegacyApiClient],
) -> None:
    mock, client = mocked
    mock.get(f"{BASE}{PATH}", json={"header": {}, "data": {"items": [{"id": 1}]}})

    with pytest.raises(UnexpectedResponseError, match="extensionuserdefinitions"):
        client.field_definitions.list()


def test_a_tenant_with_more_than_a_page_is_read_to_the_end(
    mocked: tuple[responses.RequestsMock, LuccaLegacyApiClient],
) -> None:
    mock, client = mocked
    first = [{"id": n, "name": f"e_f{n}"} for n in range(1, 1001)]
    mock.get(f"{BASE}{PATH}", json={"header": {}, "data": {"items": first}},
             match=[responses.matchers.query_param_matcher(
                 {"fields": DEFINITION_FIELDS, "paging": "0,1000"})])
    mock.get(f"{BASE}{PATH}", json={"header": {}, "data": {"items": [
        {"id": 1001, "name": "e_formation"}]}},
             match=[responses.matchers.query_param_matcher(
                 {"fields": DEFINITION_FIELDS, "paging": "1000,1000"})])

    listed = client.field_definitions.list()

    assert len(listed) == 1001 and listed[-1].code == "e_formation"
