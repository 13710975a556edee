"""Every public call ends, spends one retry budget, gives advice that fits, and keeps ids
and arguments to what they say: the transport's promises checked one by one, over loopback.
"""

from __future__ import annotations

import logging
import socket
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hostile_server import HostileServer, Seen, Wire, response

from conftest import SECRET_MARK, FakeClock
from lucca_cards import (
    CardsClient,
    ConnectionMode,
    DepartmentImporter,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    NotFoundError,
    RateLimiter,
    RetryPolicy,
    TransportError,
    UnexpectedResponseError,
    UserImporter,
    ValidationError,
    _paging,
)
from sync_support import clients, sandbox

OPTIONS: dict[str, Any] = {"rate_limiter": RateLimiter(0)}


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as served:
        yield served


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lucca(url: str, clock: FakeClock, token_url: str | None = None, **more: Any) -> Any:
    return LuccaOAuthClient(base_url=url, client_id="c", client_secret=f"{SECRET_MARK}-s",
                            token_url=token_url or f"{url}/connect/token", clock=clock,
                            sleep=clock.sleep, **OPTIONS, **more)


# -- one retry budget per call ---------------------------------------------------------------


def test_an_unreachable_token_host_costs_one_budget_not_its_square(
    clock: FakeClock, caplog: pytest.LogCaptureFixture, server: HostileServer
) -> None:
    caplog.set_level(logging.WARNING, logger="lucca_cards")
    dead = f"http://127.0.0.1:{free_port()}/connect/token"
    client = lucca(server.url, clock, token_url=dead, retry=RetryPolicy(max_attempts=5))
    with client, pytest.raises(TransportError) as caught:
        list(client.employees.list())
    assert len(clock.sleeps) == 4  # five attempts in all, the token fetch's included
    assert len(caplog.records) == 4
    assert server.seen == []  # the API was never asked without a token
    message = str(caught.value)
    assert "could not connect to 127.0.0.1:" in message
    assert "(connection refused)" in message
    assert "LUCCA_TOKEN_URL" in message


def test_a_name_that_does_not_resolve_names_the_host_and_the_setting(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    cards = CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-k",
                        base_url="https://cards.invalid/v1", clock=clock, sleep=clock.sleep,
                        retry=RetryPolicy(max_attempts=2), **OPTIONS)
    with cards, pytest.raises(TransportError) as caught:
        cards.users.get("u1")
    assert "could not find the host cards.invalid" in str(caught.value)
    assert "CARDS_URL" in str(caught.value)
    assert caught.value.request_sent is False


def test_the_call_deadline_stops_retries_and_waits(clock: FakeClock,
                                                   server: HostileServer) -> None:
    server.answer = lambda seen, wire: wire.write(response(503, {"message": "down"}, headers={
        "Retry-After": "20"}))
    legacy = LuccaLegacyApiClient(base_url=server.url, api_key=f"{SECRET_MARK}-k", clock=clock,
                                  sleep=clock.sleep, retry=RetryPolicy(max_attempts=50,
                                                                       max_elapsed=70), **OPTIONS)
    with legacy, pytest.raises(Exception, match="503"):
        legacy.users.get(5)
    assert clock.sleeps == [20.0, 20.0, 20.0]  # a fourth wait would end past 70 s
    assert len(server.seen) == 4


# -- paging always ends ------------------------------------------------------------------------


def test_a_legacy_api_answering_new_full_pages_for_ever_is_cut_at_max_pages(
    clock: FakeClock, server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_paging, "MAX_PAGES", 4)

    def endless(seen: Seen, wire: Wire) -> None:
        offset = len(server.seen) * 10
        items = [{"id": offset + n + 1} for n in range(10)]
        wire.write(response(200, {"header": {}, "data": {"items": items}}))

    server.answer = endless
    legacy = LuccaLegacyApiClient(base_url=server.url, api_key=f"{SECRET_MARK}-k", clock=clock,
                                  sleep=clock.sleep, **OPTIONS)
    with legacy, pytest.raises(UnexpectedResponseError, match="more than 4 full pages"):
        list(legacy.users.list(page_size=10))
    assert len(server.seen) == 4


