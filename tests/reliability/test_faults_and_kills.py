"""The importers and the training-record writes under faults, crashes and real ``SIGKILL``s.

A faulted or interrupted run is rerun until it reports no failure; the state it leaves
(every Cards account's email and group names, every employee file's training occurrences)
must equal the state a clean run leaves on an identical sandbox (same seed and date), with
one account per email, one occurrence per title and no write refused as a duplicate.

Faults hit 20 % of the requests of every API (token endpoint, Lucca API, legacy API,
Cards), 4 % of each kind; a late answer takes 1 s, longer than the clients' 0.3 s read
timeout here. Retries never wait for real: the clients run on a :class:`FakeClock`.

Real kills: an importer in its own process is killed with ``SIGKILL`` at seeded points
(see ``kill_chain``), rerun and killed again, then rerun to the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import FakeClock
from kill_chain import kill_points, run_until_killed
from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LinkStore,
    LuccaCardsError,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    RateLimiter,
    SyncOutcome,
    Timeout,
    TrainingRecord,
    UserImporter,
)
from lucca_cards.sandbox import Faults, Sandbox
from lucca_cards.sandbox._cards_seed import normalise_email
from served_sandbox import ServedSandbox, serve_sandbox
from sync_support import (
    COMPANY,
    accounts_per_email,
    clients,
    considered,
    converge,
    memberships,
    sandbox,
    settings_from_line,
    users_copy,
    writes,
)

Clients = tuple[LuccaOAuthClient, CardsClient]
Importer = UserImporter | DepartmentImporter
APIS = ("token", "lucca", "legacy", "cards")
STORM = Faults.spread(0.2, delay=1.0)
SHORT = Timeout(connect=1, read=0.3)
KINDS: dict[str, type[Importer]] = {"users": UserImporter, "departments": DepartmentImporter}


def served_company(employees: int = COMPANY["employees"]) -> tuple[str, ...]:
    """Return the ``sandbox serve`` options of :func:`sync_support.sandbox`'s company."""
    return ("--seed", str(COMPANY["seed"]), "--employees", str(employees), "--departments",
            str(COMPANY["departments"]), "--today", COMPANY["today"].isoformat(),
            "--lucca-rate-limit", "0", "--cards-rate-limit", "0")


def storm(seed: int) -> dict[str, Faults]:
    """Return 20 % faults for every API, each API drawing from its own seed."""
    return {api: dataclasses.replace(STORM, seed=seed + n) for n, api in enumerate(APIS)}


@functools.cache
def clean_end_state(*kinds: str, employees: int = COMPANY["employees"]) -> dict[str, list[str]]:
    """Return the Cards memberships after clean imports of ``kinds`` on the usual sandbox."""
    with sandbox(employees=employees) as box, clients(box) as both:
        links = LinkStore()
        for kind in kinds:
            assert KINDS[kind](*both, links=links).run().ok
        return memberships(box)


def refused_as_duplicates(box: Sandbox) -> list[dict[str, Any]]:
    """Return the account creations Cards refused (the fake refuses a taken email: 422)."""
    return [e for e in writes(box) if e["method"] == "POST" and e["status"] == 422]


def statuses(box: Sandbox) -> set[int | None]:
    """Return every status both fakes answered (``None``: a cut connection)."""
    return {e["status"] for e in box.lucca.log.entries() + box.cards.log.entries()}


@pytest.fixture
def stormy(clock: FakeClock) -> Iterator[tuple[Sandbox, Clients]]:
    # Seed 92: the first token request answers 503, the first Lucca API request 500.
    with sandbox(faults=storm(92)) as box, clients(
            box, clock=clock, sleep=clock.sleep, timeout=SHORT) as both:
        yield box, both


