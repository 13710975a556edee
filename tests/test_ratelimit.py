from __future__ import annotations

import itertools
import threading

import pytest

from conftest import FakeClock
from lucca_cards import ConfigurationError, RateLimiter
from lucca_cards._ratelimit import shared_limiter


def test_fifty_calls_take_at_least_49_intervals(clock: FakeClock) -> None:
    limiter = RateLimiter(40, clock=clock, sleep=clock.sleep)
    start = clock.now
    stamps = []
    for _ in range(50):
        limiter.acquire()
        stamps.append(clock.now)
    assert clock.now - start >= 49 * 1.5
    # never two calls closer than one interval: it cannot burst
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1.5 - 1e-9


def test_first_call_after_a_pause_does_not_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep)
    clock.now += 0.9  # built, then used 0.9 s later
    limiter.acquire()
    first = clock.now
    limiter.acquire()
    assert clock.now - first >= 1.0 - 1e-9


def test_calls_spread_out_in_time_do_not_wait(clock: FakeClock) -> None:
    limiter = RateLimiter(30, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire()
        clock.now += 10
    assert clock.sleeps == []


def test_zero_means_unlimited(clock: FakeClock) -> None:
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        limiter.acquire()
    assert clock.sleeps == []


@pytest.mark.parametrize("rate", [-1, float("nan"), float("inf"), float("-inf"), "40", True])
def test_a_rate_that_cannot_work_is_refused(rate: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        RateLimiter(rate)  # type: ignore[arg-type]
    assert caught.value.setting == "requests_per_minute"
    assert "0 turns client-side throttling off" in str(caught.value)


@pytest.mark.parametrize("rate", [-1, float("nan"), float("inf")])
def test_tighten_refuses_a_rate_that_cannot_work(rate: float) -> None:
    limiter = RateLimiter(0)
    with pytest.raises(ConfigurationError):
        limiter.tighten(rate)
    assert limiter.interval == 0.0  # still unlimited: the bad rate changed nothing


def test_shared_per_host_and_port_and_stricter_wins() -> None:
    a = shared_limiter("https://ratelimit-test.example/lucca-api", 40)
    b = shared_limiter("https://RATELIMIT-TEST.example/api/v3", 45)
    other_port = shared_limiter("https://ratelimit-test.example:8443/", 40)
    assert a is b
    assert a.requests_per_minute == 40  # 45 is looser: ignored
    assert other_port is not a
    shared_limiter("https://ratelimit-test.example/", 20)
    assert a.interval == 3.0


def test_threads_sharing_a_limiter_never_get_two_calls_in_one_interval(
    clock: FakeClock,
) -> None:
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    limiter = RateLimiter(60, clock=clock, sleep=sleep)
    start = clock.now
    stamps: list[float] = []

    def call() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(clock.now)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 40
    # each of the 39 calls after the first had to wait for a fresh one-second window
    assert clock.now - start >= 39 * 1.0 - 1e-9


def test_on_the_real_clock_calls_are_never_closer_than_the_interval() -> None:
    # The last millisecond of each wait is yielded for, not slept (a sleep wakes late):
    # the calls may come later than their time, never earlier. 30 calls, 2 ms apart.
    limiter = RateLimiter(30_000)
    times = []  # when each call went, on the limiter's own clock
    for _ in range(30):
        limiter.acquire()
        times.append(limiter._window.last_reset)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= limiter.interval
    assert times[-1] - times[0] < 29 * limiter.interval + 1.0  # and it did not stall
