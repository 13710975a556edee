"""The training ledger under concurrent writers and real ``SIGKILL``s: no event lost or doubled.

Writers are what a deployment has: a webhook receiver's threads, each with its own ledger
handle on the same SQLite file; a second process (a publisher, another receiver) writing
at the same time; a recorder killed with ``SIGKILL`` in the middle of a stream, and the
stream delivered again, as Cards redelivers what was not acknowledged.

Every stream gives each event its own action time, so the final state of a learner in a
training does not depend on the order events arrive in: it is the event with the latest
action time, and the completion is the latest action time with progress 1. The expected
states are computed here from the JSON bodies, without the ledger's code.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lucca_cards.cards.webhooks import parse
from lucca_cards.state import LuccaInbox, TrainingLedger

HERE = Path(__file__).resolve().parent
START = datetime(2026, 3, 2, 8, 0, 0)
LEARNERS, TRAININGS = 12, 4
THREADS = 20
WAIT = 120  # seconds a child process may take before the test gives up on it

# The child: records a stream into a ledger file, saying "ready" once the file is open and
# the index of each event once it is recorded (committed); with "wait", it starts on "go".
CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from test_state_concurrency import child_records
    child_records(sys.argv[2:])
""")

View = dict[tuple[str, str], tuple[float, int | None, datetime, datetime | None]]


def stream(prefix: str, count: int, seed: int, parity: int = 0) -> list[bytes]:
    """Return ``count`` activity bodies in a shuffled order, each at its own action time.

    Two streams with different ``parity`` never share an action time (even / odd
    seconds), so that their union folds to one answer too.
    """
    draw = random.Random(seed)
    bodies = []
    for number in range(count):
        learner, training = draw.randrange(LEARNERS), draw.randrange(TRAININGS)
        progress = draw.choice([0.2, 0.4, 0.6, 0.8, 1.0])
        at = (START + timedelta(seconds=2 * number + parity)).strftime("%Y-%m-%d %H:%M:%S")
        bodies.append(json.dumps({
            "id": f"{prefix}-{number}", "type": "chapter-complete", "created_at": at,
            "data": {"created_at": at, "points": 1,
                     "user": {"id": f"u{learner}", "email": f"Learner{learner}@Acme.test"},
                     "training": {"id": f"t{training}", "title": f"Training {training}",
                                  "chapters_count": 5},
                     "score": {"points": int(progress * 10), "max_points": 10,
                               "progress": progress}},
        }).encode())
    draw.shuffle(bodies)
    return bodies


