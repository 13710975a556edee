"""The watchdog: one thread runs every deadline, in order, once, unless cancelled."""

from __future__ import annotations

import threading

from lucca_cards._watchdog import Watchdog


def test_callbacks_run_in_deadline_order_and_a_cancelled_one_never() -> None:
    watchdog = Watchdog()
    ran: list[str] = []
    done = threading.Event()
    watchdog.schedule(0.06, lambda: ran.append("late") or done.set())
    cancelled = watchdog.schedule(0.03, lambda: ran.append("cancelled"))
    watchdog.schedule(0.0, lambda: ran.append("first"))
    cancelled.cancel()
    assert done.wait(5)
    assert ran == ["first", "late"]


def test_a_callback_asking_again_runs_again_until_cancelled() -> None:
    watchdog = Watchdog()
    calls: list[int] = []
    third = threading.Event()

    def again() -> float | None:
        calls.append(len(calls))
        if len(calls) == 3:
            third.set()
            return None
        return 0.01

    watchdog.schedule(0.0, again)
    assert third.wait(5)
    assert calls == [0, 1, 2]


def test_a_failing_callback_does_not_stop_the_others() -> None:
    watchdog = Watchdog()
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("boom")

    watchdog.schedule(0.0, broken)
    watchdog.schedule(0.01, lambda: done.set())
    assert done.wait(5)


def test_cancelled_entries_are_swept_from_a_crowded_heap() -> None:
    watchdog = Watchdog()
    for _ in range(5000):
        watchdog.schedule(3600, lambda: None).cancel()
    done = threading.Event()
    watchdog.schedule(0.0, lambda: done.set())
    assert done.wait(5)
    assert len(watchdog._heap) < 4096
