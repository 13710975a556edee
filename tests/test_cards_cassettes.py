"""CardsClient against recorded exchanges of the documented payloads (reference §2.1, §4-§9).

The first run records each exchange from the loopback ``docserver`` into
``cassettes/test_cards_cassettes/``; later runs replay the cassette (the server then
receives nothing, so these tests assert on what the client parsed). Pages are shaped as
Laravel's paginator writes them (``data``, ``links``, ``meta``), the format the Cards
documentation shows; a page holds fewer items than ``meta`` announces, to keep the
cassettes short.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from conftest import SECRET_MARK
from docserver import DocServer
from lucca_cards import ConnectionMode, RateLimiter
from lucca_cards.cards.client import CardsClient
from lucca_cards.cards.models import GroupRef

DOC_API = "https://api.cards-microlearning.com/v1"
GROUP_ID = "9c445054-c2f0-46c4-b784-ae6ea4c3ebbe"
TRAINING_ID = "9c4451a2-7d0e-4e39-a3f5-2b8e0c1d9f10"


def laravel_page(
    path: str, items: list[Any], current: int, last: int, *, total: int, per_page: int = 500
) -> dict[str, Any]:
    """One page exactly as Laravel's ``LengthAwarePaginator`` resource writes it."""
    url = f"{DOC_API}/{path}"
    first = (current - 1) * per_page + 1 if items else None
    numbered = [
        {"url": f"{url}?page={n}", "label": str(n), "active": n == current}
        for n in range(1, last + 1)
    ]
    return {
        "data": items,
        "links": {
            "first": f"{url}?page=1",
            "last": f"{url}?page={last}",
            "prev": f"{url}?page={current - 1}" if current > 1 else None,
            "next": f"{url}?page={current + 1}" if current < last else None,
        },
        "meta": {
            "current_page": current,
            "from": first,
            "last_page": last,
            "links": [
                {
                    "url": f"{url}?page={current - 1}" if current > 1 else None,
                    "label": "&laquo; Previous",
                    "active": False,
                },
                *numbered,
                {
                    "url": f"{url}?page={current + 1}" if current < last else None,
                    "label": "Next &raquo;",
                    "active": False,
                },
            ],
            "path": url,
            "per_page": per_page,
            "to": min(current * per_page, total) if items else None,
            "total": total,
        },
    }


def user(uid: str, first: str, last: str, **changes: Any) -> dict[str, Any]:
    """A user object as §4.1 documents it."""
    return {
        "id": uid,
        "firstname": first,
        "lastname": last,
        "email": f"{first}.{last}@example.com".lower(),
        "role": "user",
        "company": "ACME",
        "phone": "+33 6 12 34 56 78",
        "source": "app",
        "enable_ranking": True,
        "lang": "fr",
        "groups": [{"id": GROUP_ID, "name": "RPS"}],
        **changes,
    }


JEANNE = user("9c4452c0-1b6e-4a57-9a0e-5d2f3c4b5a61", "Jeanne", "Martin")
PAUL = user("9c4452c0-2c7f-4b68-8b1f-6e3a4d5c6b72", "Paul", "Durand", source="sso", groups=[])
LEA = user("9c4452c0-3d80-4c79-9c20-7f4b5e6d7c83", "Lea", "Petit", role="editor", lang="en")
BADGE = {
    "id": "9c4453d1-4e91-4d8a-8d31-805c6f7e8d94",
    "name": "Curieux",
    "description": "A terminé trois formations",
    "image": "https://api.cards-microlearning.com/storage/badges/curieux.png",
    "emoji": {"i": "🧐", "n": ["face with monocle"], "r": "1f9d0", "t": "", "u": "1f9d0"},
    "created_at": "2024-01-20T09:09:00.000000Z",
    "updated_at": "2024-02-01T10:00:00.000000Z",
}