def test_twenty_percent_faults_on_every_api_end_like_a_clean_run(
    stormy: tuple[Sandbox, Clients], clock: FakeClock
) -> None:
    box, both = stormy
    links = LinkStore()
    initial = set(box.company.cards.users)

    users = converge(UserImporter(*both, links=links).run)
    departments = converge(DepartmentImporter(*both, links=links).run)

    assert memberships(box) == clean_end_state("users", "departments")
    assert max(accounts_per_email(box).values()) == 1
    assert refused_as_duplicates(box) == []
    # The storm did hit: runs failed items (or gave up), retries waited, 429, 500, 503 and
    # resets struck, the token endpoint and the Lucca API too.
    assert len(users) + len(departments) > 2
    assert {429, 500, 503, None} <= statuses(box)
    assert {e["path"] for e in box.lucca.log.entries() if e["status"] in {500, 503}} >= {
        "/connect/token", "/lucca-api/employees"}
    assert clock.sleeps
    final = users[-1]
    assert final is not None
    assert final.ok
    # Some creations timed out after Cards made the account: a rerun linked those.
    linked = {i.cards_user_id for r in users if r is not None for i in r.of(SyncOutcome.LINKED)}
    assert linked - initial


def test_dry_run_under_faults_writes_nothing(stormy: tuple[Sandbox, Clients]) -> None:
    box, both = stormy
    before = users_copy(box)
    for api in APIS:  # seed 1: requests 2 and 3 of each API answer 500 and 503
        box.set_faults(api, Faults.spread(0.4, seed=1, delay=1.0))

    for kind in KINDS.values():
        history = converge(functools.partial(kind(*both).run, dry_run=True))
        assert history[-1] is not None
        assert history[-1].dry_run

    assert writes(box) == []
    assert box.company.cards.users == before
    for log in (box.lucca.log, box.cards.log):  # faults were drawn on both sides
        assert {e["status"] for e in log.entries()} - {200}


# -- training records on the legacy API ------------------------------------------------

KEPT = "RGPD : les essentiels"
BEFORE = [TrainingRecord(title=KEPT, progress=10),
          TrainingRecord(title="Ancienne formation", progress=100)]


def wanted(user_id: int) -> list[TrainingRecord]:
    """Return one user's desired records: one kept (updated), two new; one is dropped."""
    return [
        TrainingRecord(title=KEPT, progress=100, score=user_id % 20,
                       last_completion_date=dt.date(2026, 2, 1 + user_id % 28)),
        TrainingRecord(title="Sécurité incendie", link=f"https://cards.example/t/{user_id}",
                       progress=(user_id * 7) % 101),
        TrainingRecord(title="Python avancé", progress=50),
    ]


@contextlib.contextmanager
def legacy_client(box: Sandbox, **options: Any) -> Iterator[LuccaLegacyApiClient]:
    """Yield an unthrottled legacy API client of ``box``."""
    settings = box.settings()
    with LuccaLegacyApiClient.from_settings(settings, rate_limiter=RateLimiter(0),
                                            **options) as legacy:
        yield legacy


def file_owners(box: Sandbox) -> list[int]:
    """Return the 30 first active employees: the files the tests write."""
    return sorted(int(i) for i in considered(box, ("active",)))[:30]


def stored(box: Sandbox) -> dict[int, list[dict[str, Any]]]:
    """Return each written file's stored occurrences, as the fake keeps them."""
    employees = box.company.lucca.employees
    return {uid: employees[uid].extended_data.get("e_formation") or []
            for uid in file_owners(box)}


def files(box: Sandbox) -> dict[int, list[tuple[Any, ...]]]:
    """Return each file's occurrences as sorted sub-values (ids go in write order)."""
    return {uid: sorted(tuple(sub["value"] for sub in item["value"].values()) for item in items)
            for uid, items in stored(box).items()}


def ids(box: Sandbox) -> dict[int, dict[str, int]]:
    """Return each file's occurrence ids by title."""
    return {uid: {item["value"]["e_title"]["value"]: item["id"] for item in items}
            for uid, items in stored(box).items()}


