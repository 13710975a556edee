"""Kill an importer running in its own process, with a real ``SIGKILL``, where a seed says.

The child (:data:`IMPORTER`) runs ``UserImporter`` or ``DepartmentImporter`` against a
served sandbox, with its links in a SQLite file, and halts at two kinds of points: just
after Cards answered one of its writes (``write``: the change is made, the importer has not
recorded it yet) and just after an item is done (``item``). There it prints the point and
waits for ``go`` on its standard input; the test answers ``go``, or kills it. So each kill
lands exactly where it was drawn, and nothing waits on a clock.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
#: Where a kill may land.
POINTS = ("write", "item")

IMPORTER = textwrap.dedent("""
    import json, sys
    import requests
    sys.path.insert(0, sys.argv[1])
    from sync_support import settings_from_line
    from lucca_cards import (CardsClient, DepartmentImporter, LinkStore, LuccaOAuthClient,
                             RateLimiter, UserImporter)

    def halt(point):
        print(point, flush=True)
        if sys.stdin.readline() != "go\\n":
            raise SystemExit(3)

    def answered(response, *args, **kwargs):
        if response.request.method in ("POST", "PUT"):
            halt("write")

    settings = settings_from_line(json.loads(sys.stdin.readline()))
    importer = {"users": UserImporter, "departments": DepartmentImporter}[sys.argv[2]]
    session = requests.Session()
    session.hooks["response"].append(answered)
    with LuccaOAuthClient.from_settings(settings, rate_limiter=RateLimiter(0)) as lucca, \\
            CardsClient.from_settings(settings, rate_limiter=RateLimiter(0),
                                      session=session) as cards, \\
            LinkStore(sys.argv[3]) as links:
        importer(lucca, cards, links=links).run(progress=lambda done, total: halt("item"))
    print("done", flush=True)
""")


@dataclass(frozen=True)
class KillPoint:
    """Kill at the first ``where`` point once Cards has answered ``writes`` writes."""

    writes: int
    where: str


@dataclass(frozen=True)
class Killed:
    """How a child ended: its exit status (``-9``: killed) and the writes it saw answered."""

    status: int
    writes: int
    errors: str


def kill_points(seed: int, count: int, most: int = 8) -> list[KillPoint]:
    """Draw ``count`` kill points, each after 1 to ``most`` writes, from ``seed``."""
    draw = random.Random(seed)
    return [KillPoint(draw.randint(1, most), draw.choice(POINTS)) for _ in range(count)]


def run_until_killed(point: KillPoint, line: str, kind: str, links: Path, *,
                     script: str = IMPORTER) -> Killed:
    """Run the ``kind`` import on the sandbox of ``line``; ``SIGKILL`` it at ``point``.

    ``script`` replaces the importer by another child speaking the same protocol (its
    arguments: the tests folder, ``kind``, then the state file).
    """
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(  # noqa: S603 - this interpreter, our inline script
            [sys.executable, "-c", script, str(TESTS), kind, str(links)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert child.stdin is not None
        assert child.stdout is not None
        writes, finished = 0, False
        try:
            child.stdin.write(line)
            child.stdin.flush()
            for event in child.stdout:
                writes += event == "write\n"
                if writes >= point.writes and event == f"{point.where}\n":
                    child.send_signal(signal.SIGKILL)  # it is waiting: the kill lands here
                    break
                child.stdin.write("go\n")
                child.stdin.flush()
            finished = True
        except BrokenPipeError:  # the child ended by itself: its status and errors tell
            finished = True
        finally:
            if not finished:
                child.kill()  # the test failed on its side: leave no child behind
            child.wait(timeout=30)
            child.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()
        errors.seek(0)
        return Killed(child.returncode, writes, errors.read())
