"""One timer thread for every deadline of the process.

Each exchange on the wire has a deadline (:mod:`lucca_cards._wire`). A
:class:`threading.Timer` per exchange costs a thread start, about 0.2 ms, on every request;
here a single daemon thread sleeps until the earliest deadline instead, and scheduling or
cancelling one is a heap push and a flag under a lock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("lucca_cards.http")

#: ``callback()`` runs when its deadline passes; it returns ``None``, or seconds after which
#: it wants to run again.
Callback = Callable[[], "float | None"]
#: Cancelled entries are swept out of the heap once it holds this many.
_SWEEP_AT = 4096


class Handle:
    """A scheduled callback; :meth:`cancel` makes sure it will not run (again)."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callback) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Forget the callback (it may be running right now; it will not run again)."""
        self.cancelled = True


class Watchdog:
    """Runs callbacks at their deadlines (on :func:`time.monotonic`), from one thread."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Handle]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, seconds: float, callback: Callback) -> Handle:
        """Run ``callback`` in ``seconds`` (from the watchdog's thread); return its handle."""
        handle = Handle(callback)
        self._push(time.monotonic() + max(seconds, 0.0), handle)
        return handle

    def _push(self, when: float, handle: Handle) -> None:
        with self._cond:
            if len(self._heap) >= _SWEEP_AT:
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (when, next(self._order), handle))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lucca-cards-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            handle = self._next_due()
            try:
                again = handle.callback()
            except Exception:  # a faulty callback must not stop every other deadline
                log.exception("a deadline callback failed")
                again = None
            if again is not None and not handle.cancelled:
                self._push(time.monotonic() + again, handle)

    def _next_due(self) -> Handle:
        """Wait for the earliest deadline of a callback still wanted; take it off the heap."""
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, handle = self._heap[0]
                if handle.cancelled:
                    heapq.heappop(self._heap)
                    continue
                wait = when - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                return handle


#: The process's watchdog.
WATCHDOG = Watchdog()