@pytest.fixture
def cards(docserver: DocServer) -> CardsClient:
    return CardsClient(
        tenant="acme",
        api_key=f"{SECRET_MARK}-cards-key",
        base_url=docserver.url + "/v1",
        rate_limiter=RateLimiter(0),
    )


@pytest.mark.vcr
def test_users_list_two_pages(cards: CardsClient, docserver: DocServer) -> None:
    docserver.route("GET", "/v1/users", laravel_page("users", [JEANNE, PAUL], 1, 2, total=502))
    docserver.route("GET", "/v1/users", laravel_page("users", [LEA], 2, 2, total=502))
    pages = list(cards.users.list(group_names="RPS").pages())
    assert [[u.firstname for u in page] for page in pages] == [["Jeanne", "Paul"], ["Lea"]]
    jeanne, paul, lea = (u for page in pages for u in page)
    assert (jeanne.email, jeanne.role, jeanne.company) == (
        "jeanne.martin@example.com",
        "user",
        "ACME",
    )
    assert jeanne.groups == [GroupRef(id=GROUP_ID, name="RPS")]
    assert jeanne.enable_ranking is True
    assert jeanne.connection_mode is ConnectionMode.PASSWORD
    assert paul.connection_mode is ConnectionMode.SSO and paul.groups == []
    assert (lea.role, lea.lang) == ("editor", "en")


@pytest.mark.vcr
def test_users_get(cards: CardsClient, docserver: DocServer) -> None:
    docserver.route("GET", f"/v1/users/{JEANNE['id']}", {"data": JEANNE})
    got = cards.users.get(JEANNE["id"])
    assert (got.id, got.lastname, got.phone, got.source) == (
        JEANNE["id"],
        "Martin",
        "+33 6 12 34 56 78",
        "app",
    )


@pytest.mark.vcr
def test_users_create(cards: CardsClient, docserver: DocServer) -> None:
    created = user(
        "9c4452c0-4e91-4d8a-ad31-805c6f7e8d95",
        "Jeanne",
        "Martin",
        groups=[{"id": "9c445054-0000-4000-8000-000000000001", "name": "Onboarding 2024"}],
    )
    docserver.route("POST", "/v1/users", {"data": created}, status=201)
    got = cards.users.create(
        "Jeanne",
        "Martin",
        "jeanne.martin@example.com",
        lang="fr",
        company="ACME",
        enable_ranking=True,
        groups=["Onboarding 2024"],
    )
    assert got.id == created["id"]
    assert got.groups == [
        GroupRef(id="9c445054-0000-4000-8000-000000000001", name="Onboarding 2024")
    ]


@pytest.mark.vcr
def test_users_update(cards: CardsClient, docserver: DocServer) -> None:
    moved = {**PAUL, "groups": [{"id": GROUP_ID, "name": "RPS"}], "company": ""}
    docserver.route("PUT", f"/v1/users/{PAUL['id']}", {"data": moved})
    got = cards.users.update(PAUL["id"], groups=[GroupRef(id=GROUP_ID)], company="")
    assert got.groups == [GroupRef(id=GROUP_ID, name="RPS")]
    assert got.company == ""


@pytest.mark.vcr
def test_users_delete(cards: CardsClient, docserver: DocServer) -> None:
    docserver.route("DELETE", f"/v1/users/{LEA['id']}", None, status=204)
    assert cards.users.delete(LEA["id"]) is None


@pytest.mark.vcr
def test_users_badges(cards: CardsClient, docserver: DocServer) -> None:
    path = f"users/{JEANNE['id']}/badges"
    docserver.route("GET", f"/v1/{path}", laravel_page(path, [BADGE], 1, 1, total=1))
    (badge,) = cards.users.badges(JEANNE["id"])
    assert (badge.name, badge.emoji and badge.emoji["i"]) == ("Curieux", "🧐")
    assert badge.created_at == datetime(2024, 1, 20, 9, 9, tzinfo=timezone.utc)


