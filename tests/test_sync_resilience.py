"""The importers under faults, crashes and a real kill: reruns converge, never duplicate.

A faulted or interrupted import is rerun until it reports no failure; the Cards state it
leaves (every account's email and group names) must equal the state a clean run leaves
on an identical sandbox (same seed), with one account per email and no write refused as
a duplicate. Retries never wait for real: the clients run on a :class:`FakeClock`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import FakeClock
from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LinkStore,
    LuccaCardsError,
    LuccaOAuthClient,
    RateLimiter,
    SyncOutcome,
    SyncReport,
    Timeout,
    UserImporter,
    UserState,
)
from lucca_cards.sandbox import Faults, Sandbox
from lucca_cards.sandbox._cards_seed import normalise_email
from sync_support import (
    accounts_per_email,
    clients,
    memberships,
    sandbox,
    settings_from_line,
    users_copy,
    writes,
)

TESTS = Path(__file__).resolve().parent
Clients = tuple[LuccaOAuthClient, CardsClient]
Importer = UserImporter | DepartmentImporter
#: 10 % of requests faulted, two percent of each kind; a late answer takes 1 s, longer
#: than the clients' read timeout below.
STORM = Faults(rate_limited=0.02, server_error=0.02, unavailable=0.02, timeout=0.02,
               reset=0.02, delay=1.0)
SHORT = Timeout(connect=1, read=0.3)
KINDS: dict[str, type[Importer]] = {"users": UserImporter, "departments": DepartmentImporter}


def clean_end_state(*kinds: str) -> dict[str, list[str]]:
    """Return the Cards memberships after clean imports of ``kinds`` on the usual sandbox."""
    with sandbox() as box, clients(box) as both:
        links = LinkStore()
        for kind in kinds:
            assert KINDS[kind](*both, links=links).run().ok
        return memberships(box)


def converge(run: Callable[[], SyncReport], attempts: int = 6) -> list[SyncReport | None]:
    """Run until a report has no failure; return every attempt (``None``: the run raised)."""
    history: list[SyncReport | None] = []
    for _ in range(attempts):
        try:
            report = run()
        except LuccaCardsError:  # a read gave up after its retries: run again
            history.append(None)
            continue
        history.append(report)
        if report.ok:
            return history
    failures = [None if r is None else len(r.failed) for r in history]
    pytest.fail(f"no clean run in {attempts} attempts; failures per run: {failures}")


def refused_as_duplicates(box: Sandbox) -> list[dict[str, Any]]:
    """Return the account creations Cards refused (the fake refuses a taken email: 422)."""
    return [e for e in writes(box) if e["method"] == "POST" and e["status"] == 422]


@pytest.fixture
def stormy(clock: FakeClock) -> Iterator[tuple[Sandbox, Clients]]:
    faults = {api: dataclasses.replace(STORM, seed=seed) for api, seed in (("lucca", 3),
                                                                          ("cards", 4))}
    with sandbox(faults=faults) as box, clients(
            box, clock=clock, sleep=clock.sleep, timeout=SHORT) as both:
        yield box, both


def test_faults_at_ten_percent_end_like_a_clean_run(
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
    # The storm did hit: the first runs failed items (or gave up), and retries waited.
    assert len(users) + len(departments) > 2
    statuses = {e["status"] for e in box.lucca.log.entries() + box.cards.log.entries()}
    assert {429, 500, 503, None} <= statuses
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
    heavy = dataclasses.replace(STORM, rate_limited=0.08, server_error=0.08, unavailable=0.08,
                                timeout=0.08, reset=0.08, seed=1)  # 40 %
    for api in ("lucca", "cards"):
        box.set_faults(api, heavy)

    for kind in KINDS.values():
        history = converge(functools.partial(kind(*both).run, dry_run=True))
        assert history[-1] is not None
        assert history[-1].dry_run

    assert writes(box) == []
    assert box.company.cards.users == before
    for log in (box.lucca.log, box.cards.log):  # faults were drawn on both sides
        assert {e["status"] for e in log.entries()} - {200}


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
        end_state = memberships(box)
        posts = box.cards.log.counts().get("POST /v1/users", 0)
    assert posts == 0
    assert end_state == clean_end_state(kind)
    assert max(accounts_per_email(box).values()) == 1
    assert refused_as_duplicates(box) == []


# A user import in its own process, throttled by the sandbox's Cards rate (600 a minute:
# one request every 0.1 s), printing its progress so the test knows when to kill it.
IMPORTER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from sync_support import settings_from_line
    from lucca_cards import CardsClient, LuccaOAuthClient, UserImporter
    settings = settings_from_line(json.loads(sys.stdin.readline()),
                                  lucca_requests_per_minute=0, cards_requests_per_minute=600)
    with LuccaOAuthClient.from_settings(settings) as lucca, \\
            CardsClient.from_settings(settings) as cards:
        UserImporter(lucca, cards).run(progress=lambda done, total: print(done, flush=True))
""")


def cards_creations(root: str) -> list[int | None]:
    """Return the statuses of the ``POST /v1/users`` the served Cards answered."""
    log = requests.get(f"{root}/_sandbox/requests", timeout=5).json()["log"]
    return [e["status"] for e in log if (e["method"], e["path"]) == ("POST", "/v1/users")]


class Line(str):
    """``sandbox serve``'s connection line; its repr hides the credentials (failure output)."""

    def __repr__(self) -> str:
        return "Line(<credentials hidden>)"


@pytest.fixture
def served() -> Iterator[Line]:
    """``lucca-cards sandbox serve`` in its own process: its JSON line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lucca_cards", "sandbox", "serve", "--employees", "120",
         "--seed", "5", "--lucca-rate-limit", "0", "--cards-rate-limit", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        yield Line(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def test_a_killed_import_converges_on_rerun(served: Line) -> None:
    root = json.loads(served)["cards_url"].removesuffix("/v1")  # no credential kept aside
    before = requests.get(f"{root}/_sandbox/state", timeout=5).json()["users"]
    child = subprocess.Popen(  # noqa: S603 - this interpreter, our inline script
        [sys.executable, "-c", IMPORTER, str(TESTS)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(served)
        child.stdin.close()
        for _ in child.stdout:  # paced by the child's progress, not by sleeping
            if len(cards_creations(root)) >= 5:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    killed_after = len(cards_creations(root))
    assert killed_after >= 5

    settings = settings_from_line(json.loads(served), lucca_requests_per_minute=0,
                                  cards_requests_per_minute=0)
    with LuccaOAuthClient.from_settings(settings, rate_limiter=RateLimiter(0)) as lucca, \
            CardsClient.from_settings(settings, rate_limiter=RateLimiter(0)) as cards:
        importer = UserImporter(lucca, cards)
        resumed = importer.run()
        rows = importer.preview()

    assert resumed.ok
    assert resumed.counts()["created"] > 0  # the kill came mid-run
    after = requests.get(f"{root}/_sandbox/state", timeout=5).json()["users"]
    emails = [normalise_email(u["email"]) for u in after]
    assert len(emails) == len(set(emails))
    importable = [r for r in rows if r.state is not UserState.CANNOT_BE_IMPORTED]
    assert {r.state for r in importable} == {UserState.ALREADY_LINKED}
    assert {r.email for r in importable} <= set(emails)
    creations = cards_creations(root)
    assert set(creations) == {201}
    assert len(creations) == len(after) - len(before)
    assert len(creations) - resumed.counts()["created"] >= killed_after