def expected(bodies: Sequence[bytes]) -> View:
    """Fold the bodies by hand: latest action wins; completion = latest action at 1."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    completed: dict[tuple[str, str], datetime] = {}
    for body in bodies:
        data = json.loads(body)["data"]
        key = (data["user"]["email"].lower(), data["training"]["id"])
        at = datetime.strptime(data["created_at"], "%Y-%m-%d %H:%M:%S")
        if key not in latest or at > latest[key]["at"]:
            latest[key] = {"at": at, **data["score"]}
        if data["score"]["progress"] >= 1:
            completed[key] = max(at, completed.get(key, at))
    return {key: (value["progress"], value["points"], value["at"], completed.get(key))
            for key, value in latest.items()}


def view(ledger: TrainingLedger) -> View:
    return {(s.email, s.training_id): (s.progress, s.points, s.last_action_at,
                                       s.last_completed_at) for s in ledger.states()}


def stored_ids(path: Path) -> list[str]:
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [event_id for (event_id,) in raw.execute("SELECT event_id FROM cards_events")]
    finally:
        raw.close()


def child_records(argv: list[str]) -> None:
    """Run in the child process: ``PATH PREFIX COUNT SEED PARITY [wait]``."""
    path, prefix, count, seed, parity = argv[:5]
    bodies = stream(prefix, int(count), int(seed), int(parity))
    with TrainingLedger(path) as ledger:
        print("ready", flush=True)
        if argv[5:] == ["wait"] and sys.stdin.readline() != "go\n":
            raise SystemExit(3)
        for number, body in enumerate(bodies, 1):
            ledger.record(parse(body))
            print(number, flush=True)


def start_child(path: Path, prefix: str, count: int, seed: int, parity: int,
                *extra: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(  # noqa: S603 - this interpreter, our inline script
        [sys.executable, "-c", CHILD, str(HERE), str(path), prefix, str(count), str(seed),
         str(parity), *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


def in_threads(work: Callable[[int], None], before_start: Callable[[], None] = lambda: None,
               ) -> list[BaseException]:
    """Run ``work(i)`` in THREADS threads released together; return what they raised."""
    barrier = threading.Barrier(THREADS + 1, timeout=WAIT)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    before_start()
    barrier.wait()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def thread_work(path: Path | str, bodies: list[bytes]) -> Callable[[int], None]:
    """Each thread: its own ledger handle, its share of events, and a few redeliveries."""
    def work(index: int) -> None:
        share = bodies[index::THREADS]
        again = bodies[(index + 1) % THREADS::THREADS][:5]  # another thread's events
        with TrainingLedger(path) as ledger:
            for body in share + again + share[:3]:
                ledger.record(parse(body))
    return work


def test_twenty_threads_on_their_own_handles_record_every_event_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"  # not created yet: the threads race to migrate it
    bodies = stream("thread", 500, seed=1)

    errors = in_threads(thread_work(path, bodies))

    assert errors == []
    assert sorted(stored_ids(path)) == sorted(f"thread-{n}" for n in range(500))
    with TrainingLedger(path) as ledger:
        assert ledger.event_count() == 500
        assert view(ledger) == expected(bodies)


def test_threads_sharing_a_memory_ledger_take_turns() -> None:
    bodies = stream("memory", 200, seed=5)
    with TrainingLedger(":memory:") as shared:
        def work(index: int) -> None:
            for body in bodies[index::THREADS] + bodies[:2]:
                shared.record(parse(body))
            assert shared.event_count() >= len(bodies[index::THREADS])

        assert in_threads(work) == []
        assert shared.event_count() == 200
        assert view(shared) == expected(bodies)


def test_another_process_writing_meanwhile_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    threads_bodies = stream("thread", 500, seed=2, parity=0)
    process_bodies = stream("process", 300, seed=3, parity=1)  # same learners, other times
    child = start_child(path, "process", 300, 3, 1, "wait")
    assert child.stdin is not None

    def go() -> None:  # the child starts writing as the threads are released
        child.stdin.write("go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]

    errors = in_threads(thread_work(path, threads_bodies), before_start=go)
    out, err = child.communicate(timeout=WAIT)

    assert errors == []
    assert child.returncode == 0, err
    assert "locked" not in err
    assert err == ""
    assert out.split()[-1] == "300"
    with TrainingLedger(path) as ledger:
        assert ledger.event_count() == 800
        assert view(ledger) == expected(threads_bodies + process_bodies)


def record_until_killed(path: Path, count: int, kill_after: int | None) -> int:
    """Record the stream in a child; ``SIGKILL`` it once it said ``kill_after`` events."""
    child = start_child(path, "kill", count, 4, 0)
    assert child.stdout is not None
    said = 0
    for line in child.stdout:
        said = int(line)
        if kill_after is not None and said >= kill_after:
            os.kill(child.pid, signal.SIGKILL)  # lands wherever the child is by now
            break
    child.communicate(timeout=WAIT)
    assert child.returncode == (-signal.SIGKILL if kill_after is not None else 0)
    return said


def test_a_killed_recorder_rerun_on_the_same_stream_ends_as_a_clean_run(
        tmp_path: Path) -> None:
    count = 1500
    bodies = stream("kill", count, seed=4)
    path = tmp_path / "killed.sqlite"

    first = record_until_killed(path, count, kill_after=300)
    after_first = stored_ids(path)  # the database opens, whole, after the kill
    assert first <= len(after_first) < count  # every event said recorded was committed
    second = record_until_killed(path, count, kill_after=900)  # the first part redelivered
    assert second <= len(stored_ids(path)) < count
    assert record_until_killed(path, count, kill_after=None) == count

    clean = tmp_path / "clean.sqlite"
    with TrainingLedger(clean) as ledger:
        for body in bodies:
            ledger.record(parse(body))
        clean_view = view(ledger)
    assert sorted(stored_ids(path)) == sorted(stored_ids(clean))  # every event once
    with TrainingLedger(path) as ledger:
        assert ledger.event_count() == count
        assert view(ledger) == clean_view == expected(bodies)


def test_twenty_threads_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    # SQLite answers "database is locked" at once, without waiting, to all but one of the
    # connections that switch a new file to WAL together; the opening must retry. Without
    # the retry, about one run of this test in three failed; the next test pins the retry.
    for round_ in range(25):
        path = tmp_path / f"new-{round_}.sqlite"

        def work(_: int, path: Path = path) -> None:
            TrainingLedger(path).close()

        assert in_threads(work) == []
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


class LockedThenFree:
    """A cursor whose ``PRAGMA journal_mode = WAL`` is refused ``times`` times first."""

    def __init__(self, times: int, message: str = "database is locked") -> None:
        self.times, self.message, self.calls = times, message, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise sqlite3.OperationalError(self.message)


def test_switching_to_wal_retries_a_locked_file_then_gives_up() -> None:
    from lucca_cards.state.database import BUSY_TIMEOUT_MS, _switch_to_wal

    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    cursor = LockedThenFree(times=5)
    _switch_to_wal(cursor, sleep=sleep, clock=lambda: now[0])
    assert cursor.calls == 6 and waits == [0.005, 0.01, 0.02, 0.04, 0.08]
    forever = LockedThenFree(times=10**9)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _switch_to_wal(forever, sleep=sleep, clock=lambda: now[0])
    assert BUSY_TIMEOUT_MS / 1000 <= sum(waits) < BUSY_TIMEOUT_MS / 1000 + 1
    other = LockedThenFree(times=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        _switch_to_wal(other, sleep=sleep, clock=lambda: now[0])
    assert other.calls == 1


def test_threads_opening_different_databases_at_once_migrate_each(tmp_path: Path) -> None:
    # Alembic's operations are global to the process: two migrations at once, even of two
    # databases, ran each other's steps (tables missing, "already exists", crashes).
    for round_ in range(5):
        paths = [tmp_path / f"round-{round_}-{n}.sqlite" for n in range(THREADS)]

        def work(index: int, paths: list[Path] = paths) -> None:
            with TrainingLedger(paths[index]) as ledger, \
                    TrainingLedger(":memory:") as memory:
                assert ledger.event_count() == memory.event_count() == 0

        assert in_threads(work) == []
        for path in paths:
            with sqlite3.connect(path) as raw:
                tables = {row[0] for row in raw.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert {"links", "cards_events", "training_states", "lucca_cards_version",
                    "lucca_events"} <= tables


# -- the Lucca events inbox: receiver threads storing while a worker marks -----------------

LUCCA = "https://acme.ilucca.net"


def store_event(inbox: LuccaInbox, event_id: str, minute: int) -> bool:
    return inbox.store(source=LUCCA, event_id=event_id, topic="employee.created",
                       occurred_at=START + timedelta(minutes=minute), employee_id=event_id,
                       payload="{}")


def test_twenty_threads_storing_the_same_events_store_each_once(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite"  # not created yet: the threads race to migrate it
    stored: list[str] = []  # list.append is atomic: the events each thread was first with

    def work(index: int) -> None:
        with LuccaInbox(path) as inbox:
            for number in [*range(50), *range(index, 50, THREADS)]:  # all, then some again
                if store_event(inbox, f"e{number}", number):
                    stored.append(f"e{number}")

    assert in_threads(work) == []
    assert sorted(stored) == sorted(f"e{n}" for n in range(50))  # True once per event
    with LuccaInbox(path) as inbox:
        assert inbox.counts()["pending"] == 50
        assert [e.event_id for e in inbox.due()] == [f"e{n}" for n in range(50)]


def test_threads_sharing_a_memory_inbox_store_each_event_once() -> None:
    with LuccaInbox(":memory:") as shared:
        first: list[bool] = []

        def work(_: int) -> None:
            first.append(store_event(shared, "same", 0))

        assert in_threads(work) == []
        assert first.count(True) == 1
        assert shared.counts()["pending"] == 1


def test_a_worker_marks_while_threads_store(tmp_path: Path) -> None:
    # The receiver's threads keep storing while the worker reads what is due and marks it:
    # every event ends applied exactly once, none lost between a read and a mark.
    path = tmp_path / "inbox.sqlite"
    LuccaInbox(path).close()
    applied: list[str] = []
    done = threading.Event()

    def worker() -> None:
        with LuccaInbox(path) as inbox:
            while True:
                finished = done.is_set()  # read before due(): nothing stored after it
                due = inbox.due(limit=37)
                inbox.applied(event.key for event in due)
                applied.extend(event.event_id for event in due)
                if finished and not due:
                    return

    marking = threading.Thread(target=worker)
    marking.start()

    def work(index: int) -> None:
        with LuccaInbox(path) as inbox:
            for number in range(index, 400, THREADS):
                store_event(inbox, f"e{number}", number)
                store_event(inbox, f"e{number}", number)  # a redelivery

    errors = in_threads(work)
    done.set()
    marking.join(WAIT)
    assert errors == [] and not marking.is_alive()
    assert sorted(applied) == sorted(f"e{n}" for n in range(400))  # each once
    with LuccaInbox(path) as inbox:
        assert inbox.counts() == {"pending": 0, "failed": 0, "held": 0, "applied": 400}
