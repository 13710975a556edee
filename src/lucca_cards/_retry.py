"""Retry policy: which failures are retried, how long to wait, when to give up.

The loop is :func:`backoff.on_exception`. backoff sleeps with :func:`time.sleep` and
measures time with the wall clock, neither of which tests can replace; so the wait
generator below sleeps through the transport's injected ``sleep``, checks the time
budget on the injected ``clock``, and hands backoff a zero wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import attrs
import backoff

from ._ratelimit import Clock, Sleep
from .errors import ApiError, TransportError

T = TypeVar("T")
log = logging.getLogger("lucca_cards.http")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard the transport tries before it raises.

    Attributes:
        max_attempts: attempts in all, the first one included.
        max_elapsed: seconds from the first attempt after which no retry starts.
        base_delay: the first exponential wait (doubled each time, with full jitter).
        max_delay: the cap of one exponential wait.
        max_retry_after: a ``Retry-After`` longer than this is not waited for: the
            :class:`~lucca_cards.errors.RateLimitError` is raised at once.
    """

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    max_elapsed: float = attrs.field(default=300.0, validator=attrs.validators.gt(0))
    base_delay: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    max_retry_after: float = attrs.field(default=300.0, validator=attrs.validators.ge(0))


NO_RETRY = RetryPolicy(max_attempts=1)


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
    policy: RetryPolicy,
    idempotent: bool,
    clock: Clock,
    sleep: Sleep,
    describe: str,
) -> T:
    """Call ``send`` until it returns, retrying the failures :func:`is_retryable` allows."""
    started = clock()

    def waits() -> Generator[float, Any, None]:
        delays = backoff.expo(factor=policy.base_delay, max_value=policy.max_delay)
        next(delays)  # backoff's generators expect a priming send
        error = yield 0.0
        attempt = 1
        while True:
            delay = _delay_for(error, delays, policy)
            if delay is None or clock() - started + delay > policy.max_elapsed:
                return  # backoff re-raises the error when the generator ends
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.1fs",
                describe,
                attempt,
                _short(error),
                delay,
            )
            sleep(delay)
            attempt += 1
            error = yield 0.0

    retrying = backoff.on_exception(
        waits,
        (ApiError, TransportError),
        max_tries=policy.max_attempts,
        giveup=lambda error: not is_retryable(error, idempotent=idempotent),
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
