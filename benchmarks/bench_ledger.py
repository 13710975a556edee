"""How fast the training ledger records Cards webhook events into a SQLite file.

N distinct ``chapter-complete`` events (default 5 000), spread over 200 learners and 12
trainings with increasing action times, are parsed first (as a receiver would), then
recorded one by one into a fresh ledger file in a temporary folder: one transaction per
event, each committed to disk before the next, as the webhook receiver does. Then the
same events again, as redeliveries (each a no-op). The target is 1 000 events/s or more.

Run: ``.venv/bin/python benchmarks/bench_ledger.py [N ...]``
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from lucca_cards.cards.webhooks import WebhookEvent, parse
from lucca_cards.state import TrainingLedger

LEARNERS, TRAININGS, CHAPTERS = 200, 12, 5
START = dt.datetime(2026, 1, 5, 9, 0, 0)


def events(count: int) -> list[WebhookEvent]:
    """Return ``count`` distinct activity events, each learner advancing chapter by chapter."""
    parsed = []
    for number in range(count):
        learner, training = number % LEARNERS, (number // LEARNERS) % TRAININGS
        chapter = number // (LEARNERS * TRAININGS) % CHAPTERS + 1
        at = (START + dt.timedelta(seconds=number)).strftime("%Y-%m-%d %H:%M:%S")
        body = {"id": f"evt-{number:07d}", "type": "chapter-complete", "created_at": at,
                "data": {"created_at": at, "points": 10,
                         "user": {"id": f"u{learner}", "email": f"learner{learner}@acme.test"},
                         "training": {"id": f"t{training}", "title": f"Training {training}",
                                      "chapters_count": CHAPTERS,
                                      "chapter": {"id": f"c{chapter}", "position": chapter}},
                         "score": {"points": 10 * chapter, "max_points": 10 * CHAPTERS,
                                   "progress": chapter / CHAPTERS}}}
        parsed.append(parse(json.dumps(body).encode()))
    return parsed


def measure(count: int, folder: Path) -> None:
    stream = events(count)
    with TrainingLedger(folder / f"ledger-{count}.sqlite") as ledger:
        for label in ("distinct", "redelivered"):
            started = time.perf_counter()
            changed = sum(ledger.record(event) for event in stream)
            elapsed = time.perf_counter() - started
            print(f"{count:>7} {label:<12} {changed:>8} {elapsed:>8.2f} {count / elapsed:>10.0f}")
        assert ledger.event_count() == count


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [5_000]
    print(f"{'events':>7} {'kind':<12} {'changed':>8} {'seconds':>8} {'events/s':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            measure(size, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
