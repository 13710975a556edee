"""Client-side throttling: one limiter per host, shared by every client of the process.

Lucca's budget (50 requests per minute) is shared by all integrations of a tenant, so the
SDK spaces its calls evenly instead of spending the budget in bursts: a limiter of ``N``
requests per minute lets one call through every ``60 / N`` seconds, never two at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from ratelimit import RateLimitDecorator, RateLimitException

from ._check_values import check_rate

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: The end of a wait is yielded for, not slept: a sleep wakes up a tenth or two of a
#: millisecond late, and at the rate limit every call would pay it (a fifth of a second
#: over a thousand writes).
_SPIN = 0.001


class RateLimiter:
    """Spaces calls ``60 / requests_per_minute`` seconds apart; ``0`` means unlimited.

    Built on :mod:`ratelimit` with a window of one call, so it cannot burst. ``clock`` and
    ``sleep`` are injectable: tests pass a fake clock and never wait.

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
        self._gate: Callable[[], None] | None = None
        self.requests_per_minute = 0.0
        self.interval = 0.0
        self._configure(requests_per_minute)

    def _configure(self, requests_per_minute: float) -> None:
        self.requests_per_minute = float(requests_per_minute)
        if not requests_per_minute:
            self.interval, self._gate = 0.0, None
            return
        self.interval = 60.0 / requests_per_minute
        window = RateLimitDecorator(calls=1, period=self.interval, clock=self._clock)
        # ratelimit opens its first window when it is built, which would let the first
        # call after a pause of less than one interval run right behind the previous
        # one; starting "one interval ago" makes every window open at a call.
        window.last_reset = self._clock() - self.interval
        self._window = window  # its last_reset: when the last call went (tests read it)
        self._gate = window(_nothing)

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
        """Block (through the injected ``sleep``) until the next call may go."""
        while self._gate is not None:
            try:
                self._gate()
                return
            except RateLimitException as wait:
                self._wait(max(wait.period_remaining, 0.0))

    def _wait(self, seconds: float) -> None:
        """Wait ``seconds``: the last :data:`_SPIN` yielding, not sleeping, on the real clock."""
        if self._sleep is not time.sleep or self._clock is not time.monotonic:
            self._sleep(seconds)  # an injected clock or sleeper waits its own way
            return
        end = time.monotonic() + seconds
        if seconds > _SPIN:
            time.sleep(seconds - _SPIN)
        while time.monotonic() < end:
            time.sleep(0)  # lets the other threads run; returns at once


def _nothing() -> None:
    return None


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