def test_lucca_cursors_that_never_end_are_cut(clock: FakeClock, server: HostileServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_paging, "MAX_PAGES", 6)

    def endless(seen: Seen, wire: Wire) -> None:
        cursor = len(server.seen)
        wire.write(response(200, {"items": [{"id": str(cursor)}], "links": {"next": {
            "href": f"{server.url}/lucca-api/departments?page=c{cursor}"}}}))

    server.answer = endless
    server.token_answer = lambda seen, wire: wire.write(response(200, {
        "access_token": f"{SECRET_MARK}-token"}))
    client = lucca(server.url, clock)
    with client, pytest.raises(UnexpectedResponseError, match="more than 6 pages"):
        list(client.departments.list())


def test_memory_stays_bounded_past_the_size_limit(clock: FakeClock,
                                                  server: HostileServer) -> None:
    chunk = b" " * 65536

    def flood(seen: Seen, wire: Wire) -> None:
        wire.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        for _ in range(800):  # 50 MiB, with no length announced
            wire.write(chunk)

    server.answer = flood
    cards = CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-k", base_url=f"{server.url}/v1",
                        clock=clock, sleep=clock.sleep, max_response_bytes=1024 * 1024,
                        retry=RetryPolicy(max_attempts=1), **OPTIONS)
    tracemalloc.start()
    try:
        with cards, pytest.raises(UnexpectedResponseError, match="more than 1,048,576 bytes"):
            cards.users.get("u1")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


# -- advice that fits the cause ----------------------------------------------------------------


def test_a_404_on_a_collection_points_at_the_base_url_and_on_an_item_at_the_id(
    clock: FakeClock, server: HostileServer
) -> None:
    server.answer = lambda seen, wire: wire.write(response(404, {"message": "Not Found."}))
    cards = CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-k", base_url=f"{server.url}/v1",
                        clock=clock, sleep=clock.sleep, **OPTIONS)
    with cards:
        with pytest.raises(NotFoundError) as listing:
            list(cards.users.list())
        with pytest.raises(NotFoundError) as item:
            cards.users.get("u1")
    assert "check CARDS_URL (cards_url)" in str(listing.value)
    assert "check the id" not in str(listing.value)
    assert "check the id" in str(item.value)
    for error in (listing.value, item.value):
        assert ".." not in str(error)


# -- ids stay path segments ---------------------------------------------------------------------


@pytest.mark.parametrize("hostile_id", ["x/../{id}", "../{id}", "{id}/../../groups", "a/b",
                                        "{id}?x=1", "{id}#frag", "%2e%2e/{id}"])
def test_an_id_cannot_reach_another_route(hostile_id: str) -> None:
    with sandbox(employees=30, departments=6) as box, clients(box) as (_, cards):
        victim = next(iter(box.company.cards.users))
        before = set(box.company.cards.users)
        with pytest.raises(NotFoundError):
            cards.users.delete(hostile_id.format(id=victim))
        with pytest.raises(NotFoundError):
            cards.users.update(hostile_id.format(id=victim), lastname="Changed")
        assert set(box.company.cards.users) == before
        assert box.company.cards.users[victim].lastname != "Changed"
        paths = [e["path"] for e in box.cards.log.entries()]
        assert all(path.startswith("/v1/users/") for path in paths)


@pytest.mark.parametrize("bad", ["", "  ", ".", "..", True, None, 1.5, {"id": 1}, ["1"],
                                 "x" * 201])
def test_ids_that_are_not_ids_are_refused_before_sending(bad: Any, clock: FakeClock,
                                                         server: HostileServer) -> None:
    cards = CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-k", base_url=f"{server.url}/v1",
                        clock=clock, sleep=clock.sleep, **OPTIONS)
    client = lucca(server.url, clock)
    legacy = LuccaLegacyApiClient(base_url=server.url, api_key=f"{SECRET_MARK}-k", **OPTIONS)
    calls = [lambda: cards.users.get(bad), lambda: cards.users.delete(bad),
             lambda: cards.badges.get(bad), lambda: client.employees.get(bad),
             lambda: client.departments.get(bad), lambda: legacy.users.get(bad)]
    for call in calls:
        with pytest.raises(ValidationError, match="nothing was sent"):
            call()
    assert server.seen == []