@pytest.mark.vcr
def test_groups_list(cards: CardsClient, docserver: DocServer) -> None:
    groups = [{"id": GROUP_ID, "name": "RPS"}, {"id": "9c445054-1111", "name": "vol"}]
    docserver.route("GET", "/v1/groups", laravel_page("groups", groups, 1, 1, total=2))
    got = list(cards.groups.list(enable_ranking=True))
    assert [(g.id, g.name) for g in got] == [(GROUP_ID, "RPS"), ("9c445054-1111", "vol")]


@pytest.mark.vcr
def test_trainings_list(cards: CardsClient, docserver: DocServer) -> None:
    training = {
        "id": TRAINING_ID,
        "title": "Titre de ma formation",
        "description": "Description de ma formation",
        "status": "publish",
        "image": "https://api.cards-microlearning.com/storage/trainings/t.png",
        "public_url": "https://app.cards-microlearning.com/trainings/abc",
        "category": "Sécurité",
    }
    docserver.route("GET", "/v1/trainings", laravel_page("trainings", [training], 1, 1, total=1))
    (got,) = cards.trainings.list(group_ids=GROUP_ID, status="publish")
    assert (got.id, got.title, got.status, got.category) == (
        TRAINING_ID,
        "Titre de ma formation",
        "publish",
        "Sécurité",
    )
    assert got.public_url == "https://app.cards-microlearning.com/trainings/abc"
    assert got.extra == {}


@pytest.mark.vcr
def test_badges_list(cards: CardsClient, docserver: DocServer) -> None:
    docserver.route("GET", "/v1/badges", laravel_page("badges", [BADGE], 1, 1, total=1))
    (badge,) = cards.badges.list(status="publish", option_teasing=False)
    assert (badge.id, badge.description) == (BADGE["id"], "A terminé trois formations")
    assert badge.updated_at == datetime(2024, 2, 1, 10, 0, tzinfo=timezone.utc)


@pytest.mark.vcr
def test_badges_get(cards: CardsClient, docserver: DocServer) -> None:
    docserver.route("GET", f"/v1/badges/{BADGE['id']}", {"data": BADGE})
    badge = cards.badges.get(BADGE["id"])
    assert (badge.name, badge.image) == ("Curieux", BADGE["image"])


@pytest.mark.vcr
def test_badges_users(cards: CardsClient, docserver: DocServer) -> None:
    path = f"badges/{BADGE['id']}/users"
    docserver.route("GET", f"/v1/{path}", laravel_page(path, [JEANNE, LEA], 1, 1, total=2))
    assert [u.email for u in cards.badges.users(BADGE["id"])] == [
        "jeanne.martin@example.com",
        "lea.petit@example.com",
    ]


@pytest.mark.vcr
def test_certificates_list(cards: CardsClient, docserver: DocServer) -> None:
    certificate = {
        "id": "9c4454e2-5fa2-4e9b-9e42-916d7f8e9fa5",
        "name": "Certificat RGPD",
        "description": "Délivré à la fin du parcours RGPD",
        "content": "<p>Certifie que {firstname} {lastname} a suivi le parcours.</p>",
        "created_at": "2024-03-01T08:00:00.000000Z",
        "updated_at": "2024-03-02T08:00:00.000000Z",
    }
    docserver.route(
        "GET", "/v1/certificates", laravel_page("certificates", [certificate], 1, 1, total=1)
    )
    (got,) = cards.certificates.list()
    assert (got.name, got.content) == ("Certificat RGPD", certificate["content"])
    assert got.created_at == datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.mark.vcr
def test_embeds_create(cards: CardsClient, docserver: DocServer) -> None:
    answer = {
        "message": "Embed link created",
        "url": "https://embed.cards-microlearning.com/xxxxxxxxxx",
    }
    docserver.route("POST", "/v1/embeds", answer)
    embed = cards.embeds.create("jeanne.martin@example.com", training_id=TRAINING_ID)
    assert (embed.url, embed.message) == (answer["url"], "Embed link created")
