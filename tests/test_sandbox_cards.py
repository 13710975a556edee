"""The fake Cards REST API over a real socket: auth, Laravel paging, filters, users, errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conftest import SECRET_MARK, FakeClock
from lucca_cards._serving import ServedApp
from lucca_cards.sandbox._laravel import page_window
from lucca_cards.sandbox._model import CardsData, CardsGroup, CardsUser
from lucca_cards.sandbox._service import Faults
from lucca_cards.sandbox.cards import CardsFake
from sandbox_cards_data import (
    ALICE,
    BOB,
    DEEP_DIVE,
    DRAFT,
    EXPERT,
    FIRST_STEPS,
    JEROME,
    NOMAIL,
    OLD,
    ONBOARDING,
    OWNER,
    RPS,
    SAFETY,
    SALES,
    TECH,
    TENANT,
    cards_data,
)

API_KEY = f"{SECRET_MARK}-cards-key"
WEBHOOK_SECRET = f"{SECRET_MARK}-webhook"
NOW = dt.datetime(2024, 5, 6, 10, 0, 0)
UNKNOWN = "9f9f9f9f-0000-4000-8000-000000000000"


class Api:
    """A requests session speaking to the fake with the right key and tenant."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {API_KEY}", "X-Tenant": TENANT,
                                     "Accept": "application/json"})  # fmt: skip

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.root + path, timeout=5, **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self("GET", path, params=params)

    def filtered(self, path: str, filters: Any, **params: Any) -> requests.Response:
        return self.get(path, filters=json.dumps(filters), **params)


def serve(fake: CardsFake) -> Iterator[Api]:
    with ServedApp(fake) as served:
        api = Api(served.url)
        yield api
        api.session.close()


def make_fake(data: CardsData | None = None, clock: FakeClock | None = None,
              **options: Any) -> CardsFake:  # fmt: skip
    options.setdefault("rate_limit", 0)
    return CardsFake(data or cards_data(), api_key=API_KEY, webhook_secret=WEBHOOK_SECRET,
                     clock=clock or FakeClock(), now=lambda: NOW, **options)  # fmt: skip


@pytest.fixture
def fake() -> CardsFake:
    return make_fake()


@pytest.fixture
def api(fake: CardsFake) -> Iterator[Api]:
    yield from serve(fake)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


# -- authentication and routing -------------------------------------------------------


def test_every_request_needs_the_key_then_the_tenant(api: Api) -> None:
    bare = requests.get(api.root + "/v1/users", timeout=5)
    assert (bare.status_code, bare.json()) == (401, {"message": "Unauthenticated."})
    wrong = {"Authorization": "Bearer nope", "X-Tenant": TENANT}
    assert requests.get(api.root + "/v1/users", headers=wrong, timeout=5).status_code == 401
    basic = {"Authorization": f"Basic {API_KEY}", "X-Tenant": TENANT}
    assert requests.get(api.root + "/v1/users", headers=basic, timeout=5).status_code == 401
    keyed = {"Authorization": f"Bearer {API_KEY}"}
    missing = requests.get(api.root + "/v1/users", headers=keyed, timeout=5)
    assert missing.status_code == 403
    assert set(missing.json()) == {"message"}
    other = requests.get(api.root + "/v1/groups", headers={**keyed, "X-Tenant": "other"}, timeout=5)
    assert other.status_code == 403
    assert API_KEY not in missing.text + other.text + bare.text
    assert api.get("/v1/users").status_code == 200


