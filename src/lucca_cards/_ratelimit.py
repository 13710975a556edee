"""Client-side throttling: one limiter per host, shared by every client of the process.

Lucca's budget (50 requests per minute) is shared by all integrations of a tenant, so the
SDK spaces its calls evenly instead of spending the budget in bursts: a limiter of ``N``
requests per minute lets one call through every ``60 / N`` seconds, never two at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from ._check_values import check_rate

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """Spaces calls ``60 / requests_per_minute`` seconds apart; ``0`` means unlimited.

    Calls take slots on a schedule, one every interval, never two at once: a call waits for
    the next free slot. A sleep that overshoots (by a millisecond, or a busy thread's
    turn) does not push every later slot back, so a long sweep keeps the configured rate
    exactly instead of drifting below it. After a pause, the first call goes at once.
    ``clock`` and ``sleep`` are injectable: tests pass a fake clock and never wait.

    Raises:
        ConfigurationError: ``requests_per_minute`` is not a finite number, 0 or more
            (NaN would never let a call through; infinity would divide by zero).

    >>> limiter = RateLimiter(40)        # one call every 1.5 s
    >>> limiter.interval
    1.5
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        requests_per_minute = check_rate("requests_per_minute", requests_per_minute)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = -math.inf  # the next free slot: none taken yet
        self.requests_per_minute = 0.0
        self.interval = 0.0
        self._configure(requests_per_minute)

    def _configure(self, requests_per_minute: float) -> None:
        self.requests_per_minute = float(requests_per_minute)
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0

    def tighten(self, requests_per_minute: float) -> None:
        """Lower the rate to ``requests_per_minute`` if that is stricter (never raise it).

        Raises:
            ConfigurationError: ``requests_per_minute`` is not a finite number, 0 or more.
        """
        requests_per_minute = check_rate("requests_per_minute", requests_per_minute)
        with self._lock:
            stricter = requests_per_minute > 0 and (
                not self.requests_per_minute or requests_per_minute < self.requests_per_minute
            )
            if stricter:
                self._configure(requests_per_minute)

    def acquire(self) -> None:
        """Block (through the injected ``sleep``) until this call's slot comes."""
        with self._lock:
            if not self.interval:
                return
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


_shared: dict[str, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(url: str, requests_per_minute: float) -> RateLimiter:
    """Return the process-wide limiter of ``url``'s host (and port), creating it on first use.

    When two clients of one host ask for different rates, the stricter one wins for both:
    the budget is the host's, not the client's.
    """
    host = (urlsplit(url).netloc or url).lower()
    with _shared_lock:
        limiter = _shared.get(host)
        if limiter is None:
            limiter = _shared[host] = RateLimiter(requests_per_minute)
            return limiter
    limiter.tighten(requests_per_minute)
    return limiter
