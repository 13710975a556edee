"""The hostile-server matrix: every kind of hostile answer against every client operation.

For each pair, the operation must end within a time bound, either with the correct result
(where the answer is odd but usable) or with one of the library's own errors; no request
may reach another host (the 'evil' server must see nothing), a write is never sent twice,
and no secret may appear in the error: its text, repr, attributes, the response it keeps,
its pickled form, or anything in its chain of causes, which holds only library errors.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hostile_kinds import EITHER, ERROR, GENERIC, OK, SHAPES, Kind, Scene
from hostile_server import HostileServer, Seen, Wire, hostile_servers, response

from conftest import SECRET_MARK, FakeClock
from lucca_cards import (
    CardsClient,
    LuccaCardsError,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    RateLimiter,
    RetryPolicy,
    Timeout,
    TrainingRecord,
)

TOKEN = f"{SECRET_MARK}-access-token"
#: The most one hostile case may take on the wall clock (the deadline is 0.15 s an attempt).
BOUND = 3.0
LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Clients:
    lucca: LuccaOAuthClient
    legacy: LuccaLegacyApiClient
    cards: CardsClient


@dataclass(frozen=True)
class Op:
    """One public call of a client, the honest answers it expects, and its correct result."""

    name: str
    dialect: str
    call: Callable[[Clients], Any]
    honest: Callable[[Seen], tuple[int, Any]]
    check: Callable[[Any], None]
    write: bool = False
    token: bool = False  # the hostile answers target the token endpoint
    tags: frozenset[str] = frozenset()  # more dialects the operation speaks


EMPLOYEE = {"id": "1", "givenName": "Ana", "familyName": "Lo", "email": "ana@acme.fr",
            "status": "active", "applicableJobPosition": {"id": "7"}}
EMBEDDED = {"job-position": {"7": {"id": "7", "jobTitle": "Dev", "department": {"id": "3"}}}}
LEGACY_USER = {"id": 5, "mail": "ana@acme.fr", "extendedData": {"e_formation": [
    {"id": 11, "value": {"e_title": {"value": "RGPD"}, "e_progress": {"value": 50}}}]}}
CARDS_USER = {"id": "u1", "email": "ana@acme.fr", "enable_ranking": True,
              "groups": [{"id": "g1", "name": "RPS"}]}
FORMATION = {"id": 1, "name": "e_formation", "label": "Formations", "formatKey": "compound",
             "isMultiple": True, "parentName": None, "extensionUserPropertyListEntries": []}
DEFINITIONS = [FORMATION, *({"id": n, "name": code, "formatKey": "text", "isMultiple": False,
                              "parentName": "e_formation"} for n, code in enumerate(
    ("e_title", "e_link", "e_progress", "e_score", "e_last_completion_date"), start=2))]


USERS, USER = frozenset({"cards-users"}), frozenset({"cards-user"})


def lucca_page(item: dict[str, Any]) -> Callable[[Seen], tuple[int, Any]]:
    return lambda seen: (200, {"items": [item], "links": {"next": None}, "embedded": EMBEDDED})


def lucca_one(item: dict[str, Any]) -> Callable[[Seen], tuple[int, Any]]:
    return lambda seen: (200, {**item, "embedded": EMBEDDED})


def legacy_page(seen: Seen) -> tuple[int, Any]:
    return 200, {"header": {}, "data": {"items": [LEGACY_USER]}}


def legacy_one(seen: Seen) -> tuple[int, Any]:
    return 200, {"header": {}, "data": LEGACY_USER}


def definitions_page(seen: Seen) -> tuple[int, Any]:
    return 200, {"header": {}, "data": {"items": DEFINITIONS}}


def definition_one(seen: Seen) -> tuple[int, Any]:
    return 200, {"header": {}, "data": FORMATION}


def cards_page(item: dict[str, Any]) -> Callable[[Seen], tuple[int, Any]]:
    return lambda seen: (200, {"data": [item], "meta": {
        "current_page": 1, "last_page": 1, "per_page": 500, "total": 1}})


def cards_one(item: dict[str, Any], status: int = 200) -> Callable[[Seen], tuple[int, Any]]:
    return lambda seen: (status, {"data": item})


def ids(expected: list[str]) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert [str(item.id) for item in result] == expected
    return check


def one(expected: str) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert str(result.id) == expected
    return check


def employees_checked(result: Any) -> None:
    assert [(e.id, e.department_id, e.job_title) for e in result] == [("1", "3", "Dev")]


OPS = [
    Op("lucca employees.list", "lucca-list", lambda c: list(c.lucca.employees.list()),
       lucca_page(EMPLOYEE), employees_checked, tags=frozenset({"employees"})),
    Op("lucca employees.get", "lucca-one", lambda c: c.lucca.employees.get("1"),
       lucca_one(EMPLOYEE), one("1"), tags=frozenset({"employee"})),
    Op("lucca departments.list", "lucca-list", lambda c: list(c.lucca.departments.list()),
       lucca_page({"id": "3", "name": "Sales"}), ids(["3"])),
    Op("lucca departments.get", "lucca-one", lambda c: c.lucca.departments.get("3"),
       lucca_one({"id": "3", "name": "Sales"}), one("3")),
    Op("lucca job_positions.list", "lucca-list", lambda c: list(c.lucca.job_positions.list()),
       lucca_page({"id": "7", "status": "active"}), ids(["7"])),
    Op("lucca job_positions.get", "lucca-one", lambda c: c.lucca.job_positions.get("7"),
       lucca_one({"id": "7"}), one("7")),
    Op("lucca token (employees.list)", "token", lambda c: list(c.lucca.employees.list()),
       lucca_page(EMPLOYEE), employees_checked, write=True, token=True),
    Op("legacy users.list", "legacy-list", lambda c: list(c.legacy.users.list()),
       legacy_page, ids(["5"])),
    Op("legacy users.get", "legacy-one", lambda c: c.legacy.users.get(5), legacy_one, one("5")),
    Op("legacy users.update", "legacy-one",
       lambda c: c.legacy.users.update(5, {"lastName": "Lo"}), legacy_one, one("5"),
       write=True),
    Op("legacy read_training_records", "legacy-one",
       lambda c: c.legacy.users.read_training_records(5), legacy_one,
       lambda r: _titles(r, ["RGPD"])),
    Op("legacy write_training_records", "legacy-one",
       lambda c: c.legacy.users.write_training_records(5, [TrainingRecord(title="RGPD",
                                                                          progress=80)]),
       legacy_one, lambda r: _titles(r.records, ["RGPD"]), write=True),
    Op("legacy field_definitions.list", "legacy-definitions",
       lambda c: c.legacy.field_definitions.list(), definitions_page,
       ids(["1", "2", "3", "4", "5", "6"])),
    Op("legacy field_definitions.get", "legacy-definition",
       lambda c: c.legacy.field_definitions.get("e_formation"), definition_one, one("1")),
    Op("legacy field_definitions.check_stats_codes", "legacy-definitions",
       lambda c: c.legacy.field_definitions.check_stats_codes(), definitions_page,
       lambda result: _equal(result, None)),
    Op("cards users.list", "cards-list", lambda c: list(c.cards.users.list()),
       cards_page(CARDS_USER), ids(["u1"]), tags=USERS),
    Op("cards users.get", "cards-one", lambda c: c.cards.users.get("u1"),
       cards_one(CARDS_USER), one("u1"), tags=USER),
    Op("cards users.create", "cards-one",
       lambda c: c.cards.users.create("Ana", "Lo", "ana@acme.fr", groups=["RPS"]),
       cards_one(CARDS_USER, 201), one("u1"), write=True, tags=USER),
    Op("cards users.update", "cards-one",
       lambda c: c.cards.users.update("u1", groups=["RPS"]), cards_one(CARDS_USER), one("u1"),
       write=True, tags=USER),
    Op("cards users.delete", "cards-delete", lambda c: c.cards.users.delete("u1"),
       lambda seen: (204, None), lambda result: None, write=True),
    Op("cards users.badges", "cards-list", lambda c: list(c.cards.users.badges("u1")),
       cards_page({"id": "b1", "name": "Star"}), ids(["b1"])),
    Op("cards groups.list", "cards-list", lambda c: list(c.cards.groups.list()),
       cards_page({"id": "g1", "name": "RPS"}), ids(["g1"])),
    Op("cards trainings.list", "cards-list", lambda c: list(c.cards.trainings.list()),
       cards_page({"id": "t1", "title": "RGPD"}), ids(["t1"])),
    Op("cards badges.list", "cards-list", lambda c: list(c.cards.badges.list()),
       cards_page({"id": "b1", "name": "Star"}), ids(["b1"])),
    Op("cards badges.get", "cards-one", lambda c: c.cards.badges.get("b1"),
       cards_one({"id": "b1", "name": "Star"}), one("b1")),
    Op("cards badges.users", "cards-list", lambda c: list(c.cards.badges.users("b1")),
       cards_page(CARDS_USER), ids(["u1"]), tags=USERS),
    Op("cards certificates.list", "cards-list", lambda c: list(c.cards.certificates.list()),
       cards_page({"id": "c1", "name": "Cert"}), ids(["c1"])),
    Op("cards embeds.create", "cards-embed",
       lambda c: c.cards.embeds.create("ana@acme.fr", training_id="t1"),
       lambda seen: (200, {"url": "https://cards.example/embed/1"}),
       lambda result: _equal(result.url, "https://cards.example/embed/1"), write=True),
]


def _titles(records: Any, expected: list[str]) -> None:
    assert [item.record.title for item in records] == expected


def _equal(got: Any, expected: Any) -> None:
    assert got == expected


def cases() -> Iterator[Any]:
    for op in OPS:
        for kind in [*GENERIC, *SHAPES]:
            if kind.dialects is None or kind.dialects & {op.dialect, *op.tags}:
                yield pytest.param(op, kind, id=f"{op.name} | {kind.name}")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HostileServer, HostileServer]]:
    with hostile_servers() as both:
        yield both


@contextlib.contextmanager
def clients(server: HostileServer, clock: FakeClock) -> Iterator[Clients]:
    options: dict[str, Any] = {
        "rate_limiter": RateLimiter(0), "clock": clock, "sleep": clock.sleep,
        "retry": RetryPolicy(max_attempts=2), "max_response_bytes": LIMIT,
        "timeout": Timeout(connect=1.0, read=1.0, total=0.15),
    }
    built = Clients(
        lucca=LuccaOAuthClient(base_url=server.url, client_id="cards",
                               client_secret=f"{SECRET_MARK}-client-secret",
                               token_url=f"{server.url}/connect/token", **options),
        legacy=LuccaLegacyApiClient(base_url=server.url, api_key=f"{SECRET_MARK}-legacy-key",
                                    **options),
        cards=CardsClient(tenant="acme", api_key=f"{SECRET_MARK}-cards-key",
                          base_url=f"{server.url}/v1", **options),
    )
    with built.lucca, built.legacy, built.cards:
        yield built


def stage(op: Op, kind: Kind, hostile: HostileServer, evil: HostileServer) -> str:
    """Point the hostile server at ``op`` with ``kind``; return what the client must do."""
    def honest(seen: Seen) -> tuple[int, Any]:
        if seen.path.startswith("/connect/token"):
            return 200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 1800}
        return op.honest(seen)

    def honestly(seen: Seen, wire: Wire) -> None:
        status, body = honest(seen)
        wire.write(response(status, b"" if body is None else body))

    scene = Scene(honest=honest, write=op.write, dialect=op.dialect, here=hostile.url,
                  evil=evil.url)
    hostile.answer = honestly if op.token else kind.build(scene)
    hostile.token_answer = kind.build(scene) if op.token else honestly
    hostile.seen.clear()
    evil.seen.clear()
    return kind.expect(scene)


def chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [current.__cause__, current.__context__]
    return found


def assert_clean(error: LuccaCardsError) -> None:
    for link in chain(error):
        assert isinstance(link, LuccaCardsError), f"a foreign exception in the chain: {link!r}"
        blob = pickle.dumps(link)
        assert SECRET_MARK.encode() not in blob
        assert SECRET_MARK not in str(link) + repr(link)
        assert str(pickle.loads(blob)) == str(link)  # noqa: S301 - our own pickle
    assert ".." not in str(error).replace("...", "")


@pytest.mark.parametrize(("op", "kind"), list(cases()))
def test_a_hostile_answer_ends_in_a_result_or_our_error(
    op: Op, kind: Kind, servers: tuple[HostileServer, HostileServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hostile, evil = servers
    expected = stage(op, kind, hostile, evil)
    caplog.set_level(logging.DEBUG, logger="lucca_cards")
    clock = FakeClock()
    started = time.monotonic()
    with clients(hostile, clock) as both:
        try:
            result, error = op.call(both), None
        except LuccaCardsError as raised:
            result, error = None, raised
    elapsed = time.monotonic() - started

    assert elapsed < BOUND
    assert evil.seen == []
    assert SECRET_MARK not in caplog.text
    if error is not None:
        assert expected in (ERROR, EITHER), f"expected a result, got {error!r}"
        assert_clean(error)
    else:
        assert expected in (OK, EITHER), f"expected an error, got {result!r}"
        if expected == OK:
            op.check(result)
    if op.write and not op.token:
        writes = [s for s in hostile.seen if s.method not in ("GET", "HEAD")]
        assert len(writes) <= 2  # one try and, for an idempotent PUT, one retry
        if kind.name[:1] == "3":  # a redirect: the write is never sent again
            assert len(writes) <= 1


def test_the_matrix_is_as_wide_as_promised() -> None:
    assert len(GENERIC) >= 50
    assert len({op.name for op in OPS}) == len(OPS) >= 25
