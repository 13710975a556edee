"""CardsClient against exchanges recorded from the sandbox's fake Cards.

The first run records each exchange from ``cassette_sandbox`` (a fake Cards built from the
reference, with a fixed company) into ``cassettes/test_cards_cassettes/``; later runs,
and CI, replay the cassette: the sandbox then receives nothing, so these tests assert on
what the client parsed, compared with the company the sandbox generated. The recorded
pages are Laravel's exactly as the sandbox writes them, and every write (create, group
auto-creation, union of groups, delete, duplicate email) is a real stateful exchange.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lucca_cards import ConnectionMode, NotFoundError, RateLimiter, ValidationError
from lucca_cards.cards.client import CardsClient
from lucca_cards.sandbox import Sandbox
from lucca_cards.sandbox._model import CardsData


@pytest.fixture
def cards(cassette_sandbox: Sandbox) -> Iterator[CardsClient]:
    with CardsClient.from_settings(cassette_sandbox.settings(),
                                   rate_limiter=RateLimiter(0)) as client:
        yield client


@pytest.fixture
def data(cassette_sandbox: Sandbox) -> CardsData:
    return cassette_sandbox.company.cards


@pytest.mark.vcr
def test_users_list(cards: CardsClient, data: CardsData) -> None:
    users = list(cards.users.list())
    assert [u.id for u in users] == list(data.users)
    for user in users:
        truth = data.users[user.id]
        assert (user.email, user.role, user.source) == (truth.email, truth.role, truth.source)
        assert [g.name for g in user.groups] == [data.groups[g].name for g in truth.group_ids]


@pytest.mark.vcr
def test_users_list_filtered_by_group(cards: CardsClient, data: CardsData) -> None:
    group = next(g for g in data.groups.values()
                 if any(g.id in u.group_ids for u in data.users.values()))
    members = {u.id for u in cards.users.list(group_names=group.name)}
    assert members == {u.id for u in data.users.values() if group.id in u.group_ids}


@pytest.mark.vcr
def test_users_get(cards: CardsClient, data: CardsData) -> None:
    truth = next(iter(data.users.values()))
    user = cards.users.get(truth.id)
    assert (user.firstname, user.lastname, user.email) == (
        truth.firstname, truth.lastname, truth.email)


@pytest.mark.vcr
def test_users_create_update_delete(cards: CardsClient, data: CardsData) -> None:
    existing = next(iter(data.groups.values()))
    created = cards.users.create(
        "Anaïs", "L'Hôte", "anais.lhote@acme.fr", notify=True,
        connection_mode=ConnectionMode.SSO, groups=[existing.name, "Nouveaux arrivants 2026"],
    )
    assert created.source == "sso"
    assert created.groups[0].id == existing.id  # named group found, not duplicated
    assert created.groups[1].name == "Nouveaux arrivants 2026"  # auto-created
    moved = cards.users.update(created.id, groups=[*created.groups, "Ambassadeurs RSE"])
    assert [g.name for g in moved.groups] == [
        existing.name, "Nouveaux arrivants 2026", "Ambassadeurs RSE"]
    cards.users.delete(created.id)
    with pytest.raises(NotFoundError):
        cards.users.get(created.id)


@pytest.mark.vcr
def test_users_create_refuses_a_taken_email(cards: CardsClient, data: CardsData) -> None:
    taken = next(u.email for u in data.users.values() if u.email)
    with pytest.raises(ValidationError) as refused:
        cards.users.create("Jean", "Double", (taken or "").upper())
    assert refused.value.status == 422
    assert "email" in refused.value.errors


@pytest.mark.vcr
def test_users_badges(cards: CardsClient, data: CardsData) -> None:
    badge = next(b for b in data.badges.values() if b.user_ids)
    assert badge.id in {b.id for b in cards.users.badges(badge.user_ids[0])}


@pytest.mark.vcr
def test_groups_list(cards: CardsClient, data: CardsData) -> None:
    assert [(g.id, g.name) for g in cards.groups.list()] == [
        (g.id, g.name) for g in data.groups.values()]


@pytest.mark.vcr
def test_trainings_list(cards: CardsClient, data: CardsData) -> None:
    trainings = list(cards.trainings.list())
    assert [(t.id, t.title, t.status) for t in trainings] == [
        (t.id, t.title, t.status) for t in data.trainings.values()]
    assert all(t.public_url for t in trainings)


@pytest.mark.vcr
def test_badges_list_get_and_users(cards: CardsClient, data: CardsData) -> None:
    assert [b.id for b in cards.badges.list()] == list(data.badges)
    badge = next(b for b in data.badges.values() if b.user_ids)
    read = cards.badges.get(badge.id)
    assert (read.name, read.created_at is not None) == (badge.name, True)
    assert {u.id for u in cards.badges.users(badge.id)} == set(badge.user_ids)


@pytest.mark.vcr
def test_certificates_list(cards: CardsClient, data: CardsData) -> None:
    assert [c.name for c in cards.certificates.list()] == [
        c.name for c in data.certificates.values()]


@pytest.mark.vcr
def test_embeds_create(cards: CardsClient, data: CardsData) -> None:
    learner = next(u for u in data.users.values() if u.email)
    training = next(t for t in data.trainings.values() if t.status == "publish")
    embed = cards.embeds.create(learner.email or "", training_id=training.id,
                                expires_at="2026-12-31")
    assert embed.url.startswith("https://embed.cards-microlearning.com/")
    assert embed.message == "Embed link created"
