"""What a nightly statistics publish costs: requests by endpoint, time, and the ledger's pace.

The target: *a nightly publish for 10 000 employees of whom 5 % changed makes exactly
ceil(10000/1000) user pages + the trainings pages + 500 PUTs, and records 1 000 webhook
events per second or more into the SQLite ledger.*

For each size N (default 10 000), on a fresh sandbox (rate limits off, clients
unthrottled):

1. every current employee gets a Cards account (``UserImporter``), so learners are
   employees;
2. every Cards user with an email progresses (``simulate_activity`` with no webhook URL:
   the signed bodies wait in the sandbox's queue); the bodies are parsed, then recorded one
   by one into a ledger file, one committed transaction each, as the receiver does (timed:
   events per second);
3. a first publish writes every learner's file;
4. ceil(5 % of N) learners whose file was written complete one more chapter of a training
   they had not finished: one ``chapter-complete`` event each, built from their state in
   the ledger, recorded;
5. a second publish: the requests the sandbox logged, by endpoint, against the minimum:
   1 field-definitions GET + ceil(N / 1000) user pages + ceil(trainings / 500) trainings
   pages + one PUT per changed file. The changed files are counted on the fake Lucca's
   own employee files (before and after), not taken from the publisher's report.

The time the same requests take at the SDK's default rates (Lucca 40/min, Cards 60/min)
is computed on a fake clock.

Run: ``.venv/bin/python benchmarks/bench_publish.py [N ...]``
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_employee_sweep import throttled_seconds  # the script's folder is on sys.path

from lucca_cards import (
    CardsClient,
    LuccaLegacyApiClient,
    LuccaOAuthClient,
    RateLimiter,
    Sandbox,
    StatsPublisher,
    SyncOutcome,
    SyncReport,
    TrainingLedger,
    UserImporter,
)
from lucca_cards.cards import webhooks
from lucca_cards.cards.webhooks import WebhookEvent
from lucca_cards.state import LearnerTraining

#: The share of employees whose statistics change between two nights.
CHANGED_SHARE = 0.05
#: Legacy users a page (``GET /api/v3/users``), Cards items a page.
LEGACY_PAGE, CARDS_PAGE = 1000, 500
_ID = re.compile(r"/\d+(?=/|$)")


@contextmanager
def timed(phases: dict[str, float], label: str) -> Iterator[None]:
    """Add the wall time of the block to ``phases[label]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        phases[label] = time.perf_counter() - started


def requests_by_endpoint(box: Sandbox) -> Counter[str]:
    """Return (then forget) the requests both fakes logged, ids in paths as ``{id}``."""
    counts: Counter[str] = Counter()
    for log in (box.lucca.log, box.cards.log):
        for call, count in log.counts().items():
            counts[_ID.sub("/{id}", call)] += count
        log.clear()
    return counts


def files(box: Sandbox) -> dict[int, Any]:
    """Return a copy of every employee file's extended data, as the fake Lucca stores it."""
    return {employee.id: copy.deepcopy(employee.extended_data)
            for employee in box.company.lucca.employees.values()}


def changed_files(before: dict[int, Any], after: dict[int, Any]) -> int:
    """Count the employee files whose extended data differ."""
    return sum(1 for key, data in after.items() if before.get(key) != data)


def record_all(ledger: TrainingLedger, events: list[WebhookEvent]) -> int:
    """Record ``events`` one by one; return how many changed a learner's state."""
    return sum(ledger.record(event) for event in events)


