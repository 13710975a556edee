"""Hire-to-account latency: from a hire in the sandbox's Lucca to the Cards account.

The sandbox runs at Lucca's and Cards' default limits (50 and 60 requests a minute); the
clients at the SDK's default rates (40 and 60 a minute), with their real rate limiters.
The fake Lucca signs and POSTs its events to a receiver served on loopback, which stores
them in a SQLite file and wakes its worker. Each hire waits until the previous one is
applied (the queue is empty), and the time is measured from the hire until the account
exists in Cards, in the hire's department group. Each hire comes after 3 quiet seconds
(the queue empty, the rate limiters idle; after the start, the worker has read the
departments and the Cards groups ahead). Target: under 2 s.

Run: ``.venv/bin/python benchmarks/bench_realtime.py [HIRES]`` (default 5; each takes
about four seconds).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from lucca_cards import CardsClient, LuccaOAuthClient
from lucca_cards.cli._demo_realtime import Applied, live
from lucca_cards.sandbox import Sandbox
from lucca_cards.state import Database, LinkStore
from lucca_cards.sync.lifecycle import LifecycleSync

#: The quiet time before each hire: two of Lucca's 1.5 s intervals, as the sandbox's token
#: endpoint shares the tenant's host, so its limiter (Lucca's is another host).
IDLE = 3.0


def measure(hires: int) -> list[float]:
    """Return the latency of each hire, in seconds."""
    with Sandbox(employees=60, departments=6) as box, tempfile.TemporaryDirectory() as tmp, \
            Database(Path(tmp) / "state.sqlite") as db:
        settings = box.settings()
        with LuccaOAuthClient.from_settings(settings) as lucca, \
                CardsClient.from_settings(settings) as cards, \
                live(box, db, LifecycleSync(lucca, cards, LinkStore(db),
                                            departments="all")) as applied:
            return [_one(box, applied, n) for n in range(hires)]


def _one(box: Sandbox, applied: Applied, n: int) -> float:
    # A quiet moment first, as before any hire: the rate limiters idle (one call every
    # 1.5 s to Lucca, 1 s to Cards), the worker's read-ahead done after a start.
    time.sleep(IDLE)
    department = sorted(box.company.lucca.departments)[n % 3]
    email = f"bench.hire{n}@example.com"
    start = time.perf_counter()
    box.lucca.hire(given_name="Bench", family_name=f"Hire {n}", email=email,
                   department_id=department)
    if not applied.wait_for(lambda: _has_account(box, email), 30):
        raise SystemExit(f"hire {n} did not reach Cards in 30 s")
    latency = time.perf_counter() - start
    # The rest of the hire's events, so that the queue is empty again.
    applied.wait_for(lambda: applied.inbox.counts()["pending"] == 0, 30)
    return latency


def _has_account(box: Sandbox, email: str) -> bool:
    return any(u.email == email and u.group_ids for u in list(box.company.cards.users.values()))


def main() -> None:
    hires = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    latencies = measure(hires)
    print(f"{hires} hires, queue empty: median {statistics.median(latencies):.2f} s, max "
          f"{max(latencies):.2f} s, first {latencies[0]:.2f} s  (target < 2 s)")


if __name__ == "__main__":
    main()