@pytest.mark.parametrize("bad", ["12", 12, "1_000", " 7a", 0, -3, True, 2.0])
def test_legacy_ids_are_positive_whole_numbers(bad: Any, server: HostileServer) -> None:
    legacy = LuccaLegacyApiClient(base_url=server.url, api_key=f"{SECRET_MARK}-k", **OPTIONS)
    if bad in ("12", 12):  # a number, or its digits, is an id
        server.answer = lambda seen, wire: wire.write(response(200, {"data": {"id": 12}}))
        assert legacy.users.get(bad).id == 12
        assert server.seen[0].path.startswith("/api/v3/users/12?")
        return
    with pytest.raises(ValidationError, match="user_id"):
        legacy.users.get(bad)
    assert server.seen == []


# -- arguments mean what they say ----------------------------------------------------------------


@pytest.mark.parametrize(("argument", "value"), [
    ("department_ids", "12"), ("department_ids", 12), ("department_ids", b"12"),
    ("department_ids", {"12": True}), ("department_ids", [None]), ("department_ids", [True]),
    ("department_ids", [""]), ("connection_mode", "ldap"), ("connection_mode", 3),
    ("notify", "no"), ("dry_run", 1),
])
def test_importer_arguments_are_refused_with_the_reason(argument: str, value: Any) -> None:
    with sandbox(employees=30, departments=6) as box, clients(box) as both:
        before = len(box.company.cards.users)
        with pytest.raises(ValidationError) as caught:
            DepartmentImporter(*both).run(**{argument: value})
        assert argument in caught.value.errors
        assert len(box.company.cards.users) == before
        assert box.lucca.log.entries() == []  # refused before anything was read
    if argument == "connection_mode":
        assert "'password'" in str(caught.value) and "'sso'" in str(caught.value)


def test_a_string_of_employee_ids_is_refused_and_a_list_imports_those() -> None:
    with sandbox(employees=30, departments=6) as box, clients(box) as both:
        with pytest.raises(ValidationError, match=r"such as \['416'\]"):
            UserImporter(*both).run(employee_ids="416")
        chosen = sorted(str(e) for e in box.company.lucca.employees)[:1]
        report = UserImporter(*both).run(employee_ids=iter(chosen), dry_run=True,
                                         connection_mode=ConnectionMode.SSO)
        assert [item.employee_id for item in report.items] == chosen


@pytest.mark.parametrize("statuses", ["active", ["actif"], [], [1]])
def test_importer_statuses_are_checked(statuses: Any) -> None:
    with sandbox(employees=20, departments=6) as box, clients(box) as both, pytest.raises(
            ValidationError, match="statuses"):
        UserImporter(*both, statuses=statuses)


def test_cards_groups_given_as_a_string_are_refused(server: HostileServer) -> None:
    cards = CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-k", base_url=f"{server.url}/v1",
                        **OPTIONS)
    with cards:
        with pytest.raises(ValidationError, match="groups"):
            cards.users.create("A", "B", "a@b.fr", groups="RPS")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="firstname"):
            cards.users.create(12, "B", "a@b.fr")  # type: ignore[arg-type]
    assert server.seen == []


# -- a failed item's reason carries no secret -----------------------------------------------------


def test_a_sync_report_reason_never_holds_a_secret(server: HostileServer) -> None:
    def cards(seen: Seen, wire: Wire) -> None:
        if seen.method == "GET":
            wire.write(response(200, {"data": [], "meta": {"current_page": 1, "last_page": 1}}))
        else:  # echo the request, key included, into a validation error
            wire.write(response(422, {"message": seen.echo(), "errors": {"email": [
                seen.echo()]}}))

    server.answer = cards
    with sandbox(employees=20, departments=6) as box:
        settings = box.settings(cards_url=f"{server.url}/v1",
                                cards_api_key=f"{SECRET_MARK}-cards-key")
        with LuccaOAuthClient.from_settings(settings, **OPTIONS) as lucca_client, \
                CardsClient.from_settings(settings, **OPTIONS) as cards_client:
            report = UserImporter(lucca_client, cards_client).run()
    assert report.failed
    assert all("422" in (item.reason or "") for item in report.failed)
    assert any(f"{SECRET_MARK}-cards-key" in seen.echo() for seen in server.seen)
    texts = [report.to_json(), "\n".join(report.lines()), str(report)]
    assert all(SECRET_MARK not in text for text in texts)
