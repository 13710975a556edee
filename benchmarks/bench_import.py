"""What a user import and a department import cost: calls by kind, time, and reruns.

For each size N, a fresh sandbox (rate limits off) holds a generated company of N
employees; the benchmark runs, and counts from the sandbox's request logs:

* ``UserImporter.run()`` on the fresh company: Lucca reads, Cards reads, Cards writes;
* the same run again (expected: the same reads, zero writes);
* ``DepartmentImporter.run()`` on another fresh company, and again.

The minimum is one token, ceil(N/100) employee pages, ceil(users/500) Cards pages, one
create per new account (and, for departments, one departments page, one groups page, one
read and one update per existing account joining a group). The last column is the time the
same calls take at the SDK's default rates (Lucca 40/min, Cards 60/min), computed on a fake
clock.

Run: ``.venv/bin/python benchmarks/bench_import.py [N ...]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench_employee_sweep import throttled_seconds  # the script's folder is on sys.path

from lucca_cards import (
    CardsClient,
    DepartmentImporter,
    LuccaOAuthClient,
    RateLimiter,
    Sandbox,
    SyncReport,
    UserImporter,
)

Importer = Callable[[LuccaOAuthClient, CardsClient], Any]


def _calls(box: Sandbox) -> dict[str, int]:
    lucca = sum(box.lucca.log.counts().values())
    reads = writes = 0
    for call, count in box.cards.log.counts().items():
        if call.startswith("GET"):
            reads += count
        else:
            writes += count
    box.lucca.log.clear()
    box.cards.log.clear()
    return {"lucca": lucca, "cards_reads": reads, "cards_writes": writes}


def _at_default_rates(calls: dict[str, int]) -> float:
    """Fake-clock seconds the calls take at 40/min (Lucca) and 60/min (Cards), in sequence."""
    cards = calls["cards_reads"] + calls["cards_writes"]
    return throttled_seconds(calls["lucca"], 40) + throttled_seconds(cards, 60)


def measure(size: int, importer: type[UserImporter] | type[DepartmentImporter]) -> None:
    with Sandbox(employees=size, departments=max(6, size // 12), lucca_rate_limit=0,
                 cards_rate_limit=0) as box:
        settings = box.settings()
        options: dict[str, Any] = {"rate_limiter": RateLimiter(0)}
        with LuccaOAuthClient.from_settings(settings, **options) as lucca, \
                CardsClient.from_settings(settings, **options) as cards:
            runner = importer(lucca, cards)
            for label in ("first run", "rerun"):
                started = time.perf_counter()
                report: SyncReport = runner.run()
                elapsed = time.perf_counter() - started
                calls = _calls(box)
                print(f"{size:>7} {report.operation:<12} {label:<9} {calls['lucca']:>6} "
                      f"{calls['cards_reads']:>6} {calls['cards_writes']:>7} "
                      f"{report.writes:>7} {elapsed:>7.2f} {_at_default_rates(calls):>9.0f}s")


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [300, 3_000]
    print(f"{'empl.':>7} {'import':<12} {'run':<9} {'lucca':>6} {'c.get':>6} {'c.write':>7} "
          f"{'writes':>7} {'seconds':>7} {'at rates':>10}")
    for size in sizes:
        for importer in (UserImporter, DepartmentImporter):
            measure(size, importer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
