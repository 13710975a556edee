"""Retry policy: which failures are retried, how long to wait, when to give up.

One public call has one budget (:class:`CallBudget`): a number of attempts and a time
limit shared by everything the call sends, the OAuth token fetch included. A token fetch
that fails inside a listing does not get attempts of its own on top of the listing's: an
unreachable host costs ``max_attempts`` requests in all, not ``max_attempts`` squared.

The loop is :func:`backoff.on_exception`. backoff sleeps with :func:`time.sleep` and
measures time with the wall clock, neither of which tests can replace; so the wait
generator below sleeps through the transport's injected ``sleep``, checks the budget on
the injected ``clock``, and hands backoff a zero wait.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import math
from collections.abc import Callable, Generator, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import backoff

from ._ratelimit import Clock, Sleep
from .errors import ApiError, TransportError

T = TypeVar("T")
log = logging.getLogger("lucca_cards.http")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _finite(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"RetryPolicy.{attribute.name} must be a finite number, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard the transport tries before it raises.

    Attributes:
        max_attempts: requests in all for one call, the first one and any token fetch
            included.
        max_elapsed: seconds from the start of a call after which no retry starts and no
            request may still be running: the call's deadline.
        base_delay: the first exponential wait (doubled each time, with full jitter).
        max_delay: the cap of one exponential wait.
        max_retry_after: a ``Retry-After`` longer than this is not waited for: the
            :class:`~lucca_cards.errors.RateLimitError` is raised at once.
    """

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    max_elapsed: float = attrs.field(
        default=300.0, validator=[_finite, attrs.validators.gt(0)]
    )
    base_delay: float = attrs.field(default=1.0, validator=[_finite, attrs.validators.ge(0)])
    max_delay: float = attrs.field(default=60.0, validator=[_finite, attrs.validators.ge(0)])
    max_retry_after: float = attrs.field(
        default=300.0, validator=[_finite, attrs.validators.ge(0)]
    )


NO_RETRY = RetryPolicy(max_attempts=1)


@attrs.define
class CallBudget:
    """The attempts and the time one public call may spend, shared by its nested requests."""

    policy: RetryPolicy
    clock: Clock
    started: float
    attempts: int = 0

    def spend(self) -> None:
        """Count one request about to be sent."""
        self.attempts += 1

    @property
    def exhausted(self) -> bool:
        """Whether the call has sent as many requests as it may."""
        return self.attempts >= self.policy.max_attempts

    def remaining(self) -> float:
        """Seconds left before the call's deadline (negative once it has passed)."""
        return self.started + self.policy.max_elapsed - self.clock()


_CURRENT: ContextVar[CallBudget | None] = ContextVar("lucca_cards_call", default=None)


@contextlib.contextmanager
def call_budget(policy: RetryPolicy, clock: Clock) -> Iterator[CallBudget]:
    """Open the budget of a public call, or join the one already open (a nested fetch)."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    budget = CallBudget(policy=policy, clock=clock, started=clock())
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def is_retryable(error: Exception, *, idempotent: bool) -> bool:
    """Whether ``error`` may be retried for a request that is (or is not) idempotent.

    A non-idempotent request (a create) is retried only when it certainly did not take
    effect: a 429 (refused before processing) or a connection that never opened.
    """
    if isinstance(error, TransportError):
        return idempotent or not error.request_sent
    if isinstance(error, ApiError) and error.status in RETRY_STATUSES:
        return idempotent or error.status == 429
    return False


def call_with_retries(
    send: Callable[[], T],
    *,
    budget: CallBudget,
    idempotent: bool,
    sleep: Sleep,
    describe: str,
) -> T:
    """Call ``send`` until it returns, retrying what :func:`is_retryable` allows.

    Gives up when the error is not retryable, when the call's budget has no attempt
    left, or when the wait would end past the call's deadline. Every decision is taken in
    backoff's ``giveup``, which re-raises the error as it was; ending the wait generator
    instead would chain a ``StopIteration`` to the error.
    """
    policy = budget.policy
    delays = backoff.expo(factor=policy.base_delay, max_value=policy.max_delay)
    next(delays)  # backoff's generators expect a priming send
    planned: list[float] = []

    def give_up(error: Exception) -> bool:
        if budget.exhausted or not is_retryable(error, idempotent=idempotent):
            return True
        delay = _delay_for(error, delays, policy)
        if delay is None or delay >= budget.remaining():
            return True
        planned.append(delay)
        return False

    def waits() -> Generator[float, Any, None]:
        error = yield 0.0
        while True:
            delay = planned.pop()
            log.warning(
                "%s: attempt %d of %d failed (%s); retrying in %.1fs",
                describe,
                budget.attempts,
                policy.max_attempts,
                _short(error),
                delay,
            )
            sleep(delay)
            error = yield 0.0

    retrying = backoff.on_exception(
        waits,
        (ApiError, TransportError),
        max_tries=None,
        giveup=give_up,
        jitter=None,
        logger=None,
    )(send)
    return retrying()


def _delay_for(
    error: Exception, delays: Generator[float, Any, None], policy: RetryPolicy
) -> float | None:
    retry_after = error.retry_after if isinstance(error, ApiError) else None
    if retry_after is not None:
        return retry_after if retry_after <= policy.max_retry_after else None
    return backoff.full_jitter(next(delays))


def _short(error: Exception) -> str:
    if isinstance(error, ApiError):
        return f"status {error.status}"
    return type(error).__name__


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Parse ``Retry-After``: seconds, or an HTTP date measured against ``Date``.

    Anything unreadable (garbage, a negative, non-finite or absurd number, a date without
    a usable zone) gives ``None``: the usual backoff applies instead. A date is compared
    with the server's own ``Date`` when that is readable, else with the local clock.

    >>> retry_after_seconds({"Retry-After": "7"})
    7.0
    >>> retry_after_seconds({"Retry-After": "soon"}) is None
    True
    """
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(headers.get("Date") or "") or datetime.now(timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def _http_date(value: str) -> datetime | None:
    """Read an HTTP date as an aware UTC datetime (``-0000`` and naive ones as UTC)."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when
