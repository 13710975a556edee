"""Read Lucca and Cards at the same time: each API has its own budget of calls.

A sync's reads of the two APIs do not depend on each other (its writes depend on both),
so the slower sweep sets the pace instead of the sum of both. The Cards side runs in a
worker thread; the caller's thread reads Lucca (so a ``KeyboardInterrupt`` lands where
the caller expects it). When one side fails, the other stops at its next page and the
first failure is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .._paging import Pager

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")

#: Told, between two pages, whether the other side failed (and so: stop reading).
Stopped = Callable[[], bool]


def side_by_side(lucca: Callable[[Stopped], A], cards: Callable[[Stopped], B]) -> tuple[A, B]:
    """Run ``lucca`` here and ``cards`` in a worker thread; return both results.

    Each is given a function telling whether the other side failed; a sweep asks it
    between pages and stops early. The first failure (of either side) is raised once
    the worker has stopped, so nothing keeps reading behind the caller's back.
    """
    failed = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lucca-cards-read") as pool:
        future = pool.submit(_watched, cards, failed)
        try:
            first = lucca(failed.is_set)
            second = future.result()  # a Ctrl-C while waiting here stops the worker too
        except BaseException:
            failed.set()
            future.exception()  # wait for the worker: it stops at its next page
            raise
    return first, second


def _watched(read: Callable[[Stopped], B], failed: threading.Event) -> B:
    try:
        return read(failed.is_set)
    except BaseException:
        failed.set()
        raise


def until(pager: Pager[T], stopped: Stopped) -> Iterator[T]:
    """Yield a sweep's items, page after page, until ``stopped()`` says to stop."""
    for page in pager.pages():
        yield from page
        if stopped():
            return
