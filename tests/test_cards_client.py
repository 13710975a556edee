"""CardsClient: exact requests (headers, paging, filters, bodies), errors and retries."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from conftest import SECRET_MARK, FakeClock
from lucca_cards import (
    AuthenticationError,
    ConfigurationError,
    ConnectionMode,
    NotFoundError,
    PermissionDeniedError,
    RateLimiter,
    ServerError,
    Settings,
    TransportError,
    ValidationError,
)
from lucca_cards.cards.client import CardsClient
from lucca_cards.cards.models import NOTIFY_FIELD, Badge, CardsUser, GroupRef, Training

BASE = "https://api.cards-microlearning.com/v1"
KEY = f"{SECRET_MARK}-cards-key"
TENANT = "acme"
USER = {
    "id": "u1",
    "firstname": "Jeanne",
    "lastname": "Martin",
    "email": "jeanne.martin@example.com",
    "role": "user",
    "company": "ACME",
    "phone": None,
    "source": "app",
    "enable_ranking": True,
    "lang": "fr",
    "groups": [{"id": "9c445054-c2f0-46c4-b784-ae6ea4c3ebbe", "name": "RPS"}],
}


@pytest.fixture
def cards(clock: FakeClock) -> CardsClient:
    return CardsClient(
        tenant=TENANT,
        api_key=KEY,
        rate_limiter=RateLimiter(0),
        clock=clock,
        sleep=clock.sleep,
    )


def page(
    items: list[Any], current: int, last: int, *, next_link: bool | None = None
) -> dict[str, Any]:
    """A Laravel page; ``links.next`` set unless on the last page (or forced)."""
    has_next = current < last if next_link is None else next_link
    return {
        "data": items,
        "links": {
            "first": f"{BASE}/users?page=1",
            "last": f"{BASE}/users?page={last}",
            "prev": None if current == 1 else f"{BASE}/users?page={current - 1}",
            "next": f"{BASE}/users?page={current + 1}" if has_next else None,
        },
        "meta": {"current_page": current, "last_page": last, "per_page": 500},
    }


def query(call_index: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call_index].request.url).query)


def sent_json(call_index: int = 0) -> Any:
    return json.loads(responses.calls[call_index].request.body)


# --- headers, repr, construction ------------------------------------------------------


@responses.activate
def test_every_request_carries_bearer_tenant_and_accept(cards: CardsClient) -> None:
    responses.get(f"{BASE}/users/u1", json={"data": USER})
    cards.users.get("u1")
    headers = responses.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["X-Tenant"] == TENANT
    assert headers["Accept"] == "application/json"


def test_repr_shows_the_url_and_never_the_key(cards: CardsClient) -> None:
    assert repr(cards) == f"CardsClient(base_url={BASE!r})"
    for shown in (repr(cards), repr(cards.users), repr(cards._transports[0]._auth)):
        assert SECRET_MARK not in shown


def test_from_settings_requires_tenant_and_key() -> None:
    with pytest.raises(ConfigurationError) as missing:
        CardsClient.from_settings(Settings(cards_api_key=KEY))
    assert missing.value.setting == "cards_tenant"
    with pytest.raises(ConfigurationError) as no_key:
        CardsClient.from_settings(Settings(cards_tenant=TENANT))
    assert no_key.value.setting == "cards_api_key"


@responses.activate
def test_from_settings_uses_url_tenant_header_and_secret() -> None:
    settings = Settings(
        cards_tenant=TENANT,
        cards_api_key=KEY,
        cards_url="https://cards.example.test/v1/",
        cards_signature_header="X-Cards-Signature",
        cards_webhook_secret=f"{SECRET_MARK}-hook",
    )
    client = CardsClient.from_settings(settings, rate_limiter=RateLimiter(0))
    assert client.base_url == "https://cards.example.test/v1"
    assert client.webhooks.signature_header == "X-Cards-Signature"
    assert client.webhooks.verify_request({"x-cards-signature": "00"}, b"{}") is False
    responses.get("https://cards.example.test/v1/users/u1", json=USER)
    assert client.users.get("u1").email == USER["email"]
    assert responses.calls[0].request.headers["X-Tenant"] == TENANT


# --- paging and filters ---------------------------------------------------------------


@responses.activate
def test_list_pages_up_to_last_page_resending_filters(cards: CardsClient) -> None:
    for number in (1, 2, 3):
        responses.get(f"{BASE}/users", json=page([{**USER, "id": f"u{number}"}], number, 3))
    users = list(cards.users.list(role="user", group_names=["RPS", "vol"]))
    assert [user.id for user in users] == ["u1", "u2", "u3"]
    assert len(responses.calls) == 3
    expected_filters = [
        {"type": "role", "values": "user"},
        {"type": "groups_name", "values": ["RPS", "vol"]},
    ]
    for index in range(3):
        sent = query(index)
        assert sent["page"] == [str(index + 1)]
        assert sent["paginate"] == ["500"]
        assert json.loads(sent["filters"][0]) == expected_filters


@responses.activate
def test_list_stops_at_last_page_even_if_links_next_is_set(cards: CardsClient) -> None:
    responses.get(f"{BASE}/groups", json=page([{"id": "g1", "name": "RPS"}], 1, 2))
    responses.get(f"{BASE}/groups", json=page([{"id": "g2", "name": "vol"}], 2, 2, next_link=True))
    assert [group.name for group in cards.groups.list()] == ["RPS", "vol"]
    assert len(responses.calls) == 2
    assert "filters" not in query(0)


@responses.activate
def test_empty_list_is_one_request(cards: CardsClient) -> None:
    responses.get(f"{BASE}/trainings", json=page([], 1, 1))
    assert list(cards.trainings.list()) == []
    assert len(responses.calls) == 1


@responses.activate
def test_filters_encode_booleans_as_0_1_and_lists_as_or(cards: CardsClient) -> None:
    responses.get(f"{BASE}/trainings", json=page([{"id": "t1", "title": "Python"}], 1, 1))
    responses.get(f"{BASE}/badges", json=page([], 1, 1))
    responses.get(f"{BASE}/certificates", json=page([], 1, 1))
    trainings = cards.trainings.list(
        group_ids="9c445054", is_public=True, is_rating=False, status="publish"
    )
    assert [t.title for t in trainings] == ["Python"]
    assert json.loads(query(0)["filters"][0]) == [
        {"type": "groups_id", "values": "9c445054"},
        {"type": "is_public", "values": 1},
        {"type": "is_rating", "values": 0},
        {"type": "status", "values": "publish"},
    ]
    list(cards.badges.list(status=["draft", "publish"], notif=True))
    assert json.loads(query(1)["filters"][0]) == [
        {"type": "status", "values": ["draft", "publish"]},
        {"type": "notif", "values": 1},
    ]
    list(cards.certificates.list(option_teasing=False))
    assert json.loads(query(2)["filters"][0]) == [{"type": "option_teasing", "values": 0}]


@responses.activate
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.users.list(email="a@example.com"), "email"),
        (lambda c: c.users.list(role="admin"), "role"),
        (lambda c: c.groups.list(is_public="yes"), "is_public"),
        (lambda c: c.badges.list(status="archived"), "status"),
        (lambda c: c.trainings.list(group_names=[]), "group_names"),
    ],
)
def test_bad_filters_are_refused_before_sending(cards: CardsClient, call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        list(call(cards))
    assert field in refused.value.errors
    assert field in str(refused.value)
    assert len(responses.calls) == 0


# --- users: create, update, delete ------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(("mode", "source"), [(ConnectionMode.PASSWORD, "app"), ("sso", "sso")])
def test_create_sends_source_notify_and_groups(cards: CardsClient, mode: Any, source: str) -> None:
    responses.post(f"{BASE}/users", status=201, json={"data": {**USER, "source": source}})
    user = cards.users.create(
        "Jeanne",
        "Martin",
        "jeanne.martin@example.com",
        notify=True,
        connection_mode=mode,
        lang="fr",
        company="ACME",
        enable_ranking=True,
        groups=["Onboarding 2024", {"id": "g-1"}, GroupRef(id="g-2", name="RPS")],
    )
    assert sent_json() == {
        "firstname": "Jeanne",
        "lastname": "Martin",
        "email": "jeanne.martin@example.com",
        "role": "user",
        "source": source,
        "lang": "fr",
        "company": "ACME",
        "enable_ranking": 1,
        "groups": [{"name": "Onboarding 2024"}, {"id": "g-1"}, {"id": "g-2", "name": "RPS"}],
        NOTIFY_FIELD: 1,
    }
    assert responses.calls[0].request.method == "POST"
    assert isinstance(user, CardsUser)
    assert user.connection_mode == ConnectionMode(source)
    assert user.groups == [GroupRef(id="9c445054-c2f0-46c4-b784-ae6ea4c3ebbe", name="RPS")]


@responses.activate
def test_create_defaults_and_an_unwrapped_answer(cards: CardsClient) -> None:
    responses.post(f"{BASE}/users", status=201, json=USER)  # gap 9: no "data" wrapper
    user = cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com")
    assert sent_json() == {
        "firstname": "Jeanne",
        "lastname": "Martin",
        "email": "jeanne.martin@example.com",
        "role": "user",
        "source": "app",
        NOTIFY_FIELD: 0,
    }
    assert user.id == "u1"
    assert user.enable_ranking is True


@responses.activate
def test_create_refuses_documented_invalid_values_before_sending(cards: CardsClient) -> None:
    with pytest.raises(ValidationError) as refused:
        cards.users.create(" ", "x" * 191, "a@example.com", role="admin", lang="de")
    assert set(refused.value.errors) == {"firstname", "lastname", "role", "lang"}
    assert "firstname" in str(refused.value)
    assert len(responses.calls) == 0
    cards_limit = "y" * 190
    responses.post(f"{BASE}/users", status=201, json=USER)
    cards.users.create("J", cards_limit, "a@example.com", company=cards_limit)
    assert sent_json()["lastname"] == cards_limit


@responses.activate
def test_update_sends_only_the_changes_and_groups_replace(cards: CardsClient) -> None:
    responses.put(
        f"{BASE}/users/u1", json={"data": {**USER, "groups": [{"id": "g9", "name": "New"}]}}
    )
    current = CardsUser.from_api(USER)
    updated = cards.users.update("u1", groups=[*current.groups, "New"], company="")
    assert responses.calls[0].request.method == "PUT"
    assert sent_json() == {
        "groups": [{"id": "9c445054-c2f0-46c4-b784-ae6ea4c3ebbe", "name": "RPS"}, {"name": "New"}],
        "company": "",
    }
    assert updated.groups == [GroupRef(id="g9", name="New")]


@responses.activate
def test_update_with_no_groups_clears_memberships(cards: CardsClient) -> None:
    responses.put(f"{BASE}/users/u1", json={"data": {**USER, "groups": []}})
    assert cards.users.update("u1", groups=[], enable_ranking=False).groups == []
    assert sent_json() == {"groups": [], "enable_ranking": 0}


@responses.activate
def test_update_refuses_unknown_fields_and_blank_names(cards: CardsClient) -> None:
    with pytest.raises(ValidationError) as refused:
        cards.users.update("u1", firstname="", nickname="Jo")  # type: ignore[call-arg]
    assert set(refused.value.errors) == {"firstname", "nickname"}
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.parametrize(("status", "body"), [(204, None), (200, {"message": "User deleted"})])
def test_delete_accepts_any_2xx(cards: CardsClient, status: int, body: Any) -> None:
    responses.delete(f"{BASE}/users/u1", status=status, json=body)
    assert cards.users.delete("u1") is None
    assert responses.calls[0].request.method == "DELETE"


# --- other resources --------------------------------------------------------------------


@responses.activate
def test_user_badges_and_badge_users(cards: CardsClient) -> None:
    badge = {"id": "b1", "name": "Curious", "created_at": "2024-01-20T09:09:00.000000Z"}
    responses.get(f"{BASE}/users/u1/badges", json=page([badge], 1, 1))
    responses.get(f"{BASE}/badges/b1/users", json=page([USER], 1, 1))
    responses.get(f"{BASE}/badges/b1", json={"data": badge})
    assert [b.name for b in cards.users.badges("u1")] == ["Curious"]
    assert [u.email for u in cards.badges.users("b1")] == [USER["email"]]
    got = cards.badges.get("b1")
    assert isinstance(got, Badge)
    assert got.created_at is not None and got.created_at.year == 2024
    assert query(0)["paginate"] == ["500"]


@responses.activate
def test_embed_body_and_answer(cards: CardsClient) -> None:
    answer = {"message": "Embed link created", "url": "https://embed.cards-microlearning.com/tok"}
    responses.post(f"{BASE}/embeds", json=answer)
    embed = cards.embeds.create(
        "a@example.com", training_id="t1", once=False, expires_at=date(2024, 9, 25)
    )
    assert sent_json() == {
        "type": "training",
        "email": "a@example.com",
        "once": False,
        "training_id": "t1",
        "expires_at": "2024-09-25",
    }
    assert (embed.url, embed.message) == (answer["url"], "Embed link created")
    cards.embeds.create("a@example.com")
    assert sent_json(1) == {"type": "trainings", "email": "a@example.com", "once": True}


def test_embed_training_without_id_is_refused(cards: CardsClient) -> None:
    with pytest.raises(ValidationError) as refused:
        cards.embeds.create("a@example.com", type="training")
    assert "training_id" in refused.value.errors


def test_training_keeps_undocumented_fields() -> None:
    training = Training.from_api({"id": "t1", "title": "Python", "duration": 12})
    assert training.extra == {"duration": 12}


# --- errors -----------------------------------------------------------------------------


@responses.activate
def test_422_laravel_body_becomes_validation_error(cards: CardsClient) -> None:
    responses.post(
        f"{BASE}/users",
        status=422,
        json={
            "message": "The email has already been taken. (and 1 more error)",
            "errors": {
                "email": ["The email has already been taken."],
                "lang": ["The selected lang is invalid."],
            },
        },
    )
    with pytest.raises(ValidationError) as refused:
        cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com")
    error = refused.value
    assert error.status == 422
    assert error.errors == {
        "email": ["The email has already been taken."],
        "lang": ["The selected lang is invalid."],
    }
    assert "email: The email has already been taken." in str(error)
    assert "The selected lang is invalid." in str(error)
    assert len(responses.calls) == 1


@responses.activate
def test_401_is_not_retried_and_never_shows_the_key(cards: CardsClient) -> None:
    responses.get(f"{BASE}/users", status=401, json={"message": "Unauthenticated."})
    with pytest.raises(AuthenticationError) as refused:
        cards.users.list().first()
    assert len(responses.calls) == 1
    text = str(refused.value)
    assert "CARDS_API_KEY" in text and "X-Tenant" in text
    assert SECRET_MARK not in text and SECRET_MARK not in repr(refused.value)


@responses.activate
def test_403_and_404_say_what_to_check(cards: CardsClient) -> None:
    responses.get(f"{BASE}/groups", status=403, json={"message": "Forbidden."})
    responses.get(f"{BASE}/users/nope", status=404, json={"message": "No query results"})
    with pytest.raises(PermissionDeniedError, match="X-Tenant"):
        list(cards.groups.list())
    with pytest.raises(NotFoundError, match="No query results"):
        cards.users.get("nope")


# --- retries ----------------------------------------------------------------------------


@responses.activate
def test_create_is_not_retried_on_500(cards: CardsClient) -> None:
    responses.post(f"{BASE}/users", status=500, json={"message": "Server Error"})
    responses.post(f"{BASE}/users", status=201, json=USER)
    with pytest.raises(ServerError):
        cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com")
    assert len(responses.calls) == 1


@responses.activate
def test_create_is_not_retried_after_a_reset_once_sent(
    cards: CardsClient, clock: FakeClock
) -> None:
    reset = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
    responses.post(f"{BASE}/users", body=reset)
    responses.post(f"{BASE}/users", status=201, json=USER)
    with pytest.raises(TransportError) as lost:
        cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com")
    assert lost.value.request_sent is True
    assert len(responses.calls) == 1
    assert clock.sleeps == []


@responses.activate
def test_create_is_retried_when_the_connection_never_opened(cards: CardsClient) -> None:
    refused = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    never = requests.ConnectionError(MaxRetryError(None, "/v1/users", refused))  # type: ignore[arg-type]
    responses.post(f"{BASE}/users", body=never)
    responses.post(f"{BASE}/users", status=201, json=USER)
    assert cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com").id == "u1"
    assert len(responses.calls) == 2


@responses.activate
def test_create_is_retried_on_429_after_retry_after(cards: CardsClient, clock: FakeClock) -> None:
    responses.post(
        f"{BASE}/users",
        status=429,
        headers={"Retry-After": "7"},
        json={"message": "Too Many Attempts."},
    )
    responses.post(f"{BASE}/users", status=201, json={"data": USER})
    assert cards.users.create("Jeanne", "Martin", "jeanne.martin@example.com").id == "u1"
    assert len(responses.calls) == 2
    assert clock.sleeps == [7.0]
    assert sent_json(0) == sent_json(1)


@responses.activate
def test_get_is_retried_on_503(cards: CardsClient, clock: FakeClock) -> None:
    responses.get(f"{BASE}/users/u1", status=503)
    responses.get(f"{BASE}/users/u1", json={"data": USER})
    assert cards.users.get("u1").id == "u1"
    assert len(responses.calls) == 2
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 1