def write_until_done(legacy: LuccaLegacyApiClient, users: list[int],
                     attempts: int = 10) -> list[int]:
    """Write every user's records, rerunning the failed ones; return the failures per run."""
    failures: list[int] = []
    for _ in range(attempts):
        failed = []
        for uid in users:
            try:
                legacy.users.write_training_records(uid, wanted(uid))
            except LuccaCardsError:
                failed.append(uid)
        failures.append(len(failed))
        if not failed:
            return failures
        users = failed
    pytest.fail(f"writes still failing after {attempts} runs: {failures}")


def seeded_files(box: Sandbox) -> None:
    """Give every other file the :data:`BEFORE` occurrences, without faults (others empty)."""
    with legacy_client(box) as legacy:
        for uid in file_owners(box)[::2]:
            assert legacy.users.write_training_records(uid, BEFORE).written


@functools.cache
def clean_files() -> dict[int, list[tuple[Any, ...]]]:
    """Return the files after one clean write of every user's records."""
    with sandbox() as box:
        seeded_files(box)
        with legacy_client(box) as legacy:
            assert write_until_done(legacy, file_owners(box)) == [0]
        return files(box)


def test_training_records_under_faults_end_like_a_clean_run(clock: FakeClock) -> None:
    with sandbox() as box:
        seeded_files(box)
        before = ids(box)
        # Seed 6: late answers strike PUTs that add occurrences; resent, they added twice.
        for api, faults in storm(6).items():
            box.set_faults(api, faults)
        with legacy_client(box, clock=clock, sleep=clock.sleep, timeout=SHORT) as legacy:
            failures = write_until_done(legacy, file_owners(box))
            struck, found, after = statuses(box), files(box), ids(box)
            for api in APIS:
                box.set_faults(api, None)
            rewritten = [uid for uid in file_owners(box)
                         if legacy.users.write_training_records(uid, wanted(uid)).written]

    assert found == clean_files()
    for uid, titles in after.items():  # one occurrence per title: nothing added twice
        assert len(titles) == len(found[uid]) == 3
        if before[uid]:  # a stored occurrence is updated in place, never recreated
            assert titles[KEPT] == before[uid][KEPT]
    assert rewritten == []  # the files hold what was wanted: nothing left to write
    assert failures[0] > 0  # the storm failed writes, and reruns were needed
    assert {429, 500, 503, None} <= struck


# -- faults set from outside Python ------------------------------------------------------


def served_memberships(served: ServedSandbox) -> dict[str, list[str]]:
    """Return the served Cards accounts: trimmed lower-case email → sorted group names."""
    users = served.get(served.cards_root, "state")["users"]
    return {normalise_email(u["email"] or ""): sorted(g["name"] for g in u["groups"])
            for u in users}


def test_faults_set_over_http_end_like_a_clean_run(clock: FakeClock) -> None:
    with serve_sandbox(*served_company(60), "--faults", "0.2", "--fault-delay", "1",
                       "--fault-seed", "11") as served:
        lucca_faults = served.get(served.lucca_root, "faults")
        assert {api: shown["total"] for api, shown in lucca_faults.items()} == dict.fromkeys(
            ("token", "lucca", "legacy"), 0.2)
        assert served.get(served.cards_root, "faults")["cards"]["timeout"] == 0.04
        settings = settings_from_line(served.info, lucca_requests_per_minute=0,
                                      cards_requests_per_minute=0)
        options: dict[str, Any] = {"rate_limiter": RateLimiter(0), "clock": clock,
                                   "sleep": clock.sleep, "timeout": SHORT}
        with LuccaOAuthClient.from_settings(settings, **options) as lucca, \
                CardsClient.from_settings(settings, **options) as cards:
            links = LinkStore()
            users = converge(UserImporter(lucca, cards, links=links).run)
            storm_log = served.get(served.cards_root, "requests")["log"]
            # Now 30 % of the Cards requests: connection resets and 500s only.
            switch = {"rate": 0.3, "kinds": ["reset", "500"], "seed": 2}
            shown = requests.post(f"{served.cards_root}/_sandbox/faults", json=switch,
                                  timeout=5).json()["cards"]
            assert (shown["reset"], shown["server_error"], shown["timeout"]) == (0.15, 0.15, 0)
            requests.delete(f"{served.cards_root}/_sandbox/requests", timeout=5)
            departments = converge(DepartmentImporter(lucca, cards, links=links).run)
        switched_log = served.get(served.cards_root, "requests")["log"]
        end_state = served_memberships(served)

    assert len(users) > 1 and len(departments) > 1  # both storms failed a run
    assert {429, 500, 503, None} <= {e["status"] for e in storm_log}
    switched = {e["status"] for e in switched_log}
    assert {500, None} <= switched <= {200, 201, 500, None}  # no 429, no 503
    assert end_state == clean_end_state("users", "departments", employees=60)