def one_more_chapter(state: LearnerTraining, number: int) -> WebhookEvent:
    """Return the ``chapter-complete`` event of the learner's next chapter in a training.

    Shaped as the sandbox's own events (``cards-api.md`` §10), a day after the learner's
    last action, with ten more points out of ten.
    """
    count = state.chapters_count or 1
    done = round(state.progress * count)
    at = (state.last_action_at + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    points, max_points = (state.points or 0) + 10, (state.max_points or 0) + 10
    body = {"id": f"bench-next-{number}", "type": "chapter-complete", "created_at": at,
            "data": {"created_at": at, "points": 10,
                     "user": {"id": state.cards_user_id, "email": state.email},
                     "training": {"id": state.training_id, "title": state.title,
                                  "chapters_count": count,
                                  "chapter": {"id": f"bench-{done + 1}",
                                              "position": done + 1}},
                     "score": {"points": points, "max_points": max_points,
                               "progress": min(1.0, (done + 1) / count)}}}
    return webhooks.parse(json.dumps(body).encode())


def progressing(ledger: TrainingLedger, report: SyncReport, wanted: int, seed: int
                ) -> list[WebhookEvent]:
    """Choose ``wanted`` learners whose file was written, each with an unfinished training.

    Return one event each: that training's next chapter.
    """
    written = sorted({(item.email or "").strip().lower()
                      for item in report.of(SyncOutcome.UPDATED)})
    rng = random.Random(seed)
    rng.shuffle(written)
    events = next_chapters(ledger, written, wanted, rng)
    if len(events) < wanted:
        raise SystemExit(f"only {len(events)} learners can progress; {wanted} wanted")
    return events


def next_chapters(ledger: TrainingLedger, emails: list[str], wanted: int,
                  rng: random.Random) -> list[WebhookEvent]:
    """Up to ``wanted`` learners, in the order of ``emails``, complete one more chapter.

    Each learner with an unfinished training gets one event: that training's next chapter
    (the training drawn with ``rng``). Returns the events (not recorded).
    """
    events: list[WebhookEvent] = []
    for email in emails:
        if len(events) >= wanted:
            break
        unfinished = [s for s in ledger.records_for(email)
                      if s.progress < 1 and s.chapters_count and s.title]
        if unfinished:
            events.append(one_more_chapter(rng.choice(unfinished), len(events)))
    return events


def expected_requests(employees: int, trainings: int, puts: int) -> Counter[str]:
    """The fewest requests a publish can make (the target)."""
    return Counter({"GET /api/v3/extensionuserdefinitions": 1,
                    "GET /api/v3/users": math.ceil(employees / LEGACY_PAGE),
                    "GET /v1/trainings": max(1, math.ceil(trainings / CARDS_PAGE)),
                    "PUT /api/v3/users/{id}": puts})


def at_default_rates(counts: Counter[str]) -> tuple[float, float]:
    """Fake-clock seconds for the Lucca calls at 40/min and the Cards calls at 60/min."""
    cards = sum(count for call, count in counts.items() if " /v1/" in call)
    lucca = sum(counts.values()) - cards
    return throttled_seconds(lucca, 40), throttled_seconds(cards, 60)


def measure(size: int, folder: Path, seed: int = 1) -> None:
    """Run the five steps on a company of ``size`` employees; print what they cost."""
    phases: dict[str, float] = {}
    client: dict[str, Any] = {"rate_limiter": RateLimiter(0)}
    with timed(phases, "sandbox start (generate the company)"):
        box = Sandbox(seed=seed, employees=size, lucca_rate_limit=0, cards_rate_limit=0)
        box.start()
    try:
        settings = box.settings()
        with timed(phases, "users import (UserImporter)"), \
                LuccaOAuthClient.from_settings(settings, **client) as lucca, \
                CardsClient.from_settings(settings, **client) as cards:
            imported = UserImporter(lucca, cards).run()
        cards_users = sum(1 for user in box.company.cards.users.values() if user.email)
        with timed(phases, "simulate activity (every Cards user)"):
            box.simulate_activity(learners=cards_users, seed=seed)
            sender = box.cards.webhooks
            bodies, sender.undelivered = list(sender.undelivered), []
        with timed(phases, "parse the signed bodies"):
            events = [webhooks.parse(body) for body in bodies]
        with TrainingLedger(folder / f"ledger-{size}.sqlite") as ledger, \
                LuccaLegacyApiClient.from_settings(settings, **client) as legacy, \
                CardsClient.from_settings(settings, **client) as cards:
            with timed(phases, "record into the ledger"):
                record_all(ledger, events)
            recording = phases["record into the ledger"]
            learners = len(ledger.learners())
            publisher = StatsPublisher(legacy, cards, ledger)
            requests_by_endpoint(box)
            nights = []
            for night in ("first publish", "second publish"):
                if nights:
                    wanted = math.ceil(CHANGED_SHARE * size)
                    record_all(ledger, progressing(ledger, nights[-1][1], wanted, seed))
                before = files(box)
                with timed(phases, night):
                    report = publisher.run()
                nights.append((night, report, requests_by_endpoint(box),
                               changed_files(before, files(box))))
        trainings = len(box.company.cards.trainings)
    finally:
        box.close()
    _print(size, imported, learners, len(events), recording, trainings, phases, nights)


def _print(size: int, imported: SyncReport, learners: int, events: int, recording: float,
           trainings: int, phases: dict[str, float],
           nights: list[tuple[str, SyncReport, Counter[str], int]]) -> None:
    print(f"== {size:,} employees ==")
    print(imported)
    print(f"learners in the ledger: {learners:,} ({events:,} webhook events); "
          f"Cards trainings: {trainings}")
    print(f"ledger: {events:,} events recorded in {recording:.2f} s = "
          f"{events / recording:,.0f} events/s (target: 1 000/s or more: "
          f"{'met' if events / recording >= 1000 else 'NOT met'})")
    for night, report, counts, changed in nights:
        minimum = expected_requests(size, trainings, changed)
        print(f"\n{night}: {report}")
        print(f"  files changed (fake Lucca, before/after): {changed:,} "
              f"({changed / size:.1%} of the employees)")
        for call in sorted(set(counts) | set(minimum)):
            print(f"  {call:<42} {counts[call]:>7,}  (minimum {minimum[call]:,})")
        print(f"  requests: {sum(counts.values()):,}; minimum {sum(minimum.values()):,}: "
              f"{'matched' if counts == minimum else 'NOT matched'}")
        lucca, cards = at_default_rates(counts)
        print(f"  wall time {phases[night]:.2f} s unthrottled; at the default rates: "
              f"Lucca {_duration(lucca)} at 40/min + Cards {_duration(cards)} at 60/min")
    target = math.ceil(CHANGED_SHARE * size)
    last = nights[-1][2]
    print(f"\ntarget, {target:,} changed files: "
          f"{last['GET /api/v3/users']} user pages (ceil({size}/1000) = "
          f"{math.ceil(size / LEGACY_PAGE)}), {last['GET /v1/trainings']} trainings page(s), "
          f"{last['PUT /api/v3/users/{id}']:,} PUTs (want {target:,})")
    print("\nwall time by phase:")
    for label, seconds in phases.items():
        print(f"  {label:<40} {seconds:>8.2f} s")
    print(f"  {'total':<40} {sum(phases.values()):>8.2f} s")


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s"


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [10_000]
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            measure(size, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
