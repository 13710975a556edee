"""The inbox worker: rounds when woken or due, backoff after a failure, a stop that waits.

The worker's clock and wait are the test's: a wait records how long the worker asked to
sleep, then blocks on the worker's own event (a real, bounded wait for a real thread) until
the test wakes or stops it. Nothing sleeps for its requested time.
"""

from __future__ import annotations

import doctest
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from conftest import SECRET_MARK
from lucca_cards.errors import ConfigurationError
from lucca_cards.receiver import InboxWorker, _worker

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LIMIT = 10.0  # real seconds any step may take before the test fails


class Waits:
    """The worker's wait: records each request, then blocks until woken (bounded)."""

    def __init__(self) -> None:
        self.asked: queue.Queue[float | None] = queue.Queue()

    def __call__(self, event: threading.Event, seconds: float | None) -> bool:
        self.asked.put(seconds)
        return event.wait(LIMIT)

    def next(self) -> float | None:
        try:
            return self.asked.get(timeout=LIMIT)
        except queue.Empty:
            pytest.fail("the worker did not wait")

    def none_yet(self) -> bool:
        return self.asked.empty()


class Script:
    """``process()``: returns (or raises) the scripted answers in turn, then ``None``."""

    def __init__(self, *answers: datetime | Exception | None,
                 during: Callable[[int], None] | None = None) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.during = during

    def __call__(self) -> datetime | None:
        self.calls += 1
        if self.during is not None:
            self.during(self.calls)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def started(waits: Waits) -> Iterator[Callable[..., InboxWorker]]:
    workers: list[InboxWorker] = []

    def start(process: Callable[[], datetime | None], **options: object) -> InboxWorker:
        worker = InboxWorker(process, clock=lambda: NOW, wait=waits, **options)  # type: ignore[arg-type]
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        assert worker.stop(LIMIT)


def test_the_first_round_runs_at_start_then_it_idles(started: Callable[..., InboxWorker],
                                                     waits: Waits) -> None:
    script = Script(None)
    worker = started(script)
    assert waits.next() == 60.0  # nothing due: the idle wait
    assert (script.calls, worker.rounds, worker.running) == (1, 1, True)


def test_it_waits_until_the_next_due_time(started: Callable[..., InboxWorker],
                                          waits: Waits) -> None:
    script = Script(NOW + timedelta(seconds=30), NOW + timedelta(hours=2),
                    NOW.replace(tzinfo=None) + timedelta(seconds=5))
    worker = started(script)
    assert waits.next() == 30.0
    worker.wake()  # the time came (or an event arrived): either way a round
    assert waits.next() == 60.0  # never longer than idle_seconds
    worker.wake()
    assert waits.next() == 5.0  # a naive due time is UTC
    assert script.calls == 3


def test_a_due_time_already_past_runs_another_round_without_waiting(
        started: Callable[..., InboxWorker], waits: Waits) -> None:
    script = Script(NOW, NOW - timedelta(minutes=1), None)
    started(script)
    assert waits.next() == 60.0
    assert script.calls == 3


def test_a_wake_during_a_round_makes_one_more_round(started: Callable[..., InboxWorker],
                                                    waits: Waits) -> None:
    holder: list[InboxWorker] = []
    ready = threading.Event()

    def during(call: int) -> None:
        ready.wait(LIMIT)
        if call == 1:
            holder[0].wake()  # an event stored while the round runs

    script = Script(during=during)
    holder.append(started(script))
    ready.set()
    assert waits.next() == 60.0
    assert waits.next() == 60.0  # that wait returned at once: the wake was kept
    assert script.calls == 2


def test_a_failing_round_is_logged_and_retried_with_a_capped_backoff(
        started: Callable[..., InboxWorker], waits: Waits,
        caplog: pytest.LogCaptureFixture) -> None:
    failure = RuntimeError(f"driver said {SECRET_MARK} zoe@example.com")
    script = Script(failure, failure, failure, failure, failure, None, failure)
    caplog.set_level(logging.INFO, logger="lucca_cards.receiver")
    worker = started(script, first_retry=5.0, max_retry=30.0)
    asked = [waits.next()]
    for _ in range(6):
        worker.wake()  # the retry time came
        asked.append(waits.next())
    assert asked == [5.0, 10.0, 20.0, 30.0, 30.0, 60.0, 5.0]  # a success resets the backoff
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[0] == ("lucca events not processed (RuntimeError); tried again in 5 s "
                         "(failure 1 in a row); the events wait in the inbox")
    assert SECRET_MARK not in caplog.text and "zoe@example.com" not in caplog.text


def test_the_sdks_own_errors_are_logged_with_their_text_cut(
        started: Callable[..., InboxWorker], waits: Waits,
        caplog: pytest.LogCaptureFixture) -> None:
    error = ConfigurationError("cards_api_key", "is not set\n" + "x" * 500)
    started(Script(error))
    assert waits.next() == 5.0
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "ConfigurationError: cards_api_key: is not set\\nxxx" in line
    assert "x" * 300 not in line and "\n" not in line


def test_a_stop_lets_the_round_under_way_finish_then_ends(
        started: Callable[..., InboxWorker], waits: Waits) -> None:
    inside, release = threading.Event(), threading.Event()
    finished: list[int] = []

    def during(call: int) -> None:
        inside.set()
        release.wait(LIMIT)
        finished.append(call)

    worker = started(Script(NOW, during=during))  # NOW: would go on at once, but stopped
    assert inside.wait(LIMIT)
    assert worker.stop(timeout=0.05) is False  # the round holds it
    assert worker.running
    release.set()
    assert worker.stop(timeout=LIMIT) is True
    assert finished == [1] and not worker.running
    assert waits.none_yet()  # it never waited: the stop came first


def test_a_stop_ends_a_wait_at_once(started: Callable[..., InboxWorker],
                                    waits: Waits) -> None:
    worker = started(Script(None))
    assert waits.next() == 60.0
    assert worker.stop(timeout=LIMIT) is True
    assert worker.stop(timeout=LIMIT) is True  # again: still fine
    assert "stopped" in repr(worker)


def test_a_process_that_keeps_saying_now_gets_a_breather(
        started: Callable[..., InboxWorker], waits: Waits) -> None:
    worker = started(lambda: NOW)
    assert waits.next() == 1.0
    assert worker.rounds == 100


def test_start_once_stop_before_start_and_checked_options() -> None:
    worker = InboxWorker(lambda: None)
    assert "not started" in repr(worker)
    assert worker.stop(timeout=0) is True
    with pytest.raises(ValueError, match="idle_seconds"):
        InboxWorker(lambda: None, idle_seconds=0)
    with pytest.raises(ValueError, match="first_retry"):
        InboxWorker(lambda: None, first_retry=-1)
    with pytest.raises(ValueError, match="max_retry"):
        InboxWorker(lambda: None, max_retry=True)
    twice = InboxWorker(lambda: None)
    twice.start()
    try:
        with pytest.raises(RuntimeError, match="once"):
            twice.start()
    finally:
        assert twice.stop(LIMIT)


def test_the_thread_is_a_named_daemon() -> None:
    worker = InboxWorker(lambda: None, name="inbox")
    worker.start()
    try:
        (thread,) = [t for t in threading.enumerate() if t.name == "inbox"]
        assert thread.daemon
    finally:
        assert worker.stop(LIMIT)


def test_the_docstring_examples_run() -> None:
    result = doctest.testmod(_worker)
    assert (result.failed, result.attempted > 0) == (0, True)
