"""The statistics publish under faults and real ``SIGKILL``s: a rerun always converges.

Converged means: every learner's file holds exactly what a clean publish writes (computed
from the fake Cards and the ledger), one occurrence per title, and the other files hold
nothing. Faults hit 10 % of the legacy API's and Cards' requests (every kind); retries
wait on a :class:`FakeClock`. Kills: the publisher runs in its own process, halts after
each ``PUT`` the sandbox answered, and the test kills it with ``SIGKILL`` at a seeded
write, then reruns it in process.
"""

from __future__ import annotations

import dataclasses
import json
import random
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from conftest import FakeClock
from lucca_cards import LuccaCardsError, SyncReport, Timeout, TrainingLedger
from lucca_cards.lucca.training_records import read_training_records
from lucca_cards.sandbox import Faults, Sandbox
from stats_support import (
    database,
    expected,
    feed,
    files,
    import_everyone,
    legacy_writes,
    publisher,
    stats_sandbox,
)

TESTS = Path(__file__).resolve().parent.parent
TEN_PERCENT = Faults.spread(0.1, delay=1.0)

PUBLISHER = textwrap.dedent("""
    import json, sys
    import requests
    sys.path.insert(0, sys.argv[1])
    from sync_support import settings_from_line
    from lucca_cards import (CardsClient, LuccaLegacyApiClient, RateLimiter, StatsPublisher,
                             TrainingLedger)

    def answered(response, *args, **kwargs):
        if response.request.method == "PUT":
            print("write", flush=True)
            if sys.stdin.readline() != "go\\n":
                raise SystemExit(3)

    info = json.loads(sys.stdin.readline())
    settings = settings_from_line(info, lucca_api_key=info["api_key"])
    session = requests.Session()
    session.hooks["response"].append(answered)
    with LuccaLegacyApiClient.from_settings(settings, rate_limiter=RateLimiter(0),
                                            session=session) as legacy, \\
            CardsClient.from_settings(settings, rate_limiter=RateLimiter(0)) as cards, \\
            TrainingLedger(sys.argv[2]) as ledger:
        StatsPublisher(legacy, cards, ledger).run()
    print("done", flush=True)
""")


def converged(box: Sandbox, ledger: TrainingLedger) -> None:
    want = expected(box, ledger)
    got = files(box)
    assert {user: got[user] for user in want} == want
    assert all(not records for user, records in got.items() if user not in want)
    for employee in box.company.lucca.employees.values():
        titles = Counter(s.record.title for s in read_training_records(employee.extended_data))
        assert all(count == 1 for count in titles.values())


def until_clean(run: object, attempts: int = 10) -> list[SyncReport | None]:
    history: list[SyncReport | None] = []
    for _ in range(attempts):
        try:
            report = run()  # type: ignore[operator]
        except LuccaCardsError:  # a read gave up after its retries: run again
            history.append(None)
            continue
        history.append(report)
        if report.ok:
            return history
    pytest.fail(f"no clean publish in {attempts} attempts: {history}")


@pytest.mark.parametrize("seed", [3, 11])
def test_ten_percent_faults_while_publishing_then_a_clean_rerun(
        seed: int, tmp_path: Path, clock: FakeClock) -> None:
    faults = {api: dataclasses.replace(TEN_PERCENT, seed=seed + n)
              for n, api in enumerate(("legacy", "cards"))}
    with stats_sandbox() as box, TrainingLedger(database(tmp_path)) as ledger:
        import_everyone(box)
        feed(box, ledger, learners=60)
        box.lucca.log.clear()
        box.cards.log.clear()
        for api, fault in faults.items():
            box.set_faults(api, fault)
        history = _publish_under(box, ledger, clock)
        struck = [e for e in box.lucca.log.entries() + box.cards.log.entries()
                  if e["status"] != 200]
        assert len(struck) >= 3, "the faults struck"
        for api in faults:
            box.set_faults(api, None)
        box.lucca.log.clear()
        with publisher(box, ledger) as stats:
            final = stats.run()
        converged(box, ledger)
        assert final.ok and final.writes == 0, "the last faulted run had converged"
        assert history[-1] is not None and history[-1].ok


def _publish_under(box: Sandbox, ledger: TrainingLedger, clock: FakeClock
                   ) -> list[SyncReport | None]:
    from lucca_cards import CardsClient, LuccaLegacyApiClient, RateLimiter, StatsPublisher

    settings = box.settings()
    options = {"rate_limiter": RateLimiter(0), "clock": clock, "sleep": clock.sleep,
               "timeout": Timeout(connect=1, read=0.3)}
    with LuccaLegacyApiClient.from_settings(settings, **options) as legacy, \
            CardsClient.from_settings(settings, **options) as cards:
        return until_clean(StatsPublisher(legacy, cards, ledger).run)


def kill_after(box: Sandbox, ledger_path: str, writes: int) -> int:
    """Run the publisher in a child; ``SIGKILL`` it after ``writes`` answered PUTs."""
    child = subprocess.Popen(  # noqa: S603 - this interpreter, our inline script
        [sys.executable, "-c", PUBLISHER, str(TESTS), ledger_path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdin is not None and child.stdout is not None
    seen = 0
    try:
        child.stdin.write(json.dumps(box.connection_info()) + "\n")
        child.stdin.flush()
        for line in child.stdout:
            seen += line == "write\n"
            if seen >= writes:
                child.send_signal(signal.SIGKILL)
                break
            child.stdin.write("go\n")
            child.stdin.flush()
    finally:
        if child.poll() is None and seen < writes:
            child.kill()
        child.wait(timeout=30)
        child.stdout.close()
        child.stdin.close()
    return child.returncode


@pytest.mark.parametrize("seed", range(3))
def test_a_sigkill_mid_publish_then_a_rerun_converges(seed: int, tmp_path: Path) -> None:
    path = database(tmp_path)
    with stats_sandbox() as box, TrainingLedger(path) as ledger:
        import_everyone(box)
        feed(box, ledger, learners=30, seed=seed)
        total = len(expected(box, ledger))
        point = random.Random(seed).randint(1, total - 1)
        assert kill_after(box, path, point) == -signal.SIGKILL
        assert len(legacy_writes(box)) == point
        box.lucca.log.clear()
        with publisher(box, ledger) as stats:
            report = stats.run()
        assert report.ok and len(legacy_writes(box)) == total - point
        converged(box, ledger)
