"""``InboxWorker``: the receiver's background thread that applies the Lucca events stored.

Receiving and applying are separate (the receiver answers Lucca within its 3 s by storing
only). The worker calls a ``process()`` function — in ``lucca-cards webhooks serve``,
:meth:`EventProcessor.process_due <lucca_cards.sync.events.EventProcessor.process_due>` —
which applies what is due and returns when the next event is due (``None``: nothing is
waiting). The worker then sleeps until that time, or until :meth:`InboxWorker.wake` (the
receiver calls it after storing an event), whichever comes first.

A ``process()`` that raises (the database is down, a bug) is logged and tried again
after a backoff that doubles up to a cap: the events stay in the inbox meanwhile. Nothing
is lost when the process stops between storing and applying: the next start finds the
events pending.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from .._untrusted import printable
from ..errors import LuccaCardsError

logger = logging.getLogger("lucca_cards.receiver")

#: Waits on ``event`` for up to ``seconds`` (``None``: until it is set); ``True`` if set.
Wait = Callable[[threading.Event, "float | None"], bool]

_SHOWN = 200  # characters of an error's text logged
# Rounds in a row that may each say "due now" before the worker waits a little: a burst
# of events drains in a few rounds of hundreds, a process() that marks nothing would spin.
_AT_ONCE = 100
_BREATHER = 1.0


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _wait(event: threading.Event, seconds: float | None) -> bool:
    return event.wait(seconds)


class InboxWorker:
    """A daemon thread that calls ``process()`` when woken, or when the next event is due.

    Args:
        process: applies what is due; returns when the next event is due (aware; a
            naive one is taken as UTC), or ``None`` when nothing is waiting.
        clock: gives the current time (aware UTC by default), to turn a due time into a
            wait.
        wait: waits on a :class:`threading.Event` for a number of seconds (``None``:
            until set) and says whether it was set; tests give one that does not sleep.
        idle_seconds: the longest wait, even when nothing is due: another process (a
            second receiver on the same PostgreSQL database) may store events without
            waking this one, and a wall clock may jump.
        first_retry, max_retry: the wait after a ``process()`` that raised, in seconds;
            doubled at each further failure, up to ``max_retry``.
        name: the thread's name.

    >>> rounds = []
    >>> worker = InboxWorker(lambda: rounds.append("round"))
    >>> worker.start()
    >>> worker.stop(timeout=10)
    True
    >>> rounds[:1]
    ['round']
    """

    def __init__(
        self,
        process: Callable[[], datetime | None],
        *,
        clock: Callable[[], datetime] | None = None,
        wait: Wait | None = None,
        idle_seconds: float = 60.0,
        first_retry: float = 5.0,
        max_retry: float = 300.0,
        name: str = "lucca-inbox-worker",
    ) -> None:
        for label, value in (("idle_seconds", idle_seconds), ("first_retry", first_retry),
                             ("max_retry", max_retry)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{label} must be a positive number of seconds, not {value!r}")
        self._process = process
        self._clock = clock or _utc_now
        self._wait = wait or _wait
        self._idle, self._first_retry, self._max_retry = idle_seconds, first_retry, max_retry
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._lock = threading.Lock()
        #: How many rounds of ``process()`` ran (raised ones included).
        self.rounds = 0

    def __repr__(self) -> str:
        state = "running" if self.running else ("stopped" if self._started else "not started")
        return f"InboxWorker({self._thread.name!r}, {state})"

    @property
    def running(self) -> bool:
        """``True`` between :meth:`start` and the end of the thread."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; its first round runs at once (events left from before).

        Raises:
            RuntimeError: it was started already.
        """
        with self._lock:
            if self._started:
                raise RuntimeError("an InboxWorker starts once")
            self._started = True
        self._thread.start()

    def wake(self) -> None:
        """Ask for a round now (an event was stored). Cheap, safe from any thread.

        A wake during a round makes one more round right after it.
        """
        self._woken.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the thread; return ``True`` once it ended, ``False`` if ``timeout`` ran out.

        A round under way finishes first (an event being applied is marked); no new
        round starts. Safe to call more than once, or before :meth:`start`.
        """
        self._stopping.set()
        self._woken.set()
        if not self._started:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        failures = at_once = 0
        while not self._stopping.is_set():
            # Cleared before the round: a wake during it is kept for the next wait.
            self._woken.clear()
            seconds: float | None
            try:
                due = self._round()
            except Exception as error:  # logged; the events wait in the inbox meanwhile
                failures += 1
                seconds = min(self._first_retry * 2 ** (failures - 1), self._max_retry)
                _log_failure(error, failures, seconds)
            else:
                failures = 0
                seconds = self._seconds_until(due)
            if seconds is not None and seconds <= 0:
                at_once += 1
                if at_once < _AT_ONCE:
                    continue  # due already (a burst): another round, a stop checked first
                # A process() that keeps saying "due now" without applying would spin.
                seconds = _BREATHER
            at_once = 0
            self._wait(self._woken, self._idle if seconds is None else seconds)

    def _round(self) -> datetime | None:
        self.rounds += 1
        return self._process()

    def _seconds_until(self, due: datetime | None) -> float | None:
        """Return how long to wait for ``due`` (at most ``idle_seconds``; ``None``: idle)."""
        if due is None:
            return None
        if due.tzinfo is None:
            due = due.replace(tzinfo=timezone.utc)
        now = self._clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        return min((due - now).total_seconds(), self._idle)


def _log_failure(error: Exception, failures: int, seconds: float) -> None:
    """Log a round that raised: the SDK's own errors with their text, others by class only.

    The SDK's messages are written to be shown (no secret, no body); a foreign error's text
    (a database driver's) may quote a row, so it goes to DEBUG only.
    """
    what = type(error).__name__
    if isinstance(error, LuccaCardsError):
        text = printable(str(error))
        what += ": " + (text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")
    logger.error("lucca events not processed (%s); tried again in %g s (failure %d in a "
                 "row); the events wait in the inbox", what, seconds, failures)
    logger.debug("lucca events not processed", exc_info=True)