def test_unknown_routes_and_wrong_verbs_answer_like_laravel(api: Api) -> None:
    missing = api.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"message": "The route v1/nothing could not be found."}
    wrong = requests.post(api.root + "/v1/groups", timeout=5)  # routing comes before auth
    assert wrong.status_code == 405
    assert wrong.json()["message"].startswith("The POST method is not supported for route")
    patch = api("PATCH", f"/v1/users/{ALICE}")
    assert patch.status_code == 405
    assert set(patch.headers["Allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE"}
    assert requests.get(api.root + "/elsewhere", timeout=5).status_code == 404


# -- pagination -----------------------------------------------------------------------


def test_lists_use_laravels_envelope(api: Api) -> None:
    body = api.get("/v1/users", paginate=2, page=2).json()
    path = api.root + "/v1/users"
    assert [user["id"] for user in body["data"]] == [OWNER, NOMAIL]
    assert body["links"] == {"first": f"{path}?page=1", "last": f"{path}?page=3",
                             "prev": f"{path}?page=1", "next": f"{path}?page=3"}  # fmt: skip
    assert body["meta"] == {
        "current_page": 2, "from": 3, "last_page": 3,
        "links": [
            {"url": f"{path}?page=1", "label": "&laquo; Previous", "active": False},
            {"url": f"{path}?page=1", "label": "1", "active": False},
            {"url": f"{path}?page=2", "label": "2", "active": True},
            {"url": f"{path}?page=3", "label": "3", "active": False},
            {"url": f"{path}?page=3", "label": "Next &raquo;", "active": False},
        ],
        "path": path, "per_page": 2, "to": 4, "total": 5,
    }  # fmt: skip


def test_default_page_size_and_pages_past_the_end(api: Api) -> None:
    first = api.get("/v1/users", page="abc").json()
    assert (first["meta"]["per_page"], first["meta"]["current_page"]) == (100, 1)
    assert len(first["data"]) == 5
    assert (first["links"]["prev"], first["links"]["next"]) == (None, None)
    past = api.get("/v1/users", page=4).json()
    assert past["data"] == []
    meta = past["meta"]
    assert (meta["from"], meta["to"], meta["last_page"], meta["total"]) == (None, None, 1, 5)
    assert past["links"]["prev"].endswith("?page=3")
    empty = api.filtered("/v1/users", [{"type": "role", "values": "nobody"}]).json()
    assert (empty["meta"]["from"], empty["meta"]["to"], empty["meta"]["last_page"]) == (
        None, None, 1)  # fmt: skip
    assert [link["label"] for link in empty["meta"]["links"]] == [
        "&laquo; Previous", "1", "Next &raquo;"]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("501", "The paginate field must not be greater than 500."),
        ("0", "The paginate field must be at least 1."),
        ("-3", "The paginate field must be at least 1."),
        ("ten", "The paginate field must be an integer."),
        ("2.5", "The paginate field must be an integer."),
    ],
)
def test_paginate_is_validated(api: Api, value: str, message: str) -> None:
    response = api.get("/v1/users", paginate=value)
    assert response.status_code == 422
    assert response.json() == {"message": message, "errors": {"paginate": [message]}}


def test_paginate_accepts_the_maximum(api: Api) -> None:
    assert api.get("/v1/users", paginate=500).json()["meta"]["per_page"] == 500


@pytest.mark.parametrize(
    ("current", "last", "expected"),
    [
        (1, 1, [1]),
        (5, 13, list(range(1, 14))),
        (1, 14, [*range(1, 11), None, 13, 14]),
        (7, 30, [*range(1, 11), None, 29, 30]),
        (8, 30, [1, 2, None, *range(5, 12), None, 29, 30]),
        (23, 30, [1, 2, None, *range(20, 27), None, 29, 30]),
        (24, 30, [1, 2, None, *range(21, 31)]),
        (40, 30, [1, 2, None, *range(21, 31)]),
    ],
)
def test_page_window_follows_laravels_url_window(
    current: int, last: int, expected: list[int | None]
) -> None:
    assert page_window(current, last) == expected


def test_meta_links_slide_around_the_current_page(clock: FakeClock) -> None:
    data = cards_data()
    for number in range(25):
        user_id = f"7a1b2c3d-0000-4000-8000-{number:012d}"
        data.users[user_id] = CardsUser(user_id, "Extra", str(number), f"x{number}@acme.test")
    for api in serve(make_fake(data, clock)):
        links = api.get("/v1/users", paginate=1, page=15).json()["meta"]["links"]
        labels = [link["label"] for link in links]
        assert labels == ["&laquo; Previous", "1", "2", "...", *map(str, range(12, 19)), "...",
                          "29", "30", "Next &raquo;"]  # fmt: skip
        assert [link["label"] for link in links if link["active"]] == ["15"]
        assert links[3]["url"] is None
        assert links[0]["url"].endswith("?page=14") and links[-1]["url"].endswith("?page=16")


