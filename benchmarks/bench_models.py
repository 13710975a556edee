"""What reading employees costs on the client: decoded pages in, typed models out.

A sandbox (rate limits off) serves a generated company; its active employees are fetched
once, a page of 100 at a time with their embedded job positions, exactly as
``LuccaOAuthClient.employees.list()`` asks for them. The timed part is what the client
does with each decoded page: :class:`~lucca_cards._paging.Pager` and ``RawPage.parse``
build one :class:`~lucca_cards.Employee` per item, its department resolved from the
page's embedded job positions. The network and the JSON decoding are not timed.

``make bench`` imports :func:`employee_models_seconds`.

Run: ``.venv/bin/python benchmarks/bench_models.py [COUNT]``
"""

from __future__ import annotations

import gc
import itertools
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from lucca_cards import LuccaOAuthClient, RateLimiter, Sandbox
from lucca_cards._paging import Pager, RawPage, lucca_cursor_pages

#: The sandbox's company; its active employees make the pages that are read again.
COMPANY = 2000
RUNS = 15


def _pages(count: int) -> tuple[list[RawPage], Callable[[Mapping[str, Any], RawPage], Any]]:
    """Fetch pages of active employees, decoded, as the client's listing does.

    Whole pages, cycled until ``count`` items (the last one cut to fit), and the function
    the listing builds each item with. The sandbox is gone when this returns, so that the
    timed part runs in a process holding only the client (as in production: a sandbox's
    company in the same heap makes each full garbage collection slower).
    """
    params = {"include": "embedded,links", "limit": 100, "status": "active"}
    with Sandbox(employees=COMPANY, lucca_rate_limit=0, cards_rate_limit=0) as box, \
            LuccaOAuthClient.from_settings(box.settings(), rate_limiter=RateLimiter(0)) as lucca:
        fetched = list(lucca_cursor_pages(lucca._transport, "/lucca-api/employees", params))
        parse = lucca.employees._parse
    pages: list[RawPage] = []
    left = count
    for page in itertools.cycle(fetched):
        if left <= 0:
            break
        pages.append(page if len(page.items) <= left else RawPage(
            page.items[:left], page.body, page.transport, page.url))
        left -= len(pages[-1].items)
    return pages, parse


def employee_models_seconds(count: int = 10_000) -> float:
    """Return the best time, in seconds, to build ``count`` employees from decoded pages."""
    pages, parse = _pages(count)
    gc.collect()
    best = float("inf")
    for _ in range(RUNS):
        pager = Pager(lambda: iter(pages), parse)
        started = time.perf_counter()
        built = sum(len(models) for models in pager.pages())
        best = min(best, time.perf_counter() - started)
        assert built == count, (built, count)
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    seconds = employee_models_seconds(count)
    print(f"{count} employee models from decoded pages: {seconds:.3f} s "
          f"({seconds / count * 1e6:.1f} µs each, best of {RUNS})")


if __name__ == "__main__":
    main()
