"""Lucca events under load and faults: a burst of hires, 10 % Cards faults, a real SIGKILL.

The events go into the inbox of a real SQLite file; the sandbox's records and request
logs say what happened, never the processor's own report alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import signal
import textwrap
from pathlib import Path

from kill_chain import KillPoint, run_until_killed
from lifecycle_support import World, hire, imported_world
from lucca_cards import LinkStore, RateLimiter
from lucca_cards.sandbox import Faults
from lucca_cards.state import Database
from lucca_cards.state.inbox import LuccaInbox
from lucca_cards.sync.events import MAX_BACKOFF, EventProcessor
from lucca_cards.sync.lifecycle import LifecycleSync
from sync_support import accounts_per_email, clients, memberships

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
HIRE_TOPICS = ("employee.created", "employment.created", "job-position.created")
SOURCE = "https://acme.ilucca.net"

PROCESSOR = textwrap.dedent("""
    import json, sys
    import requests
    sys.path.insert(0, sys.argv[1])
    from sync_support import settings_from_line
    from lucca_cards import CardsClient, LuccaOAuthClient, RateLimiter
    from lucca_cards.state import Database, LinkStore
    from lucca_cards.state.inbox import LuccaInbox
    from lucca_cards.sync.events import EventProcessor
    from lucca_cards.sync.lifecycle import LifecycleSync

    def answered(response, *args, **kwargs):
        if response.request.method in ("POST", "PUT"):
            print("write", flush=True)
            if sys.stdin.readline() != "go\\n":
                raise SystemExit(3)

    settings = settings_from_line(json.loads(sys.stdin.readline()),
                                  lifecycle_departments="all")
    session = requests.Session()
    session.hooks["response"].append(answered)
    with LuccaOAuthClient.from_settings(settings, rate_limiter=RateLimiter(0)) as lucca, \\
            CardsClient.from_settings(settings, rate_limiter=RateLimiter(0),
                                      session=session) as cards, \\
            Database(sys.argv[3]) as db:
        sync = LifecycleSync.from_settings(settings, lucca, cards, LinkStore(db))
        EventProcessor(LuccaInbox(db), sync).process()
    print("done", flush=True)
""")


def hire_many(world: World, inbox: LuccaInbox, count: int) -> list[str]:
    """Hire ``count`` people in departments 1 to 3, storing the three events of each."""
    hired, ids = [], itertools.count(1)
    for n in range(count):
        employee = hire(world.box, f"recrue.{n}@acme.fr", 1 + n % 3, given="Recrue",
                        family=f"Numero {n}")
        hired.append(employee)
        for topic in HIRE_TOPICS:  # employee.created carries the employee, email included
            data = {"id": employee, "email": f"recrue.{n}@acme.fr"}
            inbox.store(source=SOURCE, event_id=f"ev-{next(ids)}", topic=topic,
                        occurred_at=NOW, employee_id=employee,
                        payload=json.dumps({"topic": topic, "data": data}))
    return hired


def each_hire_once_in_their_group(world: World, hired: list[str]) -> None:
    per_email, groups = accounts_per_email(world.box), memberships(world.box)
    for n, employee in enumerate(hired):
        email = f"recrue.{n}@acme.fr"
        assert per_email[email] == 1, email
        assert groups[email] == [world.group_name(str(1 + n % 3))]
        assert world.links.get(employee) is not None


def test_a_burst_of_200_hires_is_processed_with_the_minimum_calls() -> None:
    with imported_world() as world:
        inbox = LuccaInbox(world.links._database)
        users_before = len(world.box.company.cards.users)
        hired = hire_many(world, inbox, 200)
        report = EventProcessor(inbox, world.sync()).process()
        assert report.counts()["created"] == 200 and report.ok
        # The minimum, from the sandbox's own records: 100 employees a page (asked by the
        # emails the events gave, which also says nobody else at work has them), Cards'
        # 500 users a page and its groups, one department sweep, one POST per hire (its
        # group inside).
        assert world.box.lucca.log.counts() == {
            "GET /lucca-api/employees": math.ceil(200 / 100),
            "GET /lucca-api/departments": math.ceil(
                len(world.box.company.lucca.departments) / 100)}
        assert world.box.cards.log.counts() == {
            "GET /v1/users": math.ceil(users_before / 500), "POST /v1/users": 200,
            "GET /v1/groups": math.ceil(len(world.box.company.cards.groups) / 500)}
        assert inbox.counts()["applied"] == 600
        each_hire_once_in_their_group(world, hired)


def test_ten_percent_of_cards_faults_apply_everything_once_after_recovery() -> None:
    with imported_world() as world:
        now = [NOW]
        inbox = LuccaInbox(world.links._database, clock=lambda: now[0])
        hired = hire_many(world, inbox, 40)
        world.box.set_faults("cards", Faults.spread(0.1, delay=1.0, seed=7))
        events = EventProcessor(inbox, world.sync(), now=lambda: now[0])
        for _ in range(30):
            events.process()
            if inbox.counts()["applied"] == 120:
                break
            now[0] += MAX_BACKOFF  # every failed event is due again
        world.box.set_faults("cards", None)
        assert inbox.counts()["applied"] == 120
        each_hire_once_in_their_group(world, hired)


def test_a_sigkill_between_storing_and_applying_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with imported_world() as world, Database(path) as db:
        inbox = LuccaInbox(db)
        # The imported links move to the file the child and the rerun share.
        links = LinkStore(db)
        for employee, link in world.links.links().items():
            links.record(employee, link.cards_user_id, link.email,
                         created=link.created, department_id=link.department_id)
        hired = hire_many(world, inbox, 6)
        line = json.dumps(world.box.connection_info()) + "\n"
        killed = run_until_killed(KillPoint(3, "write"), line, "events", path,
                                  script=PROCESSOR)
        assert killed.status == -signal.SIGKILL and killed.writes == 3, killed.errors
        assert inbox.counts()["applied"] == 0  # killed before anything was marked
        world.links = links
        with clients(world.box, rate_limiter=RateLimiter(0)) as (lucca, cards):
            sync = LifecycleSync(lucca, cards, links, departments="all")
            report = EventProcessor(inbox, sync).process()
        assert report.ok and inbox.counts()["applied"] == 18
        # Of the three accounts made before the kill, two were linked by the child; the
        # third (killed as Cards answered) is linked now, not made again.
        counts = report.counts()
        assert (counts["created"], counts["linked"], counts["unchanged"]) == (3, 1, 2)
        each_hire_once_in_their_group(world, hired)