# -- filters --------------------------------------------------------------------------


def test_user_filters_and_across_entries_or_within_values(api: Api) -> None:
    assert ids(api.filtered("/v1/users", [{"type": "role", "values": "users"}])) == [
        ALICE, NOMAIL, BOB]  # fmt: skip
    assert ids(api.filtered("/v1/users", [{"type": "role", "values": ["editor", "owner"]}])) == [
        JEROME, OWNER]  # fmt: skip
    # Names match exactly: the group "ventes" is not "Ventes".
    assert ids(api.filtered("/v1/users", [{"type": "groups_name", "values": "Ventes"}])) == [
        ALICE, NOMAIL]  # fmt: skip
    assert ids(api.filtered("/v1/users", [{"type": "groups_name", "values": "ventes"}])) == []
    assert ids(api.filtered("/v1/users", [{"type": "groups_name", "values": ["RPS", "Ventes"]}])) \
        == [ALICE, NOMAIL, BOB]  # fmt: skip
    both = [{"type": "groups_id", "values": TECH}, {"type": "role", "values": "user"}]
    assert ids(api.filtered("/v1/users", both)) == [BOB]
    ignored = [{"type": "colour", "values": "blue"}, {"type": "groups_id", "values": [RPS]}]
    assert ids(api.filtered("/v1/users", ignored)) == [BOB]
    assert ids(api.filtered("/v1/users", [{"type": "role", "values": []}])) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[{", "The filters field must be a valid JSON string."),
        ('{"type": "role", "values": "user"}', "The filters field must be an array."),
        ('[{"values": "user"}]', "The filters.0.type field is required."),
        ('[{"type": "role"}]', "The filters.0.values field is required."),
        ('[{"type": "role", "values": [{"a": 1}]}]', "The selected filters.0.values is invalid."),
    ],
)
def test_malformed_filters_are_422(api: Api, raw: str, message: str) -> None:
    response = api.get("/v1/users", filters=raw)
    assert response.status_code == 422
    assert response.json() == {"message": message, "errors": {"filters": [message]}}


@pytest.mark.parametrize("true", [1, "1", True, "true"])
def test_boolean_filters_accept_every_spelling(api: Api, true: Any) -> None:
    assert ids(api.filtered("/v1/groups", [{"type": "is_public", "values": true}])) == [TECH]
    assert ids(api.filtered("/v1/groups", [{"type": "enable_ranking", "values": true}])) == [SALES]


def test_groups_list_only_ids_and_names(api: Api) -> None:
    body = api.filtered("/v1/groups", [{"type": "is_public", "values": 0}]).json()
    assert body["data"] == [{"id": SALES, "name": "Ventes"}, {"id": RPS, "name": "RPS"},
                            {"id": "0a1b2c3d-0000-4000-8000-000000000004", "name": "ventes"}]


def test_trainings_render_and_filter(api: Api) -> None:
    body = api.get("/v1/trainings").json()
    assert body["data"][0] == {
        "id": SAFETY, "title": "Sécurité / Safety", "description": "Les bons gestes",
        "status": "publish", "image": "https://cdn.acme.test/img/safety.png",
        "public_url": "https://app.acme.test/t/safety", "category": "Sécurité",
        "is_public": False, "is_rating": True, "chapters_count": 4,
        "groups": [{"id": SALES, "name": "Ventes"}],
    }  # fmt: skip
    assert ids(api.filtered("/v1/trainings", [{"type": "status", "values": "draft"}])) == [DRAFT]
    assert ids(api.filtered("/v1/trainings", [{"type": "groups_name", "values": "Tech"}])) == [
        DRAFT, DEEP_DIVE]  # fmt: skip
    tech_published = [{"type": "groups_id", "values": TECH},
                      {"type": "status", "values": "publish"}]  # fmt: skip
    assert ids(api.filtered("/v1/trainings", tech_published)) == [DEEP_DIVE]
    assert ids(api.filtered("/v1/trainings", [{"type": "is_public", "values": "1"}])) == [
        ONBOARDING]  # fmt: skip
    assert ids(api.filtered("/v1/trainings", [{"type": "is_rating", "values": 1}])) == [SAFETY]


