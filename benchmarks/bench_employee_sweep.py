"""How much one sweep of employees costs: requests, time, memory, and the rate-limit budget.

Starts ``lucca-cards sandbox serve --employees N`` in a child process (so the memory traced
here is the client's alone), reads its connection line, and sweeps the generated company
with ``LuccaOAuthClient.employees.list()`` and ``CardsClient.users.list()``:

* sandbox start-up (generating the company and binding the ports),
* requests sent, counted by the sandbox (expected: 1 token + ceil(N / 100) pages),
* wall time and employees per second with throttling off (client and sandbox overhead),
* peak traced memory of the client while streaming (should stay flat as N grows),
* the time the same sweep takes at the default 40 requests/min, measured on an injected
  clock (the limiter's real behaviour, without waiting for it).

Run: ``.venv/bin/python benchmarks/bench_employee_sweep.py [N ...]``
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from lucca_cards import CardsClient, LuccaOAuthClient, RateLimiter, Settings


@contextmanager
def sandbox(size: int) -> Iterator[tuple[dict[str, str], float]]:
    """Serve a company of ``size`` employees; yield its connection line and start-up time."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [sys.executable, "-m", "lucca_cards", "sandbox", "serve", "--employees", str(size),
         "--lucca-rate-limit", "0", "--cards-rate-limit", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        yield info, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def _settings(info: dict[str, str]) -> Settings:
    return Settings(lucca_url=info["lucca_url"], lucca_token_url=info["token_url"],
                    lucca_client_id=info["client_id"], lucca_client_secret=info["client_secret"],
                    cards_url=info["cards_url"], cards_tenant=info["cards_tenant"],
                    cards_api_key=info["cards_api_key"])


def _timed(count: Any) -> tuple[int, float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    total = count()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return total, elapsed, peak / 1024


def sweep(size: int) -> dict[str, float]:
    with sandbox(size) as (info, startup):
        settings = _settings(info)
        unthrottled = {"rate_limiter": RateLimiter(0)}
        with LuccaOAuthClient.from_settings(settings, **unthrottled) as lucca:
            count, seconds, peak = _timed(
                lambda: sum(1 for e in lucca.employees.list() if e.department_id))
        with CardsClient.from_settings(settings, **unthrottled) as cards:
            users, cards_seconds, _ = _timed(lambda: sum(1 for _ in cards.users.list()))
        root = info["lucca_url"]
        calls = sum(requests.get(f"{root}/_sandbox/requests", timeout=10).json()["counts"]
                    .values())
    assert count == size, (count, size)
    return {"employees": size, "startup": startup, "requests": calls, "seconds": seconds,
            "per_second": size / seconds, "peak_kib": peak,
            "at_40_per_min": throttled_seconds(calls), "cards_users": users,
            "cards_seconds": cards_seconds}


def throttled_seconds(calls: int, rate: float = 40) -> float:
    """Fake-clock time the limiter needs for ``calls`` calls at ``rate`` per minute."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(rate, clock=lambda: now[0], sleep=sleep)
    for _ in range(calls):
        limiter.acquire()
    return now[0]


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [1_000, 10_000, 50_000]
    print(f"{'employees':>10} {'start s':>8} {'requests':>9} {'seconds':>8} {'empl/s':>8} "
          f"{'peak KiB':>9} {'at 40/min':>10} {'cards users':>12} {'cards s':>8}")
    for size in sizes:
        r = sweep(size)
        print(f"{r['employees']:>10.0f} {r['startup']:>8.2f} {r['requests']:>9.0f} "
              f"{r['seconds']:>8.2f} {r['per_second']:>8.0f} {r['peak_kib']:>9.0f} "
              f"{r['at_40_per_min']:>9.0f}s {r['cards_users']:>12.0f} "
              f"{r['cards_seconds']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