# -- crashes and real kills --------------------------------------------------------------

#: Kill chains per import kind (one chain: :data:`KILLS` kills, then a clean rerun). The
#: issue's 30 kills: ``RELIABILITY_KILL_CHAINS=3``.
CHAINS = int(os.environ.get("RELIABILITY_KILL_CHAINS", "1"))
KILLS = 5


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_crash_mid_run_resumes_without_duplicates(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "links.sqlite"

    def crash(done: int, total: int) -> None:
        if done == 40:
            raise KeyboardInterrupt

    with sandbox() as box, clients(box) as both:
        accounts = len(box.company.cards.users)
        with LinkStore(path) as links, pytest.raises(KeyboardInterrupt):
            KINDS[kind](*both, links=links).run(progress=crash)
        made_before_crash = len(box.company.cards.users) - accounts
        assert made_before_crash > 0

        with LinkStore(path) as links:
            resumed = KINDS[kind](*both, links=links).run()
            assert resumed.ok
            made = len(box.company.cards.users) - accounts
            assert resumed.counts()["created"] == made - made_before_crash > 0
            box.cards.log.clear()
            assert KINDS[kind](*both, links=links).run().writes == 0
        assert writes(box) == []
    assert memberships(box) == clean_end_state(kind)
    assert max(accounts_per_email(box).values()) == 1
    assert refused_as_duplicates(box) == []


@pytest.mark.parametrize(("kind", "seed"), [(k, s) for k in sorted(KINDS) for s in range(CHAINS)])
def test_sigkills_at_seeded_points_then_a_rerun_end_like_a_clean_run(
    kind: str, seed: int, tmp_path: Path
) -> None:
    points, links = kill_points(seed, KILLS), tmp_path / "links.sqlite"
    with serve_sandbox(*served_company()) as served:
        before = len(served.get(served.cards_root, "state")["users"])
        kills = [run_until_killed(point, served.line, kind, links) for point in points]
        settings = settings_from_line(served.info)
        with LuccaOAuthClient.from_settings(settings, rate_limiter=RateLimiter(0)) as lucca, \
                CardsClient.from_settings(settings, rate_limiter=RateLimiter(0)) as cards, \
                LinkStore(links) as store:
            final = KINDS[kind](lucca, cards, links=store).run()
            again = KINDS[kind](lucca, cards, links=store).run()
        log = served.get(served.cards_root, "requests")["log"]
        after = served.get(served.cards_root, "state")["users"]
        end_state = served_memberships(served)

    for point, killed in zip(points, kills, strict=True):  # every kill landed mid-run
        assert (killed.status, killed.writes >= point.writes) == (-signal.SIGKILL, True), \
            killed.errors
    assert final.ok
    assert final.writes > 0  # the kills left work for the rerun
    assert again.writes == 0
    creations = [e["status"] for e in log if (e["method"], e["path"]) == ("POST", "/v1/users")]
    assert set(creations) == {201}  # none refused as a duplicate, none cut
    emails = [normalise_email(user["email"] or "") for user in after]
    assert len(emails) == len(set(emails)) == before + len(creations)
    assert end_state == clean_end_state(kind)
