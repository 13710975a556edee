"""Read the next page while the caller works on this one: a sweep one page ahead.

A sweep asks for a page, waits for it, decodes it, then builds its items; only then does
it ask for the next. When a page is big (the legacy API's 1 000 users) building its
items takes as long as the rate limit's interval, and the sweep falls behind its pace.
:func:`read_ahead` runs the page source in a worker thread exactly one page ahead of the
caller: the next request waits on the network (the GIL released) while the caller builds.

Never more than one page ahead, and only when the caller asked for the page before: the
source decides whether there is a next page (a short legacy page is the last), so a sweep
read ahead makes the same calls. A caller that stops early (a failure on the other side
of a sweep) waits for the page the worker may be reading: one call more, at most.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


def read_ahead(source: Iterator[T]) -> Iterator[T]:
    """Yield ``source``'s items, the next one made in a worker while the caller holds this one.

    An exception raised by ``source`` is raised here, in its place in the sequence.

    >>> list(read_ahead(iter([1, 2, 3])))
    [1, 2, 3]
    """
    made: queue.Queue[tuple[object, BaseException | None]] = queue.Queue()
    allowed = threading.Semaphore(1)  # pages the worker may read beyond the caller's one
    stopping = threading.Event()
    worker = threading.Thread(target=_produce, args=(source, made, allowed, stopping),
                              name="lucca-cards-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = made.get()
            if error is not None:
                raise error
            if item is _END:
                return
            allowed.release()  # the caller holds this page: the next may be read meanwhile
            yield item  # type: ignore[misc]  # not _END: checked above
    finally:
        stopping.set()
        allowed.release()  # wakes the worker if it waits: it sees the stop and ends
        # …after the page it may be reading: nothing reads behind the caller's back once
        # the sweep has stopped (the caller may close the client next).
        worker.join()


def _produce(source: Iterator[T], made: queue.Queue[tuple[object, BaseException | None]],
             allowed: threading.Semaphore, stopping: threading.Event) -> None:
    try:
        while True:
            allowed.acquire()
            if stopping.is_set():
                return
            try:
                item = next(source)
            except StopIteration:
                made.put((_END, None))
                return
            made.put((item, None))
    except BaseException as error:  # handed to the caller, raised in its thread
        made.put((None, error))