def test_badges_certificates_and_unlocks(api: Api) -> None:
    badge = api.get(f"/v1/badges/{FIRST_STEPS}").json()["data"]
    assert badge == {
        "id": FIRST_STEPS, "name": "Premiers pas", "description": "Un premier chapitre",
        "image": "https://cdn.acme.test/b1.png",
        "emoji": {"i": "🎉", "n": ["tada"], "r": "", "t": "", "u": "1f389"},
        "status": "publish", "option_teasing": True, "notif": False,
        "created_at": "2024-01-20T09:09:00.000000Z", "updated_at": "2024-01-20T09:09:00.000000Z",
    }  # fmt: skip
    published_or_expired = [{"type": "status", "values": ["publish", "expire"]}]
    assert ids(api.filtered("/v1/badges", published_or_expired)) == [FIRST_STEPS, OLD]
    assert ids(api.filtered("/v1/badges", [{"type": "notif", "values": 1}])) == [EXPERT]
    assert ids(api.get(f"/v1/badges/{FIRST_STEPS}/users")) == [ALICE, JEROME]
    assert ids(api.get(f"/v1/users/{JEROME}/badges")) == [FIRST_STEPS, EXPERT]
    certificates = api.filtered("/v1/certificates", [{"type": "option_teasing", "values": 0}])
    assert [item["name"] for item in certificates.json()["data"]] == ["Certifié"]
    assert set(certificates.json()["data"][0]) == {
        "id", "name", "description", "content", "status", "option_teasing", "notif",
        "created_at", "updated_at"}  # fmt: skip
    missing = api.get(f"/v1/badges/{UNKNOWN}")
    assert missing.status_code == 404
    message = f"No query results for model [App\\Models\\Badge] {UNKNOWN}"
    assert missing.json() == {"message": message}
    assert api.get(f"/v1/users/{UNKNOWN}/badges").status_code == 404


# -- users ----------------------------------------------------------------------------


def test_get_user_is_wrapped_in_data(api: Api) -> None:
    assert api.get(f"/v1/users/{JEROME}").json() == {"data": {
        "id": JEROME, "firstname": "Jérôme", "lastname": "D'Almeida",
        "email": "Jerome.DAlmeida@acme.test", "role": "editor", "company": "ACME/Paris",
        "phone": None, "source": "app", "enable_ranking": True, "lang": "en",
        "groups": [{"id": TECH, "name": "Tech"}],
    }}  # fmt: skip


def test_create_user_with_defaults(api: Api) -> None:
    response = api("POST", "/v1/users", json={"firstname": " Zoé ", "lastname": "Petit"})
    assert response.status_code == 201
    user = response.json()["data"]
    assert user == {"id": user["id"], "firstname": "Zoé", "lastname": "Petit", "email": None,
                    "role": "user", "company": None, "phone": None, "source": "app",
                    "enable_ranking": True, "lang": "fr", "groups": []}  # fmt: skip
    assert api.get(f"/v1/users/{user['id']}").json()["data"] == user


