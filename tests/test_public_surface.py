"""The contract of DESIGN.md ("Public surface"): names, attributes and methods exist."""

from __future__ import annotations

import inspect

import attrs
import pytest

import lucca_cards
from lucca_cards import (
    CardsClient,
    CardsUser,
    Department,
    Employee,
    GroupRef,
    LegacyUser,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    StatsFieldCodes,
    TrainingRecord,
)

MODEL_ATTRIBUTES = {
    Employee: ["id", "given_name", "family_name", "email", "status", "employee_number",
               "remote_id", "department_id"],
    Department: ["id", "name", "parent_id", "level", "is_archived", "manager_id"],
    LegacyUser: ["id", "first_name", "last_name", "mail", "extended_data"],
    CardsUser: ["id", "firstname", "lastname", "email", "role", "company", "phone", "source",
                "lang", "enable_ranking", "groups"],
    GroupRef: ["id", "name"],
    TrainingRecord: ["title", "link", "progress", "score", "last_completion_date"],
    StatsFieldCodes: ["field", "title", "link", "progress", "score", "last_completion_date"],
}


@pytest.mark.parametrize("model", list(MODEL_ATTRIBUTES), ids=lambda m: m.__name__)
def test_models_carry_the_designed_attributes(model: type) -> None:
    names = {field.name for field in attrs.fields(model)}
    assert set(MODEL_ATTRIBUTES[model]) <= names


def test_every_public_name_is_documented() -> None:
    for name in lucca_cards.__all__:
        obj = getattr(lucca_cards, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name


def _client(kind: type) -> object:
    if kind is LuccaOAuthClient:
        return LuccaOAuthClient(base_url="https://acme.ilucca.net", client_id="c",
                                client_secret="s")
    if kind is LuccaLegacyApiClient:
        return LuccaLegacyApiClient(base_url="https://acme.ilucca.net", api_key="k")
    return CardsClient(tenant="acme", api_key="k")


@pytest.mark.parametrize(("kind", "methods"), [
    (LuccaOAuthClient, ["employees.list", "employees.get", "departments.list",
                        "departments.get", "job_positions.list"]),
    (LuccaLegacyApiClient, ["users.list", "users.get", "users.update",
                            "users.write_training_records"]),
    (CardsClient, ["users.list", "users.get", "users.create", "users.update", "users.delete",
                   "users.badges", "groups.list", "trainings.list", "badges.list",
                   "badges.get", "badges.users", "certificates.list", "embeds.create",
                   "webhooks.verify", "webhooks.parse"]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_clients_expose_the_designed_methods(kind: type, methods: list[str]) -> None:
    client = _client(kind)
    for dotted in methods:
        resource, method = dotted.split(".")
        bound = getattr(getattr(client, resource), method)
        assert callable(bound), dotted
        assert inspect.getdoc(bound), dotted
    assert hasattr(kind, "from_settings")


@pytest.mark.parametrize(("importer", "first"), [
    (lucca_cards.UserImporter, "employee_ids"),
    (lucca_cards.DepartmentImporter, "department_ids"),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_importers_take_the_designed_options(importer: type, first: str) -> None:
    parameters = inspect.signature(importer.run).parameters
    defaults = {name: p.default for name, p in parameters.items() if name != "self"}
    extra = {"imported_only": False} if importer is lucca_cards.DepartmentImporter else {}
    assert defaults == {first: None, "notify": False,
                        "connection_mode": lucca_cards.ConnectionMode.PASSWORD,
                        "dry_run": False, "progress": None, **extra}
    assert list(inspect.signature(importer).parameters)[:2] == ["lucca", "cards"]
    assert inspect.getdoc(importer.preview)
