"""A small hand-built Lucca tenant for the fake Lucca's tests, and helpers to drive it.

Seven employees in a two-level department tree (plus an archived, empty root):

=====  ===================  =========================  ==========  ===========================
id     name                 email                      department  status on TODAY
=====  ===================  =========================  ==========  ===========================
1      Alice Martin         alice.martin@acme.test     1 Direction active (head of 1)
2      Bruno Lefèvre        bruno.lefevre@acme.test    2 Tech      active (head of 2), e_github
3      Chloé D'Arcy         chloe.darcy@acme.test      2 Tech      active, e_languages fr, en
4      David Petit          (none)                     3 Sales     active
5      Émilie Roux          emilie.roux@acme.test      3 Sales     deactivated (left 2024-12-31)
6      François Moreau      francois.moreau@acme.test  2 Tech      upcoming (starts 2025-04-01)
7      Gaëlle Bernard       Gaelle.Bernard@acme.test   3 Sales     active, e_formation x2
=====  ===================  =========================  ==========  ===========================
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from conftest import SECRET_MARK
from lucca_cards.sandbox._model import (
    Department,
    Employee,
    Employment,
    ExtendedField,
    JobPosition,
    LuccaData,
)
from lucca_cards.sandbox.lucca import LuccaFake

TODAY = dt.date(2025, 3, 14)
NOW = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.timezone.utc)
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = f"{SECRET_MARK}-client-secret"
API_KEY = f"{SECRET_MARK}-api-key"
ALL_SCOPES = ("departments.readonly", "employees.readwrite", "job-positions.readonly")
API_VERSION = "2024-11-01"
FORMATION = ("e_title", "e_link", "e_progress", "e_score", "e_last_completion_date")

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "lucca-reference"

# id, given, family, email, department, manager, start, end, created (day of January 2024)
_PEOPLE = (
    (1, "Alice", "Martin", "alice.martin@acme.test", 1, None, "2019-01-07", None, 5),
    (2, "Bruno", "Lefèvre", "bruno.lefevre@acme.test", 2, 1, "2020-03-02", None, 3),
    (3, "Chloé", "D'Arcy", "chloe.darcy@acme.test", 2, 2, "2021-09-01", None, 7),
    (4, "David", "Petit", None, 3, 1, "2022-01-03", None, 1),
    (5, "Émilie", "Roux", "emilie.roux@acme.test", 3, 4, "2018-05-14", "2024-12-31", 2),
    (6, "François", "Moreau", "francois.moreau@acme.test", 2, 2, "2025-04-01", None, 6),
    (7, "Gaëlle", "Bernard", "Gaelle.Bernard@acme.test", 3, 4, "2023-06-12", "2025-12-31", 4),
)


def _formation(ident: int, title: str, progress: int) -> dict[str, Any]:
    values = [title, f"https://cards.test/t/{ident}", progress, None, "2025-01-15T00:00:00"]
    return {"id": ident, "value": {code: {"value": v} for code, v in zip(FORMATION, values,
                                                                          strict=True)}}


def build_company() -> LuccaData:
    """Return a fresh copy of the tenant (tests change it through the legacy API)."""
    data = LuccaData(
        tenant="acme",
        legal_entities={1: "Acme SAS"},
        business_establishments={1: "Acme Paris"},
        job_qualifications={1: "Ingénieur", 2: "Commercial"},
        departments={
            1: Department(1, "Direction", None, 1, 0, remote_id="DIR", manager_id=1),
            2: Department(2, "Tech", 1, 2, 0, remote_id="TECH", manager_id=2),
            3: Department(3, "Sales", 1, 2, 1, remote_id="SAL", description="Ventes"),
            4: Department(4, "Archives", None, 1, 1, is_archived=True),
        },
        extended_fields={
            "e_formation": ExtendedField("e_formation", "Formations", True, FORMATION),
            "e_github": ExtendedField("e_github", "GitHub login"),
            "e_languages": ExtendedField("e_languages", "Languages", multiple=True),
        },
    )
    for ident, given, family, email, department, manager, start, end, day in _PEOPLE:
        created = dt.datetime(2024, 1, day, 8, tzinfo=dt.timezone.utc)
        data.employments[100 + ident] = Employment(
            100 + ident, ident, 1, dt.date.fromisoformat(start),
            dt.date.fromisoformat(end) if end else None, template_id=1,
        )
        data.job_positions[200 + ident] = JobPosition(
            200 + ident, ident, 100 + ident, department, dt.date.fromisoformat(start),
            dt.date.fromisoformat(end) if end else None, f"Job {ident}", 1,
            job_qualification_id=1 if department == 2 else None, manager_id=manager,
        )
        data.employees[ident] = Employee(
            ident, given, family, email, login=f"user{ident}", employee_number=f"E{ident:03}",
            remote_id=None, phone_number="+33145784512" if ident == 1 else None,
            birth_date=dt.date(1990, ident, 20), employment_id=100 + ident,
            job_position_id=200 + ident, created_at=created, last_updated_at=created,
        )
    data.employees[2].extended_data["e_github"] = {"id": 501, "value": "bruno"}
    data.employees[3].extended_data["e_languages"] = [
        {"id": 601, "value": "fr"}, {"id": 602, "value": "en"}]
    data.employees[7].extended_data["e_formation"] = [
        _formation(9001, "Python avancé", 80), _formation(9002, "RGPD", 100)]
    return data


def make_fake(clock: Any, **overrides: Any) -> LuccaFake:
    """Return a fake over a fresh company, holding every scope the tests need."""
    settings: dict[str, Any] = {
        "today": TODAY, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "api_key": API_KEY, "scopes": ALL_SCOPES, "clock": clock, "now": lambda: NOW,
    }
    return LuccaFake(build_company(), **(settings | overrides))


def get_token(url: str, scope: str | None = None) -> str:
    """Return an access token from the fake's token endpoint."""
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    response = requests.post(f"{url}/connect/token", data=form, timeout=5)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def lucca_get(url: str, token: str | None, path: str, params: Any = None,
              version: str | None = API_VERSION) -> requests.Response:
    """GET a Lucca API path (``path`` under ``/lucca-api``; or a full URL) the way a client does."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if version is not None:
        headers["Api-Version"] = version
    target = path if path.startswith("http") else f"{url}/lucca-api{path}"
    return requests.get(target, params=params, headers=headers, timeout=5)


@functools.cache
def _validator(defname: str) -> Draft202012Validator:
    schema = json.loads((REFERENCE / "schemas.json").read_text(encoding="utf-8"))
    schema["$ref"] = "#/$defs/" + defname
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(defname: str, payload: Any) -> None:
    """Check a Lucca API answer against Lucca's own schema (as check.py does)."""
    if not (REFERENCE / "schemas.json").is_file():
        pytest.skip(f"the Lucca reference schemas are absent ({REFERENCE})")
    errors = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in _validator(defname).iter_errors(payload)]
    assert errors == [], errors