def test_groups_resolve_by_id_then_name_and_are_created(api: Api, fake: CardsFake) -> None:
    groups = [{"id": TECH}, {"name": "Nouveau"}, "RPS", TECH, {"id": UNKNOWN},
              {"id": UNKNOWN, "name": "Ventes"}, {"id": SALES, "name": "Ignored"}, ""]
    response = api("POST", "/v1/users", json={"firstname": "A", "lastname": "B",
                                              "groups": groups, "enable_ranking": 0})  # fmt: skip
    assert response.status_code == 201, response.text
    user = response.json()["data"]
    assert [group["name"] for group in user["groups"]] == ["Tech", "Nouveau", "RPS", "Ventes"]
    assert user["enable_ranking"] is False
    names = [group["name"] for group in api.get("/v1/groups").json()["data"]]
    assert names.count("Nouveau") == 1 and "Ignored" not in names
    new_id = user["groups"][1]["id"]
    assert isinstance(fake.data.groups[new_id], CardsGroup)
    again = api("POST", "/v1/users", json={"firstname": "C", "lastname": "D",
                                           "groups": [{"name": "Nouveau"}]})  # fmt: skip
    assert again.json()["data"]["groups"] == [{"id": new_id, "name": "Nouveau"}]


def test_create_requires_names(api: Api) -> None:
    response = api("POST", "/v1/users", json={"firstname": "   "})
    assert response.status_code == 422
    assert response.json() == {
        "message": "The firstname field is required. (and 1 more error)",
        "errors": {"firstname": ["The firstname field is required."],
                   "lastname": ["The lastname field is required."]},
    }  # fmt: skip
    assert api("POST", "/v1/users", data="not json").status_code == 422


def test_every_user_field_is_validated(api: Api) -> None:
    body = {"firstname": "x" * 191, "lastname": "ok", "email": "not-an-email", "role": "admin",
            "company": "c" * 191, "source": "ldap", "enable_ranking": "yes", "lang": "de",
            "notify": "maybe", "groups": [{"name": "g" * 191}, 42]}  # fmt: skip
    response = api("POST", "/v1/users", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == {
        "firstname": ["The firstname field must not be greater than 190 characters."],
        "email": ["The email field must be a valid email address."],
        "role": ["The selected role is invalid."],
        "company": ["The company field must not be greater than 190 characters."],
        "source": ["The selected source is invalid."],
        "enable_ranking": ["The enable ranking field must be true or false."],
        "lang": ["The selected lang is invalid."],
        "notify": ["The notify field must be true or false."],
        "groups.0.name": ["The groups.0.name field must not be greater than 190 characters."],
        "groups.1": ["The selected groups.1 is invalid."],
    }
    assert response.json()["message"] == (
        "The firstname field must not be greater than 190 characters. (and 9 more errors)")
    assert len(api.get("/v1/users").json()["data"]) == 5


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("o'brien+tag@sub.acme.fr", True),
        ("jean.dupont@acme.test", True),
        ("jérôme@acme.test", False),
        ("jean@localhost", False),
        ("jean..dupont@acme.test", False),
        ("@acme.test", False),
    ],
)
def test_email_rule(api: Api, email: str, valid: bool) -> None:
    response = api("POST", "/v1/users", json={"firstname": "A", "lastname": "B", "email": email})
    assert response.status_code == (201 if valid else 422)


def test_emails_are_unique_case_insensitively(api: Api) -> None:
    taken = api("POST", "/v1/users", json={"firstname": "A", "lastname": "B",
                                           "email": "ALICE.martin@acme.test"})  # fmt: skip
    assert taken.status_code == 422
    assert taken.json()["errors"] == {"email": ["The email has already been taken."]}
    own = api("PUT", f"/v1/users/{ALICE}", json={"email": "Alice.Martin@acme.test"})
    assert own.status_code == 200
    assert api("PUT", f"/v1/users/{BOB}", json={"email": "alice.martin@ACME.test"}).status_code \
        == 422  # fmt: skip
    assert api("DELETE", f"/v1/users/{ALICE}").status_code == 204
    freed = api("PUT", f"/v1/users/{BOB}", json={"email": "alice.martin@acme.test"})
    assert freed.status_code == 200
    assert api("PUT", f"/v1/users/{OWNER}", json={"email": "bob@acme.test"}).status_code == 200


def test_put_is_partial_and_empty_clears(api: Api) -> None:
    path = f"/v1/users/{JEROME}"
    user = api("PUT", path, json={"phone": "+33 6 12 34 56 78"}).json()["data"]
    assert (user["phone"], user["company"], user["firstname"]) == (
        "+33 6 12 34 56 78", "ACME/Paris", "Jérôme")  # fmt: skip
    user = api("PUT", path, json={"company": "", "phone": None, "enable_ranking": "0"}).json()
    assert (user["data"]["company"], user["data"]["phone"]) == (None, None)
    assert user["data"]["enable_ranking"] is False
    assert user["data"]["groups"] == [{"id": TECH, "name": "Tech"}]
    required = api("PUT", path, json={"firstname": ""})
    assert required.json()["errors"] == {"firstname": ["The firstname field is required."]}
    assert api("PUT", path, json={"lang": None}).json()["errors"] == {
        "lang": ["The selected lang is invalid."]}  # fmt: skip
    replaced = api("PUT", path, json={"groups": ["RPS", {"name": "Ventes"}]}).json()["data"]
    assert [group["name"] for group in replaced["groups"]] == ["RPS", "Ventes"]
    assert api("PUT", path, json={"groups": []}).json()["data"]["groups"] == []
    assert api.get(path).json()["data"]["firstname"] == "Jérôme"


def test_delete_then_get_is_404(api: Api) -> None:
    deleted = api("DELETE", f"/v1/users/{BOB}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = api.get(f"/v1/users/{BOB}")
    assert gone.status_code == 404
    assert gone.json() == {"message": f"No query results for model [App\\Models\\User] {BOB}"}
    assert api("DELETE", f"/v1/users/{BOB}").status_code == 404
    assert api("PUT", f"/v1/users/{BOB}", json={"lang": "en"}).status_code == 404
    assert BOB not in ids(api.get("/v1/users"))


def test_notify_puts_created_users_in_the_outbox(api: Api, fake: CardsFake) -> None:
    created = api("POST", "/v1/users", json={"firstname": "Léa", "lastname": "Roy",
                                             "email": "lea@acme.test", "source": "sso",
                                             "notify": True})  # fmt: skip
    api("POST", "/v1/users", json={"firstname": "No", "lastname": "Mail", "notify": 0})
    api("PUT", f"/v1/users/{ALICE}", json={"notify": True})
    entry = {"user_id": created.json()["data"]["id"], "email": "lea@acme.test",
             "firstname": "Léa", "lastname": "Roy", "source": "sso",
             "created_at": "2024-05-06 10:00:00"}  # fmt: skip
    assert fake.outbox == [entry]
    assert requests.get(api.root + "/_sandbox/outbox", timeout=5).json() == [entry]


# -- embeds ---------------------------------------------------------------------------


def test_embeds_return_an_opaque_url(api: Api) -> None:
    response = api("POST", "/v1/embeds", json={"type": "training", "training_id": SAFETY,
                                               "email": "ALICE.MARTIN@acme.test",
                                               "expires_at": "2024-09-25"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Embed link created"
    assert body["url"].startswith("https://embed.cards-microlearning.com/")
    other = api("POST", "/v1/embeds", json={"type": "trainings", "email": "bob@acme.test"})
    assert other.status_code == 200 and other.json()["url"] != body["url"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"email": "bob@acme.test"}, {"type": ["The type field is required."]}),
        ({"type": "course", "email": "bob@acme.test"}, {"type": ["The selected type is invalid."]}),
        ({"type": "training", "email": "bob@acme.test"},
         {"training_id": ["The training id field is required when type is training."]}),
        ({"type": "training", "training_id": UNKNOWN, "email": "bob@acme.test"},
         {"training_id": ["The selected training id is invalid."]}),
        ({"type": "trainings"}, {"email": ["The email field is required."]}),
        ({"type": "trainings", "email": "nobody@acme.test"},
         {"email": ["The selected email is invalid."]}),
        ({"type": "trainings", "email": "bob@acme.test", "expires_at": "25/09/2024"},
         {"expires_at": ["The expires at field must match the format Y-m-d."]}),
        ({"type": "trainings", "email": "bob@acme.test", "once": "often"},
         {"once": ["The once field must be true or false."]}),
    ],
)  # fmt: skip
def test_embed_validation(api: Api, body: dict[str, Any], errors: dict[str, list[str]]) -> None:
    response = api("POST", "/v1/embeds", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == errors


# -- limits, faults, inspection -------------------------------------------------------


def test_rate_limit_answers_429_with_headers(clock: FakeClock) -> None:
    for api in serve(make_fake(clock=clock, rate_limit=2)):
        first, second, third = (api.get("/v1/groups") for _ in range(3))
        assert [first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]] \
            == ["1", "0"]  # fmt: skip
        assert first.headers["X-RateLimit-Limit"] == "2"
        assert third.status_code == 429
        assert third.json() == {"message": "Too Many Attempts."}
        assert third.headers["Retry-After"] == "60"
        assert third.headers["X-RateLimit-Remaining"] == "0"
        clock.now += 60
        assert api.get("/v1/groups").status_code == 200


def test_injected_faults_speak_laravel(clock: FakeClock) -> None:
    for api in serve(make_fake(clock=clock, faults={"cards": Faults(server_error=1.0)})):
        response = api.get("/v1/users")
        assert (response.status_code, response.json()) == (500, {"message": "Server Error"})


def test_state_and_request_log(api: Api) -> None:
    api.get("/v1/users")
    api("POST", "/v1/users", json={"firstname": "A", "lastname": "B", "email": "a@acme.test"})
    state = requests.get(api.root + "/_sandbox/state", timeout=5)
    assert SECRET_MARK not in state.text
    body = state.json()
    assert {"users", "groups", "trainings", "badges", "certificates", "progress", "outbox",
            "undelivered", "tenant"} <= set(body)  # fmt: skip
    assert len(body["users"]) == 6
    assert body["trainings"][0]["chapters"][1] == {
        "id": "5a1b2c3d-0000-4000-8100-000000000002", "title": "Chapitre 2/4", "position": 2,
        "points": 4, "has_quiz": True}  # fmt: skip
    assert body["badges"][0]["user_ids"] == [ALICE, JEROME]
    assert body["progress"][0]["chapters_done"] == [1]
    log = requests.get(api.root + "/_sandbox/requests", timeout=5).json()
    assert log["counts"] == {"GET /v1/users": 1, "POST /v1/users": 1}


def test_fifty_thousand_users_page_and_stay_unique() -> None:
    data = cards_data()
    for number in range(50_000):
        user_id = f"8a1b2c3d-0000-4000-8000-{number:012d}"
        groups = [SALES] if number % 10 == 0 else [TECH]
        data.users[user_id] = CardsUser(user_id, "Big", str(number), f"u{number}@big.test",
                                        group_ids=groups)  # fmt: skip
    for api in serve(make_fake(data)):
        filters = [{"type": "groups_name", "values": "Ventes"}]
        page = api.filtered("/v1/users", filters, paginate=500, page=3).json()
        assert page["meta"]["total"] == 5_002 and page["meta"]["last_page"] == 11
        assert page["data"][0]["lastname"] == str((1000 - 2) * 10)
        duplicate = {"firstname": "A", "lastname": "B", "email": "U49999@BIG.test"}
        assert api("POST", "/v1/users", json=duplicate).status_code == 422


def test_a_cached_list_tells_1_from_1_0_and_true(api: Api) -> None:
    """1, 1.0 and True are one dict key, yet the filters read them apart (1.0 is no flag)."""
    def listed(value: Any) -> list[str]:
        response = api.filtered("/v1/groups", [{"type": "is_public", "values": [value]}])
        return ids(response) if response.status_code == 200 else [str(response.status_code)]

    first = listed(1.0)
    assert listed(1) == [TECH]
    assert listed(True) == [TECH]
    assert listed(1.0) == first
